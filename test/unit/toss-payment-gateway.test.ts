/**
 * Contract tests of the Toss adapter (lambdas/adapters/toss/) against tools/toss-local over real
 * HTTP: every call's method, path, headers and body as Toss documents them, and every mapped
 * error. A recording fetch sees exactly what went on the wire.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgMisconfiguredError, PgRequestRejectedError, PgUnavailableError } from '../../lambdas/domain/errors';
import { TossPaymentGateway } from '../../lambdas/adapters/toss/toss-payment-gateway';
import { TOSS_SECRET_KEY_PLACEHOLDER } from '../../lambdas/platform/payment-gateways';
import { startTossLocalServer, type TossLocalServer } from '../../tools/toss-local/server';

const SECRET_KEY = 'test_sk_contract_0123456789';
const clock = { now: () => new Date() };

interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

let server: TossLocalServer;
let wire: WireRequest[];

const recordingFetch: typeof fetch = async (input, init) => {
  const url = new URL(String(input));
  const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
  wire.push({ method: init?.method ?? 'GET', path: url.pathname, headers, body: init?.body === undefined ? undefined : JSON.parse(String(init.body)) });
  return fetch(input, init);
};

function gateway(options: { secretKey?: string; timeoutMs?: number } = {}): TossPaymentGateway {
  return new TossPaymentGateway({
    baseUrl: server.url,
    secretKey: async () => options.secretKey ?? SECRET_KEY,
    timeoutMs: options.timeoutMs ?? 3_000,
    virtualAccount: { bank: '20', validHours: 72 },
    clock,
    fetch: recordingFetch,
  });
}

const newPaymentId = () => `pay-${randomUUID()}`;
const basic = `Basic ${Buffer.from(`${SECRET_KEY}:`).toString('base64')}`;

beforeAll(async () => {
  server = await startTossLocalServer({ secretKey: SECRET_KEY, port: 0 });
});
afterAll(() => server?.close());
beforeEach(() => {
  wire = [];
  server.faults.reset();
});

describe('authorize: POST /v1/payments/confirm', () => {
  it('sends the paymentKey, our payment id as orderId and the amount, with Basic auth and the attempt key', async () => {
    const paymentId = newPaymentId();
    const session = server.createPaymentSession({ orderId: paymentId, amount: 15_000 });
    const answer = await gateway().authorize({ paymentId, amount: 15_000, currency: 'KRW', paymentKey: session.paymentKey, idempotencyKey: `${paymentId}:authorize:1` });

    expect(answer).toEqual({ outcome: 'approved', pgTransactionId: session.paymentKey });
    expect(wire).toEqual([
      {
        method: 'POST',
        path: '/v1/payments/confirm',
        headers: { authorization: basic, accept: 'application/json', 'content-type': 'application/json', 'idempotency-key': `${paymentId}:authorize:1` },
        body: { paymentKey: session.paymentKey, orderId: paymentId, amount: 15_000 },
      },
    ]);
    expect(server.ledger(paymentId)).toMatchObject({ chargeCount: 1, chargedAmount: 15_000, status: 'DONE' });
  });

  it('answers a repeat under the same key with the first answer and charges once', async () => {
    const paymentId = newPaymentId();
    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 9_900 });
    const request = { paymentId, amount: 9_900, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:1` };
    const first = await gateway().authorize(request);
    const again = await gateway().authorize(request);
    expect(again).toEqual(first);
    expect(server.ledger(paymentId)).toMatchObject({ chargeCount: 1, chargedAmount: 9_900 });
  });

  it('maps a card decline to a declined answer with Toss\'s code, moving no money', async () => {
    const paymentId = newPaymentId();
    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 5_000, outcome: 'decline', declineCode: 'REJECT_CARD_COMPANY' });
    const answer = await gateway().authorize({ paymentId, amount: 5_000, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:1` });
    expect(answer).toEqual({ outcome: 'declined', reason: 'REJECT_CARD_COMPANY' });
    expect(server.ledger(paymentId)).toMatchObject({ chargeCount: 0 });
  });

  it('resolves ALREADY_PROCESSED_PAYMENT (a confirm under a new key) through a lookup by order id', async () => {
    const paymentId = newPaymentId();
    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 7_000 });
    await gateway().authorize({ paymentId, amount: 7_000, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:1` });
    wire = [];
    const answer = await gateway().authorize({ paymentId, amount: 7_000, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:2` });
    expect(answer).toEqual({ outcome: 'approved', pgTransactionId: paymentKey });
    expect(wire.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/payments/confirm', `GET /v1/payments/orders/${paymentId}`]);
    expect(wire[1]?.headers['idempotency-key']).toBeUndefined();
    expect(server.ledger(paymentId)).toMatchObject({ chargeCount: 1 });
  });

  it("refuses the caller's credential (unknown session, other amount) as PG_REJECTED, moving no money", async () => {
    const paymentId = newPaymentId();
    const unknown = gateway().authorize({ paymentId, amount: 1_000, currency: 'KRW', paymentKey: 'tlocal_nope', idempotencyKey: `${paymentId}:authorize:1` });
    await expect(unknown).rejects.toThrow(PgRequestRejectedError);
    await expect(unknown).rejects.toMatchObject({ pgCode: 'NOT_FOUND_PAYMENT_SESSION' });

    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 1_000 });
    const tampered = gateway().authorize({ paymentId, amount: 100_000, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:2` });
    await expect(tampered).rejects.toThrow(PgRequestRejectedError);
    expect(server.ledger(paymentId)).toMatchObject({ chargeCount: 0 });
  });

  it('treats a secret key Toss refuses as our misconfiguration, never the caller\'s mistake', async () => {
    const paymentId = newPaymentId();
    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 1_000 });
    const answer = gateway({ secretKey: 'test_sk_wrong' }).authorize({ paymentId, amount: 1_000, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:1` });
    await expect(answer).rejects.toThrow(PgMisconfiguredError);
    await expect(answer).rejects.toMatchObject({ code: 'PG_UNAVAILABLE', detail: expect.stringContaining('UNAUTHORIZED_KEY') });
  });

  it("refuses the stack's placeholder secret as a misconfiguration, without calling Toss", async () => {
    const answer = gateway({ secretKey: TOSS_SECRET_KEY_PLACEHOLDER }).authorize({ paymentId: newPaymentId(), amount: 1_000, currency: 'KRW', paymentKey: 'k', idempotencyKey: 'k' });
    await expect(answer).rejects.toThrow(PgMisconfiguredError);
    await expect(answer).rejects.toMatchObject({ detail: 'the Toss secret key has not been put into its secret yet' });
    expect(wire).toEqual([]);
  });

  it('refuses a card token on Toss as a misconfiguration, without calling Toss', async () => {
    await expect(gateway().authorize({ paymentId: newPaymentId(), amount: 1_000, currency: 'KRW', cardToken: 'tok_visa', idempotencyKey: 'k' })).rejects.toThrow(PgMisconfiguredError);
    expect(wire).toEqual([]);
  });

  it('maps an outage and a slow Toss to PG_UNAVAILABLE, moving no money', async () => {
    const paymentId = newPaymentId();
    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 2_000 });
    server.faults.set({ outage: true });
    await expect(gateway().authorize({ paymentId, amount: 2_000, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:1` })).rejects.toThrow(PgUnavailableError);
    server.faults.set({ outage: false, slowMs: 600 });
    const slow = gateway({ timeoutMs: 150 }).authorize({ paymentId, amount: 2_000, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:2` });
    await expect(slow).rejects.toThrow(/no answer within 150 ms/);
    server.faults.reset();
    expect(server.ledger(paymentId).chargeCount).toBeLessThanOrEqual(1);
  });

  it('loses an answer after the charge (PG_UNAVAILABLE); the retry under the same key gets the charge, not a second one', async () => {
    const paymentId = newPaymentId();
    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 3_000 });
    const request = { paymentId, amount: 3_000, currency: 'KRW', paymentKey, idempotencyKey: `${paymentId}:authorize:1` };
    server.faults.set({ loseNextAnswers: 1 });
    await expect(gateway().authorize(request)).rejects.toThrow(PgUnavailableError);
    expect(server.ledger(paymentId)).toMatchObject({ chargeCount: 1 });
    expect(await gateway().authorize(request)).toEqual({ outcome: 'approved', pgTransactionId: paymentKey });
    expect(server.ledger(paymentId)).toMatchObject({ chargeCount: 1, chargedAmount: 3_000 });
  });
});

describe('lookup: GET /v1/payments/orders/{orderId}', () => {
  it('answers what Toss shows: approved, declined, or not-found for an unknown or unconfirmed order', async () => {
    const approved = newPaymentId();
    const session = server.createPaymentSession({ orderId: approved, amount: 4_000 });
    await gateway().authorize({ paymentId: approved, amount: 4_000, currency: 'KRW', paymentKey: session.paymentKey, idempotencyKey: 'a:1' });
    const declined = newPaymentId();
    const refused = server.createPaymentSession({ orderId: declined, amount: 4_000, outcome: 'decline' });
    await gateway().authorize({ paymentId: declined, amount: 4_000, currency: 'KRW', paymentKey: refused.paymentKey, idempotencyKey: 'd:1' });
    const unconfirmed = newPaymentId();
    server.createPaymentSession({ orderId: unconfirmed, amount: 4_000 });
    wire = [];

    const lookup = (paymentId: string) => gateway().lookup({ paymentId, operation: 'authorize', idempotencyKey: `${paymentId}:authorize:1` });
    expect(await lookup(approved)).toEqual({ outcome: 'approved', pgTransactionId: session.paymentKey });
    expect(await lookup(declined)).toEqual({ outcome: 'declined', reason: 'REJECT_CARD_PAYMENT' });
    expect(await lookup(unconfirmed)).toEqual({ outcome: 'not-found' });
    expect(await lookup(newPaymentId())).toEqual({ outcome: 'not-found' });
    expect(wire.every((r) => r.method === 'GET' && r.path.startsWith('/v1/payments/orders/') && r.headers.authorization === basic)).toBe(true);
  });
});

describe('refund: POST /v1/payments/{paymentKey}/cancel', () => {
  it('cancels in full with the reason; the refund reference is the cancel\'s transactionKey; a repeat refunds once', async () => {
    const paymentId = newPaymentId();
    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 12_000 });
    await gateway().authorize({ paymentId, amount: 12_000, currency: 'KRW', paymentKey, idempotencyKey: 'x:1' });
    wire = [];
    const request = { paymentId, pgTransactionId: paymentKey, amount: 12_000, reason: 'customer changed their mind', idempotencyKey: `${paymentId}:refund:1` };
    const answer = await gateway().refund(request);

    const cancel = server.payment(paymentId)?.cancels?.[0];
    expect(answer).toEqual({ outcome: 'refunded', refundId: cancel?.transactionKey });
    expect(wire).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: `/v1/payments/${paymentKey}/cancel`,
        headers: expect.objectContaining({ 'idempotency-key': `${paymentId}:refund:1`, authorization: basic }),
        body: { cancelReason: 'customer changed their mind' },
      }),
    ]);
    expect(await gateway().refund(request)).toEqual(answer);
    expect(await gateway().refund({ ...request, idempotencyKey: `${paymentId}:refund:2` })).toEqual(answer);
    expect(await gateway().lookup({ paymentId, operation: 'refund', idempotencyKey: `${paymentId}:refund:1` })).toEqual(answer);
    expect(server.ledger(paymentId)).toMatchObject({ chargeCount: 1, refundCount: 1, refundedAmount: 12_000 });
  });

  it('keeps Toss\'s 200-character limit on the reason', async () => {
    const paymentId = newPaymentId();
    const { paymentKey } = server.createPaymentSession({ orderId: paymentId, amount: 1_000 });
    await gateway().authorize({ paymentId, amount: 1_000, currency: 'KRW', paymentKey, idempotencyKey: 'r:1' });
    wire = [];
    await gateway().refund({ paymentId, pgTransactionId: paymentKey, amount: 1_000, reason: 'x'.repeat(500), idempotencyKey: 'r:refund:1' });
    expect((wire[0]?.body as { cancelReason: string }).cancelReason).toHaveLength(200);
  });
});

describe('virtual accounts: POST /v1/virtual-accounts, deposits, close', () => {
  it('issues an account at the configured bank and keeps its paymentKey and callback secret', async () => {
    const paymentId = newPaymentId();
    const issued = await gateway().issueVirtualAccount({ paymentId, orderId: 'order-77', amount: 30_000, currency: 'KRW', idempotencyKey: `${paymentId}:issue-account:1` });
    const shown = server.payment(paymentId);

    expect(wire).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/virtual-accounts',
        headers: expect.objectContaining({ 'idempotency-key': `${paymentId}:issue-account:1` }),
        body: { amount: 30_000, orderId: paymentId, orderName: 'Order order-77', customerName: 'order-77', bank: '20', validHours: 72 },
      }),
    ]);
    expect(issued).toEqual({
      account: { bank: '20', accountNumber: shown?.virtualAccount?.accountNumber, dueAt: new Date(String(shown?.virtualAccount?.dueDate)).toISOString() },
      pgTransactionId: shown?.paymentKey,
      callbackSecret: shown?.secret,
    });
    expect(issued.callbackSecret).toMatch(/^ps_/);
  });

  it('finds a deposit only once Toss shows it, with the amount Toss reports', async () => {
    const paymentId = newPaymentId();
    await gateway().issueVirtualAccount({ paymentId, orderId: 'o', amount: 8_000, currency: 'KRW', idempotencyKey: `${paymentId}:issue-account:1` });
    expect(await gateway().findDeposit({ paymentId })).toEqual({ status: 'not-deposited', pgStatus: 'WAITING_FOR_DEPOSIT' });
    await server.deposit(paymentId);
    expect(await gateway().findDeposit({ paymentId })).toMatchObject({ status: 'deposited', amount: 8_000, pgTransactionId: server.payment(paymentId)?.paymentKey });
    expect(await gateway().findDeposit({ paymentId: newPaymentId() })).toEqual({ status: 'not-found' });
  });

  it('closes an account before the deposit (idempotently); after a deposit Toss refuses without a refund account', async () => {
    const open = newPaymentId();
    const issued = await gateway().issueVirtualAccount({ paymentId: open, orderId: 'o', amount: 8_000, currency: 'KRW', idempotencyKey: `${open}:issue-account:1` });
    await gateway().closeVirtualAccount({ paymentId: open, pgTransactionId: issued.pgTransactionId as string, idempotencyKey: `${open}:close-account:1` });
    await gateway().closeVirtualAccount({ paymentId: open, idempotencyKey: `${open}:close-account:2` });
    expect(server.payment(open)?.status).toBe('CANCELED');
    await expect(server.deposit(open)).rejects.toThrow();

    const paid = newPaymentId();
    const account = await gateway().issueVirtualAccount({ paymentId: paid, orderId: 'o', amount: 8_000, currency: 'KRW', idempotencyKey: `${paid}:issue-account:1` });
    await server.deposit(paid);
    await expect(gateway().closeVirtualAccount({ paymentId: paid, pgTransactionId: account.pgTransactionId as string, idempotencyKey: `${paid}:close-account:1` })).rejects.toThrow(PgRequestRejectedError);
    expect(server.ledger(paid)).toMatchObject({ depositCount: 1, refundCount: 0 });
  });
});
