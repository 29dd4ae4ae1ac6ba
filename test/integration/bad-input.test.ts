/**
 * Bad input through the real HTTP API: each case gets its documented 4xx code, never a 500, and
 * leaves no new item in the Payments, Outbox or Idempotency tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../lambdas/domain/payment';
import { signPgBody } from '../../lambdas/functions/pg-deposit-callback/pg-callback-signature';
import { callApi, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { createPayment, deposit } from '../support/payment-api-client';

let stack: LocalStack;
let card: Payment;
let virtualAccount: Payment;
beforeAll(async () => {
  stack = await startTestStack({ consumers: false });
  card = await createPayment(stack, 'CARD');
  virtualAccount = await createPayment(stack, 'VIRTUAL_ACCOUNT');
});
afterAll(() => stack?.stop());

const valid = { orderId: 'order-bad-input', amount: 15000, currency: 'KRW', method: 'CARD' };

async function tableSizes() {
  const [payments, outbox, idempotency] = await Promise.all([
    stack.scanTable('Payments'),
    stack.scanTable('Outbox'),
    stack.scanTable('Idempotency'),
  ]);
  return { payments: payments.length, outbox: outbox.length, idempotency: idempotency.length };
}

async function expectRefused(response: Awaited<ReturnType<typeof callApi>>, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.body).toEqual({ error: { code, message: expect.any(String) } });
}

describe('POST /payments refuses bad input without writing', () => {
  it.each([
    ['malformed JSON', '{"orderId": "a",', 'body'],
    ['a JSON array', '[1,2]', 'body'],
    ['amount as a string', { ...valid, amount: '15000' }, 'amount'],
    ['a missing currency', { ...valid, currency: undefined }, 'currency'],
    ['an unknown method', { ...valid, method: 'CASH' }, 'method'],
    ['a negative amount', { ...valid, amount: -100 }, 'amount'],
    ['a fractional amount', { ...valid, amount: 100.5 }, 'amount'],
    ['an amount above 10^12', { ...valid, amount: 1e12 + 1 }, 'amount'],
    ['a lower-case currency', { ...valid, currency: 'krw' }, 'currency'],
    ['an unknown field', { ...valid, coupon: 'FREE' }, 'coupon'],
    ['an orderId with spaces', { ...valid, orderId: 'order 1' }, 'orderId'],
  ])('400 VALIDATION_ERROR for %s', async (_case, body, field) => {
    const before = await tableSizes();
    const response = await callApi(stack, 'POST', '/payments', { body });
    await expectRefused(response, 400, 'VALIDATION_ERROR');
    expect((response.body as { error: { message: string } }).error.message.startsWith(field)).toBe(true);
    expect(await tableSizes()).toEqual(before);
  });

  it('413 PAYLOAD_TOO_LARGE for a body over 64 KB', async () => {
    const before = await tableSizes();
    const response = await callApi(stack, 'POST', '/payments', { body: { ...valid, orderId: 'x'.repeat(100 * 1024) } });
    await expectRefused(response, 413, 'PAYLOAD_TOO_LARGE');
    expect(await tableSizes()).toEqual(before);
  });

  it('422 IDEMPOTENCY_KEY_REUSED for a key used with another body', async () => {
    const key = `bad-input-${Date.now()}`;
    await createPayment(stack, 'CARD', { idempotencyKey: key });
    const before = await tableSizes();
    const response = await callApi(stack, 'POST', '/payments', { body: { ...valid, amount: 1 }, headers: { 'Idempotency-Key': key } });
    await expectRefused(response, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await tableSizes()).toEqual(before);
  });
});

describe('payment routes refuse bad input without writing', () => {
  it('404 PAYMENT_NOT_FOUND for confirm of an unknown payment', async () => {
    const before = await tableSizes();
    await expectRefused(await callApi(stack, 'POST', '/payments/no-such-payment/confirm', { body: { cardToken: 'tok' } }), 404, 'PAYMENT_NOT_FOUND');
    expect(await tableSizes()).toEqual(before);
  });

  it('400 for confirm without a card token', async () => {
    await expectRefused(await callApi(stack, 'POST', `/payments/${card.paymentId}/confirm`, { body: {} }), 400, 'VALIDATION_ERROR');
  });

  it('409 INVALID_STATE_TRANSITION for confirming a virtual-account payment', async () => {
    const before = await tableSizes();
    const response = await callApi(stack, 'POST', `/payments/${virtualAccount.paymentId}/confirm`, { body: { cardToken: 'tok' } });
    await expectRefused(response, 409, 'INVALID_STATE_TRANSITION');
    expect(await tableSizes()).toEqual(before);
  });
});

describe('PG deposit callback refuses bad input without writing', () => {
  it('401 INVALID_SIGNATURE for a signature made with another secret', async () => {
    const before = await tableSizes();
    await expectRefused(await deposit(stack, virtualAccount, { secret: 'not-the-secret' }), 401, 'INVALID_SIGNATURE');
    expect(await tableSizes()).toEqual(before);
  });

  it('401 INVALID_SIGNATURE for a body changed after signing', async () => {
    const signed = JSON.stringify({ pgTransactionId: 'pg-x', paymentId: virtualAccount.paymentId, amount: 1, depositedAt: '2026-11-25T10:00:00Z' });
    const before = await tableSizes();
    const response = await callApi(stack, 'POST', '/pg/webhooks/deposits', {
      body: signed.replace('"amount":1', `"amount":${virtualAccount.amount}`),
      headers: { 'X-PG-Signature': signPgBody(signed, stack.endpoints.pgCallbackSecret) },
    });
    await expectRefused(response, 401, 'INVALID_SIGNATURE');
    expect(await tableSizes()).toEqual(before);
  });

  it('401 INVALID_SIGNATURE without the signature header', async () => {
    const response = await callApi(stack, 'POST', '/pg/webhooks/deposits', { body: { pgTransactionId: 'p', paymentId: virtualAccount.paymentId, amount: 1, depositedAt: '2026-11-25T10:00:00Z' } });
    await expectRefused(response, 401, 'INVALID_SIGNATURE');
  });

  it('400 VALIDATION_ERROR for a signed but malformed body', async () => {
    const before = await tableSizes();
    await expectRefused(await deposit(stack, virtualAccount, { rawBody: '{"paymentId": ' }), 400, 'VALIDATION_ERROR');
    expect(await tableSizes()).toEqual(before);
  });

  it('422 AMOUNT_MISMATCH for a deposit of another amount', async () => {
    const before = await tableSizes();
    await expectRefused(await deposit(stack, virtualAccount, { amount: virtualAccount.amount - 1 }), 422, 'AMOUNT_MISMATCH');
    expect(await tableSizes()).toEqual(before);
  });

  it('404 for a deposit on an unknown payment', async () => {
    await expectRefused(await deposit(stack, { paymentId: 'ghost', amount: 100 }), 404, 'PAYMENT_NOT_FOUND');
  });
});
