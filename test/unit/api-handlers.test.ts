import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactGetCommand, TransactWriteCommand, type TransactGetCommandInput } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { confirmPayment } from '../../lambdas/functions/confirm-payment/confirm-payment';
import { createPayment } from '../../lambdas/functions/create-payment/create-payment';
import { getPayment } from '../../lambdas/functions/get-payment/get-payment';
import { listPaymentEvents } from '../../lambdas/functions/list-payment-events/list-payment-events';
import { signPgBody } from '../../lambdas/functions/pg-deposit-callback/pg-callback-signature';
import { pgDepositCallback } from '../../lambdas/functions/pg-deposit-callback/pg-deposit-callback';
import type { ApiHandler } from '../../lambdas/http-api/api-handler';
import type { LambdaFunction } from '../../lambdas/platform/function-runtime';
import { ConfigurationError } from '../../lambdas/platform/required-env';
import { apiEvent, lambdaContext } from '../support/api-events';
import { testRuntime } from '../support/function-runtime';

const SECRET = 'unit-test-secret';
/** The API functions' environment: each reads its configuration from it, as its Lambda entry does. */
const ENVIRONMENT = {
  PAYMENTS_TABLE_NAME: 'Payments',
  OUTBOX_TABLE_NAME: 'Outbox',
  IDEMPOTENCY_TABLE_NAME: 'Idempotency',
  PG_ATTEMPTS_TABLE_NAME: 'PgAttempts',
  PG_CALLBACK_SECRET: SECRET,
};

const dynamo = mockClient(DynamoDBDocumentClient);
let handlers: Record<string, ApiHandler> = {};

beforeEach(() => {
  const runtime = testRuntime();
  const build = <Config>(fn: LambdaFunction<Config, ApiHandler>) => fn.createHandler(fn.configFromEnv(ENVIRONMENT), runtime);
  handlers = {
    'create-payment': build(createPayment),
    'confirm-payment': build(confirmPayment),
    'get-payment': build(getPayment),
    'list-payment-events': build(listPaymentEvents),
    'pg-deposit-callback': build(pgDepositCallback),
  };
  dynamo.reset();
  dynamo.on(TransactWriteCommand).resolves({});
  dynamo.on(GetCommand).resolves({});
  dynamo.on(TransactGetCommand).resolves({});
});

/** Stored items by table, answered to a GetItem of the table and to its Get in a TransactGetItems (a change's one read). */
function stored(items: Readonly<Record<string, Record<string, unknown>>>) {
  for (const [TableName, Item] of Object.entries(items)) dynamo.on(GetCommand, { TableName }).resolves({ Item });
  dynamo.on(TransactGetCommand).callsFake((input: TransactGetCommandInput) => ({
    Responses: (input.TransactItems ?? []).map((item) => ({ Item: items[item.Get?.TableName ?? ''] })),
  }));
}

async function call(name: string, event: APIGatewayProxyEvent) {
  const handler = handlers[name];
  if (!handler) throw new Error(`no handler ${name}`);
  const response = await handler(event, lambdaContext as unknown as Context);
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, any>, headers: response.headers };
}

const createBody = { orderId: 'order-1', amount: 15000, currency: 'KRW', method: 'CARD' };
const waiting = {
  paymentId: 'pay-va',
  orderId: 'o',
  amount: 15000,
  currency: 'KRW',
  method: 'VIRTUAL_ACCOUNT',
  status: 'WAITING_FOR_DEPOSIT',
  version: 1,
  createdAt: '2026-11-25T00:00:00.000Z',
  updatedAt: '2026-11-25T00:00:00.000Z',
};

describe('POST /payments', () => {
  it('answers 201 with the payment after one transaction', async () => {
    const { status, body } = await call('create-payment', apiEvent({ body: JSON.stringify(createBody) }));
    expect(status).toBe(201);
    expect(body).toMatchObject({ ...createBody, status: 'READY', version: 1 });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it.each([
    ['malformed JSON', '{"orderId": ', 'body'],
    ['an empty body', '', 'body'],
    ['a missing field', JSON.stringify({ ...createBody, amount: undefined }), 'amount'],
    ['a fractional amount', JSON.stringify({ ...createBody, amount: 1.5 }), 'amount'],
    ['an unknown method', JSON.stringify({ ...createBody, method: 'BITCOIN' }), 'method'],
    ['an unknown field', JSON.stringify({ ...createBody, discount: 10 }), 'discount'],
  ])('answers 400 VALIDATION_ERROR for %s, naming %s, and writes nothing', async (_case, body, field) => {
    const response = await call('create-payment', apiEvent({ body }));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.message).toMatch(new RegExp(`^${field}`));
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 413 PAYLOAD_TOO_LARGE above 64 KB and writes nothing', async () => {
    const body = JSON.stringify({ ...createBody, orderId: 'x'.repeat(70 * 1024) });
    const response = await call('create-payment', apiEvent({ body }));
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 400 for an Idempotency-Key that is not printable ASCII', async () => {
    const response = await call('create-payment', apiEvent({ body: JSON.stringify(createBody), headers: { 'idempotency-key': 'has space' } }));
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/^Idempotency-Key/);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED when the key was used for another body', async () => {
    dynamo.on(GetCommand, { TableName: 'Idempotency' }).resolves({ Item: { key: 'api:k1', requestHash: 'other', response: waiting, statusCode: 201 } });
    const response = await call('create-payment', apiEvent({ body: JSON.stringify(createBody), headers: { 'Idempotency-Key': 'k1' } }));
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 500 INTERNAL_ERROR without leaking the cause when DynamoDB fails', async () => {
    dynamo.on(TransactWriteCommand).rejects(new Error('socket hang up at 10.0.0.12'));
    const response = await call('create-payment', apiEvent({ body: JSON.stringify(createBody) }));
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(response.body)).not.toContain('10.0.0.12');
  });
});

describe('payment routes with an id', () => {
  it('answers 404 PAYMENT_NOT_FOUND for an unknown payment', async () => {
    const response = await call('get-payment', apiEvent({ method: 'GET', pathParameters: { paymentId: 'nope' } }));
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('PAYMENT_NOT_FOUND');
  });

  it('answers 400 for a malformed payment id', async () => {
    const response = await call('get-payment', apiEvent({ method: 'GET', pathParameters: { paymentId: 'a b' } }));
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/^paymentId/);
  });

  it('lists events in sequence order', async () => {
    dynamo.on(GetCommand, { TableName: 'Payments' }).resolves({ Item: waiting });
    dynamo.on(QueryCommand).resolves({
      Items: [
        { eventId: 'e1', type: 'payment.created', aggregateType: 'payment', aggregateId: 'pay-va', sequence: 1, occurredAt: waiting.createdAt, schemaVersion: 1, data: waiting, expiresAt: 1 },
      ],
    });
    const response = await call('list-payment-events', apiEvent({ method: 'GET', pathParameters: { paymentId: 'pay-va' } }));
    expect(response.status).toBe(200);
    expect(response.body.events).toEqual([expect.objectContaining({ eventId: 'e1', sequence: 1 })]);
    expect(response.body.events[0]).not.toHaveProperty('expiresAt');
  });

  it('answers 409 INVALID_STATE_TRANSITION when confirming a virtual-account payment', async () => {
    stored({ Payments: waiting });
    const response = await call('confirm-payment', apiEvent({ pathParameters: { paymentId: 'pay-va' }, body: '{"cardToken":"tok"}' }));
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('INVALID_STATE_TRANSITION');
  });
});

describe('POST /pg/webhooks/deposits', () => {
  const deposit = JSON.stringify({ pgTransactionId: 'pg-1', paymentId: 'pay-va', amount: 15000, depositedAt: '2026-11-25T11:00:00+09:00' });
  const signed = (body: string, secret = SECRET) => apiEvent({ body, headers: { 'X-PG-Signature': signPgBody(body, secret) } });

  it('approves the payment on a correctly signed notice', async () => {
    stored({ Payments: waiting });
    const response = await call('pg-deposit-callback', signed(deposit));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'APPROVED', version: 2, pgTransactionId: 'pg-1' });
    expect(dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems).toHaveLength(3);
  });

  it.each([
    ['no signature', apiEvent({ body: deposit })],
    ['a signature under another secret', signed(deposit, 'wrong')],
    ['a body changed after signing', apiEvent({ body: deposit.replace('15000', '15001'), headers: { 'X-PG-Signature': signPgBody(deposit, SECRET) } })],
  ])('answers 401 INVALID_SIGNATURE for %s and writes nothing', async (_case, event) => {
    const response = await call('pg-deposit-callback', event);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('INVALID_SIGNATURE');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 422 AMOUNT_MISMATCH for a deposit of another amount and writes nothing', async () => {
    stored({ Payments: waiting });
    const response = await call('pg-deposit-callback', signed(deposit.replace('15000', '14000')));
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('AMOUNT_MISMATCH');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers a resend of a recorded transaction with 200 and writes nothing', async () => {
    const { requestFingerprint } = await import('../../lambdas/use-cases/request-fingerprint');
    const record = {
      key: 'pg:deposit:pg-1',
      requestHash: requestFingerprint('deposit', JSON.parse(deposit)),
      statusCode: 200,
      response: { ...waiting, status: 'APPROVED', version: 2 },
    };
    stored({ Idempotency: record });
    const response = await call('pg-deposit-callback', signed(deposit));
    expect(response.status).toBe(200);
    expect(response.headers?.['Idempotent-Replayed']).toBe('true');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

describe('pg-deposit-callback configuration', () => {
  const { PG_CALLBACK_SECRET: _inline, ...deployed } = ENVIRONMENT;
  const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:pg-webhook-AbCdEf';

  it('takes the HMAC key from PG_CALLBACK_SECRET (local mode) or the secret PG_CALLBACK_SECRET_ARN names', () => {
    expect(pgDepositCallback.configFromEnv(ENVIRONMENT).signingSecret).toEqual({ value: SECRET });
    expect(pgDepositCallback.configFromEnv({ ...deployed, PG_CALLBACK_SECRET_ARN: ARN }).signingSecret).toEqual({ arn: ARN });
  });

  it('refuses, when the configuration is read, an environment with neither PG_CALLBACK_SECRET nor PG_CALLBACK_SECRET_ARN', () => {
    expect(() => pgDepositCallback.configFromEnv(deployed)).toThrow(ConfigurationError);
    expect(() => pgDepositCallback.configFromEnv(deployed)).toThrow(
      'Environment variable PG_CALLBACK_SECRET_ARN is required (or PG_CALLBACK_SECRET for local use)',
    );
  });
});
