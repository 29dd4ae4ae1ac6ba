/**
 * The whole stack on Toss Payments, against tools/toss-local over real HTTP: card confirm,
 * decline, cancel with refund, a virtual account with its deposit callback (repeated, forged,
 * for an unknown order), and a confirm whose answer is lost after the charge, which the
 * reconciler approves with one charge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TossLocalServer } from '../../tools/toss-local/server';
import { callApi, startTestStack, type LocalStack } from '../support/local-stack-harness';

let stack: LocalStack;
let toss: TossLocalServer;

beforeAll(async () => {
  stack = await startTestStack({
    consumers: false,
    paymentGateway: { kind: 'toss-local', port: 0, webhookRetryDelaysMs: [100, 200, 400, 800, 1_600] },
    functionEnvironment: { 'pg-reconciler': { RECONCILER_GRACE_SECONDS: '1' } },
  });
  toss = stack.tossLocal as TossLocalServer;
});
afterAll(() => stack?.stop());

interface PaymentBody {
  readonly paymentId: string;
  readonly status: string;
  readonly version: number;
  readonly pgTransactionId?: string;
  readonly refundId?: string;
  readonly failureReason?: string;
  readonly virtualAccount?: { bank: string; accountNumber: string; dueAt: string };
}

async function create(method: 'CARD' | 'EASY_PAY' | 'VIRTUAL_ACCOUNT', amount = 15_000): Promise<PaymentBody> {
  const response = await callApi(stack, 'POST', '/payments', { body: { orderId: `order-${Math.random().toString(36).slice(2, 10)}`, amount, currency: 'KRW', method } });
  expect(response.status).toBe(201);
  return response.body as PaymentBody;
}

async function eventTypes(paymentId: string): Promise<string[]> {
  const response = await callApi(stack, 'GET', `/payments/${paymentId}/events`);
  return (response.body as { events: { type: string }[] }).events.map((event) => event.type);
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the API on Toss', () => {
  it('says which PG it runs on in endpoints.json', () => {
    expect(stack.endpoints.paymentGateway).toMatchObject({ kind: 'toss', baseUrl: toss.url, depositCallbackUrl: `${stack.apiUrl}/pg/webhooks/toss` });
  });

  it('confirms a card payment with the paymentKey of Toss\'s payment window: one charge, approved with its event', async () => {
    const payment = await create('CARD');
    const session = toss.createPaymentSession({ orderId: payment.paymentId, amount: 15_000 });
    const confirmed = await callApi(stack, 'POST', `/payments/${payment.paymentId}/confirm`, { body: { paymentKey: session.paymentKey } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'APPROVED', version: 2, pgTransactionId: session.paymentKey });
    expect(toss.ledger(payment.paymentId)).toMatchObject({ chargeCount: 1, chargedAmount: 15_000 });
    expect(await eventTypes(payment.paymentId)).toEqual(['payment.created', 'payment.approved']);
  });

  it('takes no card token on Toss, and no currency Toss does not settle', async () => {
    const payment = await create('EASY_PAY');
    const withToken = await callApi(stack, 'POST', `/payments/${payment.paymentId}/confirm`, { body: { cardToken: 'tok_visa' } });
    expect(withToken.status).toBe(400);
    expect(withToken.body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });

    const dollars = await callApi(stack, 'POST', '/payments', { body: { orderId: 'order-usd', amount: 1_000, currency: 'USD', method: 'CARD' } });
    expect(dollars.status).toBe(422);
    expect(dollars.body).toMatchObject({ error: { code: 'CURRENCY_NOT_SUPPORTED', message: expect.stringContaining('KRW') } });
  });

  it('records a decline as a FAILED payment (200) with Toss\'s code, moving no money', async () => {
    const payment = await create('CARD');
    const session = toss.createPaymentSession({ orderId: payment.paymentId, amount: 15_000, outcome: 'decline' });
    const declined = await callApi(stack, 'POST', `/payments/${payment.paymentId}/confirm`, { body: { paymentKey: session.paymentKey } });
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ status: 'FAILED', failureReason: 'REJECT_CARD_PAYMENT' });
    expect(toss.ledger(payment.paymentId)).toMatchObject({ chargeCount: 0 });
  });

  it('answers a paymentKey Toss does not know with 422 PG_REJECTED and leaves the payment confirmable', async () => {
    const payment = await create('CARD');
    const refused = await callApi(stack, 'POST', `/payments/${payment.paymentId}/confirm`, { body: { paymentKey: 'tlocal_unknown' } });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: 'PG_REJECTED' } });
    const session = toss.createPaymentSession({ orderId: payment.paymentId, amount: 15_000 });
    const confirmed = await callApi(stack, 'POST', `/payments/${payment.paymentId}/confirm`, { body: { paymentKey: session.paymentKey } });
    expect(confirmed.body).toMatchObject({ status: 'APPROVED', version: 2 });
  });

  it('cancels an approved payment with a full refund at Toss; payment.cancelled carries the cancel\'s transactionKey', async () => {
    const payment = await create('CARD', 22_000);
    const session = toss.createPaymentSession({ orderId: payment.paymentId, amount: 22_000 });
    await callApi(stack, 'POST', `/payments/${payment.paymentId}/confirm`, { body: { paymentKey: session.paymentKey } });
    const cancelled = await callApi(stack, 'POST', `/payments/${payment.paymentId}/cancel`, { body: { reason: 'out of stock' } });
    expect(cancelled.status).toBe(200);
    const transactionKey = toss.payment(payment.paymentId)?.cancels?.[0]?.transactionKey;
    expect(transactionKey).toEqual(expect.any(String));
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', refundId: transactionKey });
    expect(toss.ledger(payment.paymentId)).toMatchObject({ chargeCount: 1, refundCount: 1, refundedAmount: 22_000, status: 'CANCELED' });
    const events = await callApi(stack, 'GET', `/payments/${payment.paymentId}/events`);
    const last = (events.body as { events: { type: string; data: { refundId?: string } }[] }).events.at(-1);
    expect(last).toMatchObject({ type: 'payment.cancelled', data: { refundId: transactionKey } });
  });
});

describe('virtual accounts and Toss deposit callbacks', () => {
  it('issues the account at Toss and never shows its callback secret', async () => {
    const payment = await create('VIRTUAL_ACCOUNT', 30_000);
    const atToss = toss.payment(payment.paymentId);
    expect(payment).toMatchObject({
      status: 'WAITING_FOR_DEPOSIT',
      pgTransactionId: atToss?.paymentKey,
      virtualAccount: { bank: '20', accountNumber: atToss?.virtualAccount?.accountNumber, dueAt: expect.any(String) },
    });
    const secret = String(atToss?.secret);
    expect(secret).toMatch(/^ps_/);
    const reads = [
      JSON.stringify(payment),
      (await callApi(stack, 'GET', `/payments/${payment.paymentId}`)).text,
      (await callApi(stack, 'GET', `/payments/${payment.paymentId}/events`)).text,
    ];
    for (const text of reads) expect(text).not.toContain(secret);
  });

  it('approves the payment on the deposit callback once; a resend answers 200 and changes nothing', async () => {
    const payment = await create('VIRTUAL_ACCOUNT', 30_000);
    const deposit = await toss.deposit(payment.paymentId);
    const delivery = await deposit.delivery;
    expect(delivery).toMatchObject({ outcome: 'delivered' });
    const approved = await callApi(stack, 'GET', `/payments/${payment.paymentId}`);
    expect(approved.body).toMatchObject({ status: 'APPROVED', version: 2, pgTransactionId: toss.payment(payment.paymentId)?.paymentKey, depositedAt: expect.any(String) });

    const resent = await toss.resendCallback(payment.paymentId);
    expect(resent.status).toBe(200);
    expect(await eventTypes(payment.paymentId)).toEqual(['payment.created', 'payment.approved']);
    expect(toss.ledger(payment.paymentId)).toMatchObject({ depositCount: 1, depositedAmount: 30_000 });
  });

  it('refuses a callback with a wrong secret (401 INVALID_SIGNATURE) and one for an unknown order (404), changing nothing', async () => {
    const payment = await create('VIRTUAL_ACCOUNT', 10_000);
    const forged = await toss.forgeCallback({ orderId: payment.paymentId, secret: 'ps_guessed', status: 'DONE' });
    expect(forged.status).toBe(401);
    const unknown = await toss.forgeCallback({ orderId: 'pay-nobody-knows', secret: 'ps_x', status: 'DONE' });
    expect(unknown.status).toBe(404);
    const response = await callApi(stack, 'POST', '/pg/webhooks/toss', {
      body: { createdAt: '2026-12-01T10:00:00.000000', secret: 'ps_guessed', status: 'DONE', transactionKey: 'tx', orderId: payment.paymentId },
    });
    expect(response.body).toMatchObject({ error: { code: 'INVALID_SIGNATURE' } });
    expect((await callApi(stack, 'GET', `/payments/${payment.paymentId}`)).body).toMatchObject({ status: 'WAITING_FOR_DEPOSIT', version: 1 });
  });

  it('cancels a waiting account at Toss, so no deposit lands on a cancelled payment', async () => {
    const payment = await create('VIRTUAL_ACCOUNT', 10_000);
    const cancelled = await callApi(stack, 'POST', `/payments/${payment.paymentId}/cancel`, { body: { reason: 'changed my mind' } });
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED' });
    expect(toss.payment(payment.paymentId)?.status).toBe('CANCELED');
    await expect(toss.deposit(payment.paymentId)).rejects.toThrow();
    expect(toss.ledger(payment.paymentId)).toMatchObject({ depositCount: 0, chargeCount: 0 });
  });
});

describe('a confirm whose answer is lost after the charge', () => {
  it('answers 503 PG_UNAVAILABLE; the reconciler approves the payment with its one charge', async () => {
    const payment = await create('CARD', 17_000);
    const session = toss.createPaymentSession({ orderId: payment.paymentId, amount: 17_000 });
    toss.faults.set({ loseNextAnswers: 1 });
    const lost = await callApi(stack, 'POST', `/payments/${payment.paymentId}/confirm`, { body: { paymentKey: session.paymentKey } });
    toss.faults.reset();
    expect(lost.status).toBe(503);
    expect(lost.headers.get('retry-after')).toEqual(expect.any(String));
    expect(lost.body).toMatchObject({ error: { code: 'PG_UNAVAILABLE' } });
    expect(toss.ledger(payment.paymentId)).toMatchObject({ chargeCount: 1 });
    expect((await callApi(stack, 'GET', `/payments/${payment.paymentId}`)).body).toMatchObject({ status: 'READY', version: 1 });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const summary = await stack.scheduler.runNow('pg-reconciler');
    expect(summary).toMatchObject({ reconciled: 1, failed: 0 });
    const after = await waitFor(
      async () => (await callApi(stack, 'GET', `/payments/${payment.paymentId}`)).body as PaymentBody,
      (body) => body.status === 'APPROVED',
    );
    expect(after).toMatchObject({ status: 'APPROVED', version: 2, pgTransactionId: session.paymentKey });
    expect(toss.ledger(payment.paymentId)).toMatchObject({ chargeCount: 1, chargedAmount: 17_000 });
    expect(await eventTypes(payment.paymentId)).toEqual(['payment.created', 'payment.approved']);
  });
});
