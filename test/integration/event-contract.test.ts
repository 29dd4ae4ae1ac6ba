/**
 * The local stack keeps the published contract: every envelope it puts on payment-events.fifo
 * during a short flow (a card created, confirmed and cancelled; a virtual account and its deposit)
 * passes schemas/payment-event.schema.json, its message attributes pass docs/asyncapi.yaml (the
 * optional `traceparent` among them: every event of the flow carries one, and the card's, made under
 * the caller's `traceparent` header, continue the caller's trace as docs/openapi.yaml says), and
 * every API answer of the flow (errors included) is one docs/openapi.yaml documents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../lambdas/domain/payment';
import { parseTraceparent, TRACEPARENT } from '../../lambdas/domain/trace-context';
import { callApi, PAYMENT_EVENTS_QUEUE, receiveMessages, startTestStack, type ApiResponse, type LocalStack } from '../support/local-stack-harness';
import { eventSchemaValidator, loadOpenApiValidator, messageAttributesValidator, problems, type OpenApiValidator } from '../support/contract-validators';
import { deposit, newOrderId } from '../support/payment-api-client';

let stack: LocalStack;
let api: OpenApiValidator;
beforeAll(async () => {
  [stack, api] = await Promise.all([startTestStack({ consumers: false }), loadOpenApiValidator()]);
});
afterAll(() => stack?.stop());

/** Every API answer of the test, with what docs/openapi.yaml says about it. */
const mismatches: string[] = [];
let answers = 0;

function record(method: string, path: string, response: ApiResponse): ApiResponse {
  answers += 1;
  mismatches.push(...api.check({ method, path, status: response.status, headers: response.headers, body: response.body }));
  return response;
}

async function call(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
  return record(method, path, await callApi(stack, method, path, options));
}

describe('the local stack keeps the published contract', () => {
  it('publishes only envelopes the JSON Schema accepts, and answers only as the OpenAPI document says', async () => {
    // The card's calls are made as a traced caller would (docs/openapi.yaml's traceparent parameter).
    const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerTraceparent = `00-${callerTraceId}-00f067aa0ba902b7-01`;
    const traced = { [TRACEPARENT]: callerTraceparent };
    const card = await call('POST', '/payments', {
      body: { orderId: newOrderId(), amount: 15_000, currency: 'KRW', method: 'CARD' },
      headers: { 'Idempotency-Key': `contract-${Date.now()}`, ...traced },
    });
    expect(card.status, card.text).toBe(201);
    const cardId = (card.body as Payment).paymentId;
    expect((await call('POST', `/payments/${cardId}/confirm`, { body: { cardToken: 'tok_visa' }, headers: traced })).status).toBe(200);
    expect((await call('POST', `/payments/${cardId}/cancel`, { body: { reason: 'customer request' }, headers: traced })).status).toBe(200);

    const account = await call('POST', '/payments', { body: { orderId: newOrderId(), amount: 30_000, currency: 'KRW', method: 'VIRTUAL_ACCOUNT' } });
    expect(account.status, account.text).toBe(201);
    const accountPayment = account.body as Payment;
    expect(record('POST', '/pg/webhooks/deposits', await deposit(stack, accountPayment)).status).toBe(200);

    // Reads and refusals are answers too.
    expect((await call('GET', `/payments/${cardId}`)).status).toBe(200);
    expect((await call('GET', `/payments/${cardId}/events`)).status).toBe(200);
    expect((await call('GET', `/payments/${accountPayment.paymentId}/deliveries`)).status).toBe(200);
    expect((await call('GET', '/payments/no-such-payment')).status).toBe(404);
    expect((await call('POST', '/payments', { body: { orderId: newOrderId(), amount: -1, currency: 'KRW', method: 'CARD' } })).status).toBe(400);
    expect((await call('POST', `/payments/${accountPayment.paymentId}/confirm`, { body: { cardToken: 'tok_visa' } })).status).toBe(409);
    expect(record('POST', '/pg/webhooks/deposits', await deposit(stack, accountPayment, { secret: 'not-the-secret' })).status).toBe(401);

    expect(answers).toBe(12);
    expect(mismatches).toEqual([]);

    // card: created, approved, cancelled; virtual account: created, approved.
    const messages = await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 5, timeoutMs: 20_000 });
    const validateEnvelope = eventSchemaValidator();
    const validateAttributes = messageAttributesValidator();
    const envelopes = messages.map((message) => JSON.parse(message.Body ?? '') as { type: string; aggregateId: string });
    for (const [index, message] of messages.entries()) {
      expect(validateEnvelope(envelopes[index]), `${message.Body}: ${problems(validateEnvelope).join('; ')}`).toBe(true);
      const attributes = Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]));
      // Every change of the flow is made under an API call's trace, so the documented attribute is validated on each.
      expect(Object.keys(attributes), message.Body).toContain(TRACEPARENT);
      expect(validateAttributes(attributes), `${JSON.stringify(attributes)}: ${problems(validateAttributes).join('; ')}`).toBe(true);
      const trace = parseTraceparent(attributes[TRACEPARENT]);
      if (envelopes[index]!.aggregateId === cardId) {
        // The caller's trace, continued by a span of the API's own.
        expect(trace, message.Body).toMatchObject({ traceId: callerTraceId, sampled: true });
        expect(attributes[TRACEPARENT]).not.toBe(callerTraceparent);
      } else {
        expect(trace?.traceId, message.Body).not.toBe(callerTraceId);
      }
    }
    expect(envelopes.map((envelope) => `${envelope.aggregateId === cardId ? 'card' : 'account'} ${envelope.type}`).sort()).toEqual([
      'account payment.approved',
      'account payment.created',
      'card payment.approved',
      'card payment.cancelled',
      'card payment.created',
    ]);
  });
});
