/**
 * The contract documents are valid documents of their specifications, and describe what the code
 * produces: envelopes built by the domain for every event type pass the JSON Schema (and the
 * consumers' parser agrees with it), domain-built API answers pass the OpenAPI document.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFile, Parser } from '@asyncapi/parser';
import { validate as validateOpenApi } from '@readme/openapi-parser';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventMessageAttributes } from '../../lambdas/adapters/event-message';
import type * as EventMessage from '../../lambdas/adapters/event-message';
import { WEBHOOK_USER_AGENT } from '../../lambdas/adapters/http-webhook-client';
import { InvalidEnvelopeError, parseEnvelope } from '../../lambdas/domain/consumer-rules';
import { PAYMENT_EVENT_TYPES, type EventEnvelope } from '../../lambdas/domain/event-envelope';
import { cancelPayment, confirmPayment, createPayment, recordDeposit, type PaymentChange } from '../../lambdas/domain/payment';
import { childTraceContext, formatTraceparent, parseTraceparent, TRACEPARENT } from '../../lambdas/domain/trace-context';
import { signedWebhookHeaders } from '../../lambdas/domain/webhook-signature';
import { errorResponse, STATUS_BY_CODE } from '../../lambdas/http-api/error-mapper';
import { documentedRoutes } from '../../tools/schemas/openapi';
import {
  ASYNCAPI_FILE,
  EVENT_SCHEMA_FILE,
  eventSchemaValidator,
  loadOpenApiValidator,
  messageAttributesValidator,
  newAjv,
  OPENAPI_FILE,
  problems,
  type OpenApiValidator,
} from '../support/contract-validators';

const ctx = (n: number) => ({ now: `2026-12-02T00:00:0${n}.000Z`, eventId: `0b7f6c1e-4a8e-4c1b-9d2b-1f0e2d3c4b5${n}` });

/** Every transition of the domain, each change with the envelope it emits. */
function domainChanges(): PaymentChange[] {
  const card = createPayment({ paymentId: 'pay-card', orderId: 'order-1', amount: 15_000, currency: 'KRW', method: 'CARD' }, ctx(1));
  const approved = confirmPayment(card.payment, { approved: true, pgTransactionId: 'pg-1' }, ctx(2));
  const refunded = cancelPayment(approved.payment, 'customer request', ctx(3), { refundId: 'refund-1' });
  const declined = confirmPayment(
    createPayment({ paymentId: 'pay-declined', orderId: 'order-2', amount: 1999, currency: 'USD', method: 'EASY_PAY' }, ctx(4)).payment,
    { approved: false, reason: 'CARD_DECLINED' },
    ctx(5),
  );
  const account = createPayment(
    {
      paymentId: 'pay-va',
      orderId: 'order-3',
      amount: 30_000,
      currency: 'KRW',
      method: 'VIRTUAL_ACCOUNT',
      virtualAccount: { bank: 'SANDBOX_BANK', accountNumber: '000-111', dueAt: '2026-12-09T00:00:00.000Z' },
    },
    ctx(6),
  );
  const deposited = recordDeposit(account.payment, { pgTransactionId: 'pg-va', amount: 30_000, depositedAt: '2026-12-02T10:00:00+09:00' }, ctx(7));
  const unpaidCancel = cancelPayment(
    createPayment({ paymentId: 'pay-ready', orderId: 'order-4', amount: 500, currency: 'KRW', method: 'CARD' }, ctx(8)).payment,
    'changed my mind',
    ctx(9),
  );
  return [card, approved, refunded, declined, account, deposited, unpaidCancel];
}

/** Whether parseEnvelope accepts the body. */
function consumerAccepts(envelope: unknown): boolean {
  try {
    parseEnvelope(JSON.stringify(envelope));
    return true;
  } catch (error) {
    if (error instanceof InvalidEnvelopeError) return false;
    throw error;
  }
}

describe('schemas/payment-event.schema.json', () => {
  const validate = eventSchemaValidator();
  const envelopes = domainChanges().map((change) => change.event);

  it('accepts the envelope of every transition of the domain, every event type among them', () => {
    expect(new Set(envelopes.map((event) => event.type))).toEqual(new Set(PAYMENT_EVENT_TYPES));
    for (const envelope of envelopes) {
      expect(validate(envelope), `${envelope.type}: ${problems(validate).join('; ')}`).toBe(true);
      expect(consumerAccepts(envelope)).toBe(true);
    }
  });

  it('keeps objects open: a field added in a later version is accepted by the schema and by the consumers', () => {
    const [created] = envelopes as [EventEnvelope];
    const extended = { ...created, traceparent: '00-abc', data: { ...created.data, loyaltyPoints: 10 } };

    expect(validate(extended), problems(validate).join('; ')).toBe(true);
    expect(consumerAccepts(extended)).toBe(true);
  });

  it.each([
    ['an approval without approvedAt', (e: EventEnvelope[]) => ({ ...e[1]!, data: { ...e[1]!.data, approvedAt: undefined } })],
    ['a failure without failureReason', (e: EventEnvelope[]) => ({ ...e[3]!, data: { ...e[3]!.data, failureReason: undefined } })],
    ['a created event whose payment is APPROVED', (e: EventEnvelope[]) => ({ ...e[0]!, data: { ...e[0]!.data, status: 'APPROVED' } })],
    ['another schemaVersion', (e: EventEnvelope[]) => ({ ...e[0]!, schemaVersion: 2 })],
    ['an unknown event type', (e: EventEnvelope[]) => ({ ...e[0]!, type: 'payment.exploded' })],
    ['a string sequence', (e: EventEnvelope[]) => ({ ...e[0]!, sequence: '1' })],
    ['an amount with a fraction', (e: EventEnvelope[]) => ({ ...e[0]!, data: { ...e[0]!.data, amount: 1.5 } })],
    ['an occurredAt that is not a date-time', (e: EventEnvelope[]) => ({ ...e[0]!, occurredAt: 'yesterday' })],
  ])('rejects %s, as the consumers do', (_name, mutate) => {
    const invalid = JSON.parse(JSON.stringify(mutate(envelopes))) as unknown;

    expect(validate(invalid)).toBe(false);
    expect(consumerAccepts(invalid)).toBe(false);
  });

  it('names each event type\'s envelope under $defs, and nothing else is a top-level alternative', () => {
    const document = JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as { $schema: string; oneOf: { $ref: string }[] };

    expect(document.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(document.oneOf.map((alternative) => alternative.$ref)).toEqual([
      '#/$defs/PaymentCreatedEvent',
      '#/$defs/PaymentApprovedEvent',
      '#/$defs/PaymentFailedEvent',
      '#/$defs/PaymentCancelledEvent',
    ]);
  });
});

describe('docs/asyncapi.yaml', () => {
  const parser = new Parser();

  it('is a valid AsyncAPI 3.0 document whose payloads resolve to the event schema', async () => {
    const { document, diagnostics } = await fromFile(parser, ASYNCAPI_FILE).parse();
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0);

    expect(errors.map((error) => `${error.path.join('.')}: ${error.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    const payload = document?.messages().all().find((message) => message.id() === 'PaymentApproved')?.payload()?.json() as { required?: string[] };
    expect(payload.required).toEqual(expect.arrayContaining(['eventId', 'type', 'sequence', 'data']));
  });

  it('describes the headers the dispatcher signs a webhook request with, and the attributes the publisher sets', () => {
    const document = parse(readFileSync(ASYNCAPI_FILE, 'utf8')) as { components: { schemas: { WebhookHeaders: object } } };
    const validateHeaders = newAjv().compile(document.components.schemas.WebhookHeaders);
    const validateAttributes = messageAttributesValidator();
    const event = domainChanges()[1]!.event;
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')} ${Buffer.alloc(32, 9).toString('base64')}`;
    const headers = { 'User-Agent': WEBHOOK_USER_AGENT, ...signedWebhookHeaders({ event, body: JSON.stringify(event), secret, timestamp: 1_795_568_400 }) };
    const attributes = Object.fromEntries(Object.entries(eventMessageAttributes(event)).map(([name, value]) => [name, value.StringValue]));

    expect(validateHeaders(headers), problems(validateHeaders).join('; ')).toBe(true);
    expect(validateAttributes(attributes), problems(validateAttributes).join('; ')).toBe(true);
    expect(validateHeaders({ ...headers, 'webhook-signature': 'sha256=abc' })).toBe(false);
  });

  it('describes the optional traceparent attribute and webhook header: with it and without it valid, malformed refused', () => {
    const document = parse(readFileSync(ASYNCAPI_FILE, 'utf8')) as {
      components: { schemas: Record<'WebhookHeaders' | 'EventMessageAttributes', { required: string[]; properties: Record<string, { 'x-sqs-data-type'?: string }> }> };
    };
    const { EventMessageAttributes: attributeSchema, WebhookHeaders: headerSchema } = document.components.schemas;
    const validateHeaders = newAjv().compile(headerSchema);
    const validateAttributes = messageAttributesValidator();
    const event = domainChanges()[1]!.event;
    const messageTraceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const stringValues = (traceparent?: string) =>
      Object.fromEntries(Object.entries(eventMessageAttributes(event, traceparent)).map(([name, value]) => [name, value.StringValue]));
    // What the dispatcher sends: the message's trace, a span of its own.
    const requestTraceparent = formatTraceparent(childTraceContext(parseTraceparent(messageTraceparent)!, '53995c3f42cd8ad8'));
    const headers = signedWebhookHeaders({ event, body: JSON.stringify(event), secret: Buffer.alloc(32, 7).toString('base64'), timestamp: 1_795_568_400 });

    expect(attributeSchema.properties[TRACEPARENT]?.['x-sqs-data-type']).toBe('String');
    expect(attributeSchema.required).not.toContain(TRACEPARENT);
    expect(headerSchema.required).not.toContain(TRACEPARENT);
    expect(validateAttributes(stringValues(messageTraceparent)), problems(validateAttributes).join('; ')).toBe(true);
    expect(validateAttributes(stringValues()), problems(validateAttributes).join('; ')).toBe(true);
    expect(validateAttributes(stringValues('1-5759e988-bd862e3fe1be46a994272793'))).toBe(false);
    expect(validateHeaders({ ...headers, [TRACEPARENT]: requestTraceparent }), problems(validateHeaders).join('; ')).toBe(true);
    expect(validateHeaders(headers), problems(validateHeaders).join('; ')).toBe(true);
    expect(validateHeaders({ ...headers, [TRACEPARENT]: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331' })).toBe(false);
  });

  describe('generation', () => {
    afterEach(() => {
      vi.doUnmock('../../lambdas/adapters/event-message');
      vi.resetModules();
    });

    it('fails when the publisher sets an attribute the generator does not describe, the trace-only ones included', async () => {
      // A publisher that adds an attribute only beside a traceparent: the generator's sample must carry one to see it.
      vi.resetModules();
      vi.doMock('../../lambdas/adapters/event-message', async (importOriginal) => {
        const original = await importOriginal<typeof EventMessage>();
        return {
          ...original,
          eventMessageAttributes: (...args: Parameters<typeof original.eventMessageAttributes>) => ({
            ...original.eventMessageAttributes(...args),
            ...(args[1] !== undefined && { tracestate: { DataType: 'String', StringValue: 'vendor=1' } }),
          }),
        };
      });
      const { asyncApiDocument } = await import('../../tools/schemas/asyncapi');

      expect(() => asyncApiDocument()).toThrow('does not describe the message attribute tracestate');
    });
  });

  it('is refused by the parser when broken (the validation is not vacuous)', async () => {
    const broken = parse(readFileSync(ASYNCAPI_FILE, 'utf8')) as { operations: Record<string, { action: string }> };
    broken.operations.publishPaymentEvent!.action = 'publish';

    const { document, diagnostics } = await parser.parse(stringify(broken), { source: ASYNCAPI_FILE });

    expect(document).toBeUndefined();
    expect(diagnostics.some((diagnostic) => diagnostic.severity === 0 && diagnostic.path.join('.') === 'operations.publishPaymentEvent.action')).toBe(true);
  });
});

describe('docs/openapi.yaml', () => {
  let api: OpenApiValidator;
  beforeAll(async () => {
    api = await loadOpenApiValidator();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validateOpenApi(OPENAPI_FILE);

    expect(result).toMatchObject({ valid: true, specification: 'OpenAPI' });
    expect((parse(readFileSync(OPENAPI_FILE, 'utf8')) as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('is refused by the validator when broken (the validation is not vacuous)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    mkdirSync(join(dir, 'docs'));
    mkdirSync(join(dir, 'schemas'));
    writeFileSync(join(dir, 'schemas/payment-event.schema.json'), readFileSync(EVENT_SCHEMA_FILE));
    const broken = parse(readFileSync(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, { parameters?: unknown[] }>> };
    // Swagger 2's body parameter does not exist in OpenAPI 3.
    broken.paths['/payments']!.post!.parameters = [{ name: 'payment', in: 'body', schema: { type: 'object' } }];
    writeFileSync(join(dir, 'docs/openapi.yaml'), stringify(broken));

    const result = await validateOpenApi(join(dir, 'docs/openapi.yaml'));

    expect(result.valid).toBe(false);
  });

  it('documents every route of both PGs, and every error code of the error mapper on some route', () => {
    const document = parse(readFileSync(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, { 'x-route-id': string; responses: Record<string, unknown> }>> };
    const operations = Object.values(document.paths).flatMap((byMethod) => Object.values(byMethod));

    expect(operations.map((operation) => operation['x-route-id']).sort()).toEqual(documentedRoutes().map((route) => route.id).sort());
    expect(JSON.stringify(document)).toContain('"X-PG-Signature"');
    const text = readFileSync(OPENAPI_FILE, 'utf8');
    for (const code of Object.keys(STATUS_BY_CODE)) expect(text, code).toContain(`\`${code}\``);
  });

  it('takes an optional traceparent header on every route, without a pattern (a malformed one is ignored, never a 400)', () => {
    const document = parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
      paths: Record<string, Record<string, { operationId: string; parameters?: { $ref: string }[] }>>;
      components: { parameters: Record<string, { name: string; in: string; required: boolean; schema: { pattern?: string } }> };
    };
    const operations = Object.values(document.paths).flatMap((byMethod) => Object.values(byMethod));
    const parameter = document.components.parameters.TraceParent;

    expect(parameter).toMatchObject({ name: TRACEPARENT, in: 'header', required: false });
    expect(parameter?.schema.pattern).toBeUndefined();
    expect(operations.length).toBe(documentedRoutes().length);
    for (const operation of operations) {
      expect(operation.parameters?.map((p) => p.$ref), operation.operationId).toContain('#/components/parameters/TraceParent');
    }
  });

  it('accepts the answers the handlers build: a payment, the events, an error body; and refuses another shape', () => {
    const [card, approved] = domainChanges() as [PaymentChange, PaymentChange];
    const headers = new Headers();
    const notFound = errorResponse(404, 'PAYMENT_NOT_FOUND', 'Payment x does not exist');

    expect(api.check({ method: 'POST', path: '/payments', status: 201, headers, body: card.payment })).toEqual([]);
    expect(api.check({ method: 'POST', path: '/payments/pay-card/confirm', status: 200, headers, body: approved.payment })).toEqual([]);
    expect(api.check({ method: 'GET', path: '/payments/pay-card/events', status: 200, headers, body: { events: [card.event, approved.event] } })).toEqual([]);
    expect(api.check({ method: 'GET', path: '/payments/x', status: 404, headers, body: JSON.parse(notFound.body) })).toEqual([]);
    // A code this route does not answer with that status, a payment without its amount, an undocumented status.
    expect(api.check({ method: 'GET', path: '/payments/x', status: 404, headers, body: { error: { code: 'AMOUNT_MISMATCH', message: 'm' } } })).not.toEqual([]);
    expect(api.check({ method: 'GET', path: '/payments/pay-card', status: 200, headers, body: { ...card.payment, amount: undefined } })).not.toEqual([]);
    expect(api.check({ method: 'GET', path: '/payments/pay-card', status: 418, headers, body: {} })).not.toEqual([]);
  });

  it('requires Retry-After on a 503', () => {
    const body = { error: { code: 'PG_UNAVAILABLE', message: 'retry later' } };

    expect(api.check({ method: 'POST', path: '/payments/p/confirm', status: 503, headers: new Headers({ 'Retry-After': '2' }), body })).toEqual([]);
    expect(api.check({ method: 'POST', path: '/payments/p/confirm', status: 503, headers: new Headers(), body })).toEqual([
      'confirmPayment 503: required header Retry-After is missing',
    ]);
  });
});
