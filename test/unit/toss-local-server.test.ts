import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseArgs, UsageError } from '../../tools/toss-local/cli';
import {
  startTossLocalServer,
  TOSS_WEBHOOK_RETRY_DELAYS_MS,
  TossLocalError,
  type TossLocalOptions,
  type TossLocalServer,
  type TossPaymentSession,
} from '../../tools/toss-local/server';

const SECRET_KEY = 'test_sk_toss_local_unit';
const AUTHORIZATION = `Basic ${Buffer.from(`${SECRET_KEY}:`, 'utf8').toString('base64')}`;
const T0 = new Date('2026-03-02T01:00:00.000Z');
const HOUR = 3_600_000;

const servers: TossLocalServer[] = [];
const receivers: TestReceiver[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function start(options: Partial<TossLocalOptions> = {}): Promise<TossLocalServer> {
  const server = await startTossLocalServer({ secretKey: SECRET_KEY, webhookRetryDelaysMs: [20, 20, 20], ...options });
  servers.push(server);
  return server;
}

/** A clock a test moves by hand. */
function manualClock(start = T0) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: any;
  readonly headers: Headers;
}

async function call(
  server: TossLocalServer,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; key?: string; authorization?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.authorization !== null) headers.Authorization = options.authorization ?? AUTHORIZATION;
  if (options.key !== undefined) headers['Idempotency-Key'] = options.key;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  return { status: response.status, text, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}

const confirm = (server: TossLocalServer, session: TossPaymentSession, options: { key?: string; amount?: number; orderId?: string } = {}) =>
  call(server, 'POST', '/v1/payments/confirm', {
    body: { paymentKey: session.paymentKey, orderId: options.orderId ?? session.orderId, amount: options.amount ?? session.amount },
    ...(options.key !== undefined && { key: options.key }),
  });

const cancel = (server: TossLocalServer, paymentKey: string, body: Record<string, unknown> = { cancelReason: '고객 변심' }, key?: string) =>
  call(server, 'POST', `/v1/payments/${encodeURIComponent(paymentKey)}/cancel`, { body, ...(key !== undefined && { key }) });

const issue = (server: TossLocalServer, body: Record<string, unknown> = {}, key?: string) =>
  call(server, 'POST', '/v1/virtual-accounts', {
    body: { amount: 30000, orderId: 'order-va-0001', orderName: '토스 티셔츠 외 2건', customerName: '박토스', bank: '20', ...body },
    ...(key !== undefined && { key }),
  });

const noMoney = (orderId: string) => ({ orderId, chargeCount: 0, chargedAmount: 0, refundCount: 0, refundedAmount: 0, depositCount: 0, depositedAmount: 0, transactionKeys: [] });

interface TestReceiver {
  readonly url: string;
  readonly requests: { readonly headers: IncomingHttpHeaders; readonly body: any }[];
  close(): Promise<void>;
}

/** A webhook endpoint answering each request with `answer(index, body)`, or never (`hang`). */
async function startReceiver(answer: (index: number, body: any) => number | 'hang' = () => 200): Promise<TestReceiver> {
  const requests: { headers: IncomingHttpHeaders; body: any }[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const status = answer(requests.length, body);
      requests.push({ headers: request.headers, body });
      if (status !== 'hang') response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: TestReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/pg/webhooks/toss`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  receivers.push(receiver);
  return receiver;
}

describe('authentication', () => {
  it('answers 401 UNAUTHORIZED_KEY without an Authorization header or with another secret key, executing nothing', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-auth-1', amount: 15000 });
    const body = { paymentKey: session.paymentKey, orderId: session.orderId, amount: session.amount };

    const missing = await call(server, 'POST', '/v1/payments/confirm', { body, authorization: null });
    const otherKey = await call(server, 'POST', '/v1/payments/confirm', {
      body,
      authorization: `Basic ${Buffer.from('test_sk_someone_else:').toString('base64')}`,
    });

    for (const answer of [missing, otherKey]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ code: 'UNAUTHORIZED_KEY', message: expect.any(String) });
    }
    expect(server.ledger('order-auth-1')).toMatchObject({ ...noMoney('order-auth-1'), status: 'IN_PROGRESS' });
  });

  it.each([
    ['a Bearer token', `Bearer ${SECRET_KEY}`],
    ['the key without its colon', `Basic ${Buffer.from(SECRET_KEY).toString('base64')}`],
    ['a key and a password', `Basic ${Buffer.from(`${SECRET_KEY}:pw`).toString('base64')}`],
    ['something that is not base64', 'Basic !!not-base64!!'],
  ])('answers 403 INCORRECT_BASIC_AUTH_FORMAT to %s', async (_name, authorization) => {
    const server = await start();

    const answer = await call(server, 'GET', '/v1/payments/orders/order-auth-2', { authorization });

    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('INCORRECT_BASIC_AUTH_FORMAT');
  });

  it('needs no authentication on the control routes', async () => {
    const server = await start();

    const answer = await call(server, 'GET', '/_local/ledger', { authorization: null });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual([]);
  });
});

describe('POST /v1/payments/confirm', () => {
  it('approves a card session: a DONE Payment object, one charge in the ledger', async () => {
    const clock = manualClock();
    const server = await start({ now: clock.now });
    const session = server.createPaymentSession({ orderId: 'order-card-1', amount: 15000 });
    clock.advance(30_000);

    const answer = await confirm(server, session, { key: 'confirm-1' });

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.body).toMatchObject({
      mId: 'tosslocal',
      version: '2022-11-16',
      paymentKey: session.paymentKey,
      orderId: 'order-card-1',
      type: 'NORMAL',
      status: 'DONE',
      method: '카드',
      currency: 'KRW',
      totalAmount: 15000,
      balanceAmount: 15000,
      suppliedAmount: 13636,
      vat: 1364,
      requestedAt: '2026-03-02T10:00:00+09:00',
      approvedAt: '2026-03-02T10:00:30+09:00',
      secret: null,
      cancels: null,
      failure: null,
      virtualAccount: null,
      easyPay: null,
      country: 'KR',
      card: { amount: 15000, installmentPlanMonths: 0, acquireStatus: 'READY' },
    });
    expect(answer.body.lastTransactionKey).toMatch(/^[0-9A-F]{32}$/);
    expect(server.ledger('order-card-1')).toEqual({
      ...noMoney('order-card-1'),
      paymentKey: session.paymentKey,
      status: 'DONE',
      chargeCount: 1,
      chargedAmount: 15000,
      transactionKeys: [answer.body.lastTransactionKey],
    });
  });

  it('approves an easy-pay session as 간편결제', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-easy-1', amount: 20000, method: 'EASY_PAY' });

    const answer = await confirm(server, session);

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'DONE', method: '간편결제', card: null, easyPay: { provider: '토스페이', amount: 20000 } });
  });

  it('answers a declined session with its decline code and leaves the payment ABORTED with that failure, no money moved', async () => {
    const server = await start();
    const byDefault = server.createPaymentSession({ orderId: 'order-decline-1', amount: 15000, outcome: 'decline' });
    const stopped = server.createPaymentSession({ orderId: 'order-decline-2', amount: 15000, outcome: 'decline', declineCode: 'INVALID_STOPPED_CARD' });

    const first = await confirm(server, byDefault);
    const second = await confirm(server, stopped);
    const lookedUp = await call(server, 'GET', '/v1/payments/orders/order-decline-1');

    expect([first.status, first.body]).toEqual([403, { code: 'REJECT_CARD_PAYMENT', message: '한도초과 혹은 잔액부족으로 결제에 실패했습니다.' }]);
    expect([second.status, second.body.code]).toEqual([400, 'INVALID_STOPPED_CARD']);
    expect(lookedUp.body).toMatchObject({ status: 'ABORTED', approvedAt: null, failure: first.body, card: null });
    expect(server.ledger('order-decline-1')).toMatchObject({ ...noMoney('order-decline-1'), status: 'ABORTED' });
  });

  it.each([
    ['another amount', { amount: 14000 }],
    ['another orderId', { orderId: 'order-someone-else' }],
  ])('answers 400 INVALID_REQUEST to %s than the session, and the session stays confirmable', async (_name, change) => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-mismatch', amount: 15000 });

    const answer = await confirm(server, session, change);

    expect([answer.status, answer.body.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(server.ledger('order-mismatch')).toMatchObject({ ...noMoney('order-mismatch'), status: 'IN_PROGRESS' });
    expect((await confirm(server, session)).status).toBe(200);
  });

  it('answers 404 NOT_FOUND_PAYMENT_SESSION to an unknown paymentKey', async () => {
    const server = await start();

    const answer = await confirm(server, { paymentKey: 'tlocal_unknown', orderId: 'order-unknown', amount: 1000 });

    expect([answer.status, answer.body.code]).toEqual([404, 'NOT_FOUND_PAYMENT_SESSION']);
    expect(server.ledgers()).toEqual([]);
  });

  it('answers 400 INVALID_ORDER_ID to an orderId outside [A-Za-z0-9_-]{6,64}, and INVALID_REQUEST to a missing field', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-format', amount: 15000 });

    const badOrderId = await confirm(server, session, { orderId: 'ord!' });
    const missing = await call(server, 'POST', '/v1/payments/confirm', { body: { paymentKey: session.paymentKey, orderId: session.orderId } });
    const stringAmount = await call(server, 'POST', '/v1/payments/confirm', { body: { ...session, amount: '15000' } });

    expect([badOrderId.status, badOrderId.body.code]).toEqual([400, 'INVALID_ORDER_ID']);
    expect([missing.status, missing.body.code]).toEqual([400, 'INVALID_REQUEST']);
    expect([stringAmount.status, stringAmount.body.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(server.ledger('order-format').chargeCount).toBe(0);
  });

  it('answers 400 ALREADY_PROCESSED_PAYMENT to a second confirm with a new key or none, charging once', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-twice', amount: 15000 });
    await confirm(server, session, { key: 'first' });

    const newKey = await confirm(server, session, { key: 'second' });
    const noKey = await confirm(server, session);

    expect([newKey.status, newKey.body.code]).toEqual([400, 'ALREADY_PROCESSED_PAYMENT']);
    expect([noKey.status, noKey.body.code]).toEqual([400, 'ALREADY_PROCESSED_PAYMENT']);
    expect(server.ledger('order-twice').chargeCount).toBe(1);
  });

  it('expires a session not confirmed within 10 minutes: NOT_FOUND_PAYMENT_SESSION, and the payment shows EXPIRED', async () => {
    const clock = manualClock();
    const server = await start({ now: clock.now });
    const session = server.createPaymentSession({ orderId: 'order-late', amount: 15000 });
    clock.advance(10 * 60_000 + 1);

    const answer = await confirm(server, session);
    const lookedUp = await call(server, 'GET', `/v1/payments/${session.paymentKey}`);

    expect([answer.status, answer.body.code]).toEqual([404, 'NOT_FOUND_PAYMENT_SESSION']);
    expect(lookedUp.body).toMatchObject({ status: 'EXPIRED', failure: { code: 'EXPIRED_PAYMENT' } });
    expect(server.ledger('order-late').chargeCount).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  it('answers a repeated key with the first answer, byte for byte, and moves no money again', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-idem-1', amount: 15000 });

    const first = await confirm(server, session, { key: 'idem-1' });
    const repeat = await confirm(server, session, { key: 'idem-1' });

    expect(first.status).toBe(200);
    expect(repeat.status).toBe(200);
    expect(repeat.text).toBe(first.text);
    expect(server.ledger('order-idem-1')).toMatchObject({ chargeCount: 1, chargedAmount: 15000, transactionKeys: [first.body.lastTransactionKey] });
  });

  it('replays a first answer that was an error, even when the repeat would now succeed', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-idem-2', amount: 15000 });

    const first = await confirm(server, session, { key: 'idem-2', amount: 1 });
    const repeat = await confirm(server, session, { key: 'idem-2' });
    const withoutKey = await confirm(server, session);

    expect([first.status, first.body.code]).toEqual([400, 'INVALID_REQUEST']);
    expect([repeat.status, repeat.text]).toEqual([400, first.text]);
    expect(withoutKey.status).toBe(200);
  });

  it('scopes a key to its path: the same key on another route is another request', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-idem-3', amount: 15000 });
    const confirmed = await confirm(server, session, { key: 'shared-key' });

    const cancelled = await cancel(server, session.paymentKey, { cancelReason: 'test' }, 'shared-key');

    expect(confirmed.body.status).toBe('DONE');
    expect(cancelled.body.status).toBe('CANCELED');
  });

  it('answers 409 IDEMPOTENT_REQUEST_PROCESSING to a repeat while the first request is still being processed', async () => {
    const server = await start();
    server.faults.set({ slowMs: 400 });
    const session = server.createPaymentSession({ orderId: 'order-idem-4', amount: 15000 });

    const first = confirm(server, session, { key: 'idem-4' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const during = await confirm(server, session, { key: 'idem-4' });
    const firstAnswer = await first;
    const after = await confirm(server, session, { key: 'idem-4' });

    expect([during.status, during.body]).toEqual([409, { code: 'IDEMPOTENT_REQUEST_PROCESSING', message: '이전 멱등 요청이 처리중입니다.' }]);
    expect(firstAnswer.status).toBe(200);
    expect(after.text).toBe(firstAnswer.text);
    expect(server.ledger('order-idem-4').chargeCount).toBe(1);
  });

  it('answers 400 INVALID_IDEMPOTENCY_KEY to a key over 300 characters, executing nothing', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-idem-5', amount: 15000 });

    const tooLong = await confirm(server, session, { key: 'k'.repeat(301) });
    const longest = await confirm(server, session, { key: 'k'.repeat(300) });

    expect([tooLong.status, tooLong.body.code]).toEqual([400, 'INVALID_IDEMPOTENCY_KEY']);
    expect(longest.status).toBe(200);
    expect(server.ledger('order-idem-5').chargeCount).toBe(1);
  });

  it('remembers a key for 15 days from the first request, then executes it again', async () => {
    const clock = manualClock();
    const server = await start({ now: clock.now });
    const session = server.createPaymentSession({ orderId: 'order-idem-6', amount: 15000 });
    const first = await confirm(server, session, { key: 'idem-6' });

    clock.advance(15 * 24 * HOUR - 1);
    const withinRetention = await confirm(server, session, { key: 'idem-6' });
    clock.advance(1);
    const afterRetention = await confirm(server, session, { key: 'idem-6' });

    expect(withinRetention.text).toBe(first.text);
    expect([afterRetention.status, afterRetention.body.code]).toEqual([400, 'ALREADY_PROCESSED_PAYMENT']);
  });
});

describe('POST /v1/payments/{paymentKey}/cancel', () => {
  it('cancels a DONE payment in full: CANCELED, the cancel in cancels, lastTransactionKey its key, one refund', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-cancel-1', amount: 15000 });
    const confirmed = await confirm(server, session);

    const answer = await cancel(server, session.paymentKey, { cancelReason: '고객 변심' });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'CANCELED',
      totalAmount: 15000,
      balanceAmount: 0,
      card: { acquireStatus: 'CANCELED' },
      cancels: [{ cancelAmount: 15000, cancelReason: '고객 변심', refundableAmount: 0, cancelStatus: 'DONE', canceledAt: expect.stringMatching(/\+09:00$/) }],
    });
    expect(answer.body.lastTransactionKey).toBe(answer.body.cancels[0].transactionKey);
    expect(server.ledger('order-cancel-1')).toMatchObject({
      status: 'CANCELED',
      chargeCount: 1,
      refundCount: 1,
      refundedAmount: 15000,
      transactionKeys: [confirmed.body.lastTransactionKey, answer.body.lastTransactionKey],
    });
  });

  it('answers 400 ALREADY_CANCELED_PAYMENT to a second cancel, refunding once', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-cancel-2', amount: 15000 });
    await confirm(server, session);
    await cancel(server, session.paymentKey);

    const again = await cancel(server, session.paymentKey);

    expect([again.status, again.body.code]).toEqual([400, 'ALREADY_CANCELED_PAYMENT']);
    expect(server.ledger('order-cancel-2').refundCount).toBe(1);
  });

  it('cancels part of the balance (PARTIAL_CANCELED), then the rest; more than the balance is 403 NOT_CANCELABLE_AMOUNT', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-cancel-3', amount: 15000 });
    await confirm(server, session);

    const part = await cancel(server, session.paymentKey, { cancelReason: 'one item', cancelAmount: 5000 });
    const tooMuch = await cancel(server, session.paymentKey, { cancelReason: 'too much', cancelAmount: 10001 });
    const rest = await cancel(server, session.paymentKey, { cancelReason: 'the rest' });

    expect(part.body).toMatchObject({ status: 'PARTIAL_CANCELED', balanceAmount: 10000, cancels: [{ cancelAmount: 5000, refundableAmount: 10000 }] });
    expect([tooMuch.status, tooMuch.body.code]).toEqual([403, 'NOT_CANCELABLE_AMOUNT']);
    expect(rest.body).toMatchObject({ status: 'CANCELED', balanceAmount: 0 });
    expect(rest.body.cancels.map((c: any) => c.cancelAmount)).toEqual([5000, 10000]);
    expect(server.ledger('order-cancel-3')).toMatchObject({ refundCount: 2, refundedAmount: 15000 });
  });

  it('answers 400 INVALID_REQUEST without a cancelReason, changing nothing', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-cancel-4', amount: 15000 });
    await confirm(server, session);

    const answer = await cancel(server, session.paymentKey, { cancelAmount: 15000 });

    expect([answer.status, answer.body.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(server.ledger('order-cancel-4')).toMatchObject({ status: 'DONE', refundCount: 0 });
  });

  it('answers 404 NOT_FOUND_PAYMENT for an unknown paymentKey, and 403 NOT_CANCELABLE_PAYMENT before the confirm', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-cancel-5', amount: 15000 });

    const unknown = await cancel(server, 'tlocal_nobody');
    const unconfirmed = await cancel(server, session.paymentKey);

    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND_PAYMENT']);
    expect([unconfirmed.status, unconfirmed.body.code]).toEqual([403, 'NOT_CANCELABLE_PAYMENT']);
  });
});

describe('POST /v1/virtual-accounts', () => {
  it('issues an account: WAITING_FOR_DEPOSIT, 가상계좌, a secret, the account, due in 168 hours by default', async () => {
    const server = await start({ now: manualClock().now });

    const answer = await issue(server);

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      orderId: 'order-va-0001',
      status: 'WAITING_FOR_DEPOSIT',
      method: '가상계좌',
      totalAmount: 30000,
      balanceAmount: 30000,
      suppliedAmount: 27273,
      vat: 2727,
      approvedAt: null,
      virtualAccount: {
        accountType: '일반',
        bankCode: '20',
        customerName: '박토스',
        dueDate: '2026-03-09T10:00:00+09:00',
        refundStatus: 'NONE',
        expired: false,
        settlementStatus: 'INCOMPLETED',
        refundReceiveAccount: null,
        depositorName: null,
      },
    });
    expect(answer.body.secret).toMatch(/^ps_[A-Za-z0-9]{26}$/);
    expect(answer.body.virtualAccount.accountNumber).toMatch(/^\d{14}$/);
    expect(answer.body.paymentKey).toMatch(/^tlocal_/);
    expect(server.ledger('order-va-0001')).toMatchObject({ ...noMoney('order-va-0001'), status: 'WAITING_FOR_DEPOSIT' });
  });

  it('takes validHours, a dueDate, and a bank by its English name', async () => {
    const server = await start({ now: manualClock().now });

    const byHours = await issue(server, { orderId: 'order-va-hours', validHours: 24, bank: 'SHINHAN' });
    const byDate = await issue(server, { orderId: 'order-va-date', dueDate: '2026-03-05T18:30:00' });

    expect(byHours.body.virtualAccount).toMatchObject({ bankCode: '88', dueDate: '2026-03-03T10:00:00+09:00' });
    expect(byDate.body.virtualAccount.dueDate).toBe('2026-03-05T18:30:00+09:00');
  });

  it.each([
    ['a missing customerName', { customerName: undefined }, 400, 'INVALID_REQUEST'],
    ['both validHours and dueDate', { validHours: 24, dueDate: '2026-03-05T18:30:00' }, 400, 'INVALID_VALID_HOURS_WITH_DUE_DATE_AND_SINGLE'],
    ['validHours over 2160', { validHours: 2161 }, 400, 'EXCEED_MAX_VALID_HOURS'],
    ['an unknown bank', { bank: '99' }, 400, 'INVALID_BANK'],
    ['a bad orderId', { orderId: 'x' }, 400, 'INVALID_ORDER_ID'],
  ])('answers %s with %i %s', async (_name, change, status, code) => {
    const server = await start({ now: manualClock().now });

    const answer = await issue(server, change);

    expect([answer.status, answer.body.code]).toEqual([status, code]);
    expect(server.ledgers()).toEqual([]);
  });

  it('answers 400 DUPLICATED_ORDER_ID to a second issue for the same order', async () => {
    const server = await start();
    await issue(server);

    const again = await issue(server);

    expect([again.status, again.body.code]).toEqual([400, 'DUPLICATED_ORDER_ID']);
  });

  it('cancels an account waiting for its deposit without a refund account: CANCELED, no money moved, no deposit accepted', async () => {
    const server = await start();
    const issued = await issue(server);

    const cancelled = await cancel(server, issued.body.paymentKey, { cancelReason: 'order cancelled' });
    const deposit = await call(server, 'POST', '/_local/virtual-accounts/order-va-0001/deposit');

    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELED', balanceAmount: 0, cancels: [{ cancelAmount: 30000 }] });
    expect(server.ledger('order-va-0001')).toMatchObject({ ...noMoney('order-va-0001'), status: 'CANCELED' });
    expect([deposit.status, deposit.body.code]).toEqual([409, 'NOT_WAITING_FOR_DEPOSIT']);
  });
});

describe('deposits and DEPOSIT_CALLBACKs', () => {
  it('records the deposit, answers 202 at once, and resends the callback after a 500 until the receiver answers 200', async () => {
    const receiver = await startReceiver((index) => (index === 0 ? 500 : 200));
    const server = await start({ webhookUrl: receiver.url });
    const issued = await issue(server);

    const answer = await call(server, 'POST', '/_local/virtual-accounts/order-va-0001/deposit', { authorization: null });
    await vi.waitFor(() => expect(server.callbacks()).toHaveLength(2), { timeout: 3000 });

    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ orderId: 'order-va-0001', transactionKey: expect.stringMatching(/^[0-9A-F]{32}$/) });
    const { transactionKey } = answer.body;
    expect(server.callbacks().map(({ attempt, status, trigger }) => ({ attempt, status, trigger }))).toEqual([
      { attempt: 1, status: 500, trigger: 'scheduled' },
      { attempt: 2, status: 200, trigger: 'scheduled' },
    ]);
    expect(receiver.requests.map((r) => r.body)).toEqual([
      { createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/), secret: issued.body.secret, status: 'DONE', transactionKey, orderId: 'order-va-0001' },
      receiver.requests[0]?.body,
    ]);
    expect(receiver.requests.map((r) => r.headers['tosspayments-webhook-transmission-retried-count'])).toEqual(['0', '1']);
    const payment = await call(server, 'GET', '/v1/payments/orders/order-va-0001');
    expect(payment.body).toMatchObject({ status: 'DONE', lastTransactionKey: transactionKey, approvedAt: expect.any(String), virtualAccount: { depositorName: '박토스' } });
    expect(server.ledger('order-va-0001')).toMatchObject({
      status: 'DONE',
      chargeCount: 1,
      chargedAmount: 30000,
      depositCount: 1,
      depositedAmount: 30000,
      transactionKeys: [transactionKey],
    });
  });

  it('answers 404 for an order without a virtual account and 409 for a second deposit', async () => {
    const server = await start();
    await issue(server);
    await call(server, 'POST', '/_local/virtual-accounts/order-va-0001/deposit');

    const unknown = await call(server, 'POST', '/_local/virtual-accounts/order-nobody/deposit');
    const second = await call(server, 'POST', '/_local/virtual-accounts/order-va-0001/deposit');

    expect(unknown.status).toBe(404);
    expect([second.status, second.body.code]).toEqual([409, 'NOT_WAITING_FOR_DEPOSIT']);
    expect(server.ledger('order-va-0001').depositCount).toBe(1);
  });

  it('gives up when the schedule ends, and counts a receiver that does not answer in time as an error', async () => {
    const failing = await startReceiver(() => 500);
    const silent = await startReceiver(() => 'hang');
    const server = await start({ webhookUrl: failing.url, webhookRetryDelaysMs: [10, 10], webhookTimeoutMs: 200 });
    await issue(server, { orderId: 'order-va-fail' });
    await issue(server, { orderId: 'order-va-hang' });

    const exhausted = await (await server.deposit('order-va-fail')).delivery;
    server.setWebhookUrl(silent.url);
    const timedOut = await (await server.deposit('order-va-hang')).delivery;

    expect(exhausted).toEqual({ outcome: 'exhausted', attempts: 3 });
    expect(timedOut).toEqual({ outcome: 'exhausted', attempts: 3 });
    expect(server.callbacks('order-va-fail').map((c) => c.status)).toEqual([500, 500, 500]);
    expect(server.callbacks('order-va-hang').map((c) => [c.status, c.error])).toEqual(
      Array.from({ length: 3 }, () => ['error', 'no answer within 200 ms']),
    );
  });

  it('sends nothing without a webhook URL; a resend once one is set delivers the same callback', async () => {
    const receiver = await startReceiver();
    const server = await start();
    await issue(server);

    const made = await server.deposit('order-va-0001');
    expect(await made.delivery).toEqual({ outcome: 'no-webhook-url', attempts: 0 });
    const set = await call(server, 'PUT', '/_local/webhook-url', { body: { webhookUrl: receiver.url } });
    const resent = await call(server, 'POST', '/_local/callbacks/resend', { body: { orderId: 'order-va-0001' } });

    expect(set.body).toEqual({ webhookUrl: receiver.url });
    expect(resent.body).toMatchObject({ orderId: 'order-va-0001', transactionKey: made.transactionKey, attempt: 1, status: 200, trigger: 'resend' });
    expect(receiver.requests.map((r) => r.body.transactionKey)).toEqual([made.transactionKey]);
  });

  it('resends the last callback as a duplicate and forges one with a wrong secret, answering with the receiver’s status', async () => {
    let secret = '';
    const receiver = await startReceiver((_index, body) => (body.secret === secret ? 200 : 401));
    const server = await start({ webhookUrl: receiver.url });
    secret = (await issue(server)).body.secret;
    const made = await server.deposit('order-va-0001');
    await made.delivery;

    const resent = await call(server, 'POST', '/_local/callbacks/resend', { body: { orderId: 'order-va-0001' } });
    const forged = await call(server, 'POST', '/_local/callbacks/forge', { body: { orderId: 'order-va-0001', secret: 'ps_forged', status: 'DONE' } });
    const nothingToResend = await call(server, 'POST', '/_local/callbacks/resend', { body: { orderId: 'order-nobody' } });

    expect(resent.body).toMatchObject({ status: 200, attempt: 2, trigger: 'resend', transactionKey: made.transactionKey });
    expect(forged.body).toMatchObject({ status: 401, trigger: 'forged', orderId: 'order-va-0001' });
    expect(receiver.requests[1]?.body).toEqual(receiver.requests[0]?.body);
    expect(receiver.requests[2]?.body).toMatchObject({ secret: 'ps_forged', status: 'DONE', orderId: 'order-va-0001' });
    expect(nothingToResend.status).toBe(404);
    const listed = await call(server, 'GET', '/_local/callbacks?orderId=order-va-0001');
    expect(listed.body.map((c: any) => [c.trigger, c.status])).toEqual([
      ['scheduled', 200],
      ['resend', 200],
      ['forged', 401],
    ]);
    expect(server.ledger('order-va-0001').depositCount).toBe(1);
  });

  it('refunds a deposited account only to a refund account: 400 INVALID_REFUND_ACCOUNT_INFO without one', async () => {
    const server = await start();
    const issued = await issue(server);
    await server.deposit('order-va-0001');

    const without = await cancel(server, issued.body.paymentKey, { cancelReason: 'refund' });
    const withAccount = await cancel(server, issued.body.paymentKey, {
      cancelReason: 'refund',
      refundReceiveAccount: { bank: '88', accountNumber: '12345678901234', holderName: '박토스' },
    });

    expect([without.status, without.body.code]).toEqual([400, 'INVALID_REFUND_ACCOUNT_INFO']);
    expect(withAccount.status).toBe(200);
    expect(withAccount.body).toMatchObject({
      status: 'CANCELED',
      balanceAmount: 0,
      virtualAccount: { refundStatus: 'PENDING', refundReceiveAccount: { bankCode: '88', accountNumber: '12345678901234', holderName: '박토스' } },
    });
    expect(server.ledger('order-va-0001')).toMatchObject({ chargeCount: 1, depositCount: 1, refundCount: 1, refundedAmount: 30000 });
  });

  it('with allDepositCallbacks, also calls back on issue (WAITING_FOR_DEPOSIT) and cancel (CANCELED)', async () => {
    const receiver = await startReceiver();
    const server = await start({ webhookUrl: receiver.url, allDepositCallbacks: true });
    const issued = await issue(server);

    await cancel(server, issued.body.paymentKey);
    await vi.waitFor(() => expect(receiver.requests).toHaveLength(2), { timeout: 3000 });

    expect(receiver.requests.map((r) => r.body.status).sort()).toEqual(['CANCELED', 'WAITING_FOR_DEPOSIT']);
  });
});

describe('lookups', () => {
  it('shows the same Payment by orderId and by paymentKey', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-lookup-1', amount: 15000 });
    await confirm(server, session);

    const byOrder = await call(server, 'GET', '/v1/payments/orders/order-lookup-1');
    const byKey = await call(server, 'GET', `/v1/payments/${session.paymentKey}`);

    expect(byOrder.status).toBe(200);
    expect(byOrder.body).toMatchObject({ paymentKey: session.paymentKey, status: 'DONE' });
    expect(byKey.text).toBe(byOrder.text);
  });

  it('shows a session that was never confirmed as IN_PROGRESS', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-lookup-2', amount: 15000 });

    const answer = await call(server, 'GET', '/v1/payments/orders/order-lookup-2');

    expect(answer.body).toMatchObject({ paymentKey: session.paymentKey, status: 'IN_PROGRESS', approvedAt: null, lastTransactionKey: null });
  });

  it('answers 404 NOT_FOUND_PAYMENT for an unknown order or paymentKey', async () => {
    const server = await start();

    const byOrder = await call(server, 'GET', '/v1/payments/orders/order-nobody');
    const byKey = await call(server, 'GET', '/v1/payments/tlocal_nobody');

    expect([byOrder.status, byOrder.body.code]).toEqual([404, 'NOT_FOUND_PAYMENT']);
    expect([byKey.status, byKey.body.code]).toEqual([404, 'NOT_FOUND_PAYMENT']);
  });
});

describe('faults', () => {
  it('in an outage answers every /v1 request 500 FAILED_INTERNAL_SYSTEM_PROCESSING without doing anything, until reset', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-outage', amount: 15000 });
    await call(server, 'PUT', '/_local/faults', { body: { outage: true } });

    const confirmed = await confirm(server, session, { key: 'outage-1' });
    const lookedUp = await call(server, 'GET', '/v1/payments/orders/order-outage');
    const reset = await call(server, 'DELETE', '/_local/faults');
    const retried = await confirm(server, session, { key: 'outage-1' });

    expect([confirmed.status, confirmed.body.code]).toEqual([500, 'FAILED_INTERNAL_SYSTEM_PROCESSING']);
    expect([lookedUp.status, lookedUp.body.code]).toEqual([500, 'FAILED_INTERNAL_SYSTEM_PROCESSING']);
    expect(reset.body).toMatchObject({ outage: false, outageRate: 0, loseAnswerRate: 0, loseNextAnswers: 0, slowMs: 0 });
    expect(retried.status).toBe(200);
    expect(server.ledger('order-outage').chargeCount).toBe(1);
  });

  it('draws outages at outageRate from its seed: the same seed gives the same answers', async () => {
    const statuses = async () => {
      const server = await start({ faults: { outageRate: 0.5, seed: 7 } });
      const answers: number[] = [];
      for (let i = 0; i < 20; i++) answers.push((await call(server, 'GET', '/v1/payments/orders/order-nobody')).status);
      return answers;
    };

    const first = await statuses();
    const second = await statuses();

    expect(first).toEqual(second);
    expect(new Set(first)).toEqual(new Set([404, 500]));
  });

  it('loses an answer after doing the work: the client sees a socket error, the ledger the charge, a retry with the key the stored answer', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-lost', amount: 15000 });
    server.faults.set({ loseNextAnswers: 1 });

    await expect(confirm(server, session, { key: 'lost-1' })).rejects.toThrow();
    const charged = server.ledger('order-lost');
    const retried = await confirm(server, session, { key: 'lost-1' });

    expect(charged).toMatchObject({ status: 'DONE', chargeCount: 1, chargedAmount: 15000 });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'DONE', lastTransactionKey: charged.transactionKeys[0] });
    expect(server.ledger('order-lost').chargeCount).toBe(1);
    expect(server.faults.get().loseNextAnswers).toBe(0);
  });

  it('answers GET /_local/faults with the settings and seed, and refuses impossible ones with 400', async () => {
    const server = await start({ faults: { seed: 42 } });

    const current = await call(server, 'GET', '/_local/faults');
    const badRate = await call(server, 'PUT', '/_local/faults', { body: { outageRate: 2 } });
    const unknown = await call(server, 'PUT', '/_local/faults', { body: { outagerate: 0.5 } });

    expect(current.body).toEqual({ outage: false, outageRate: 0, loseAnswerRate: 0, loseNextAnswers: 0, slowMs: 0, seed: 42 });
    expect([badRate.status, badRate.body.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(badRate.body.message).toBe('outageRate must be a number from 0 to 1, got 2');
    expect(unknown.status).toBe(400);
    expect(server.faults.get().outageRate).toBe(0);
  });
});

describe('HTTP edge cases', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/v2/payments/x'],
    ['GET', '/v1/unknown'],
    ['DELETE', '/v1/payments/tlocal_x'],
    ['GET', '/_local/nothing'],
  ])('answers %s %s with 404 NOT_FOUND as a JSON error object', async (method, path) => {
    const server = await start();

    const answer = await call(server, method, path);

    expect([answer.status, answer.body.code]).toEqual([404, 'NOT_FOUND']);
    expect(answer.headers.get('content-type')).toBe('application/json');
  });

  it('answers malformed JSON with 400 INVALID_REQUEST and a body over 1 MiB with 413', async () => {
    const server = await start();

    const malformed = await call(server, 'POST', '/v1/payments/confirm', { rawBody: '{"paymentKey":' });
    const huge = await call(server, 'POST', '/v1/virtual-accounts', { rawBody: JSON.stringify({ orderName: 'x'.repeat(1024 * 1024) }) });

    expect([malformed.status, malformed.body.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(huge.status).toBe(413);
  });

  it('ignores unknown request fields', async () => {
    const server = await start();
    const session = server.createPaymentSession({ orderId: 'order-extra', amount: 15000 });

    const answer = await call(server, 'POST', '/v1/payments/confirm', { body: { ...session, somethingNew: true } });

    expect(answer.status).toBe(200);
  });
});

describe('control routes and library API', () => {
  it('creates payment sessions over HTTP with 201, refusing bad ones with Toss-style errors', async () => {
    const server = await start();

    const created = await call(server, 'POST', '/_local/payment-sessions', { body: { orderId: 'order-http-1', amount: 15000, method: 'EASY_PAY' } });
    const duplicate = await call(server, 'POST', '/_local/payment-sessions', { body: { orderId: 'order-http-1', amount: 15000 } });
    const badCode = await call(server, 'POST', '/_local/payment-sessions', { body: { orderId: 'order-http-2', amount: 1, outcome: 'decline', declineCode: 'NOPE' } });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({ paymentKey: expect.stringMatching(/^tlocal_[A-Za-z0-9]+$/), orderId: 'order-http-1', amount: 15000 });
    expect([duplicate.status, duplicate.body.code]).toEqual([400, 'DUPLICATED_ORDER_ID']);
    expect([badCode.status, badCode.body.code]).toEqual([400, 'INVALID_REQUEST']);
  });

  it('lets a declined order get a new session', async () => {
    const server = await start();
    const declined = server.createPaymentSession({ orderId: 'order-retry', amount: 15000, outcome: 'decline' });
    await confirm(server, declined);

    const retry = server.createPaymentSession({ orderId: 'order-retry', amount: 15000 });
    const answer = await confirm(server, retry);

    expect(answer.body.status).toBe('DONE');
    expect(server.ledger('order-retry')).toMatchObject({ paymentKey: retry.paymentKey, chargeCount: 1 });
  });

  it('serves the ledger of one order and of all orders', async () => {
    const server = await start();
    await confirm(server, server.createPaymentSession({ orderId: 'order-ledger-1', amount: 1000 }));
    server.createPaymentSession({ orderId: 'order-ledger-2', amount: 2000 });

    const one = await call(server, 'GET', '/_local/ledger/order-ledger-1');
    const all = await call(server, 'GET', '/_local/ledger');
    const unknown = await call(server, 'GET', '/_local/ledger/order-nobody');

    expect(one.body).toMatchObject({ orderId: 'order-ledger-1', status: 'DONE', chargeCount: 1, chargedAmount: 1000 });
    expect(all.body.map((entry: any) => [entry.orderId, entry.chargedAmount])).toEqual([
      ['order-ledger-1', 1000],
      ['order-ledger-2', 0],
    ]);
    expect(unknown.body).toEqual({ ...noMoney('order-nobody'), paymentKey: null, status: null });
  });

  it('throws TossLocalError from the library with Toss’s code and status', async () => {
    const server = await start();

    const thrown = (() => {
      try {
        server.createPaymentSession({ orderId: 'bad', amount: 1000 });
      } catch (error) {
        return error;
      }
    })();

    expect(thrown).toBeInstanceOf(TossLocalError);
    expect(thrown).toMatchObject({ code: 'INVALID_ORDER_ID', status: 400 });
    await expect(server.deposit('order-nobody')).rejects.toMatchObject({ code: 'NOT_FOUND_PAYMENT', status: 404 });
    expect(server.payment('order-nobody')).toBeUndefined();
  });

  it('refuses impossible options', async () => {
    await expect(startTossLocalServer({ secretKey: '' })).rejects.toThrow('secretKey must not be empty');
    await expect(startTossLocalServer({ secretKey: SECRET_KEY, faults: { outageRate: 2 } })).rejects.toThrow('outageRate must be a number from 0 to 1, got 2');
    await expect(startTossLocalServer({ secretKey: SECRET_KEY, webhookUrl: 'ftp://x' })).rejects.toThrow('webhook URL must be an http(s) URL');
  });
});

describe('toss-local command line', () => {
  it('reads every option', () => {
    const parsed = parseArgs(
      ['--port', '3002', '--secret-key', 'test_sk_local', '--webhook-url', 'http://127.0.0.1:3000/pg/webhooks/toss', '--outage-rate', '0.2',
        '--lose-answer-rate=0.1', '--slow-ms', '50', '--seed', '7', '--host', '0.0.0.0', '--retry-delays', '100,200', '--webhook-timeout-ms', '500',
        '--all-deposit-callbacks'],
      {},
    );

    expect(parsed).toEqual({
      help: false,
      options: {
        secretKey: 'test_sk_local',
        port: 3002,
        host: '0.0.0.0',
        webhookUrl: 'http://127.0.0.1:3000/pg/webhooks/toss',
        webhookRetryDelaysMs: [100, 200],
        webhookTimeoutMs: 500,
        allDepositCallbacks: true,
        faults: { outageRate: 0.2, loseAnswerRate: 0.1, slowMs: 50, seed: 7 },
      },
    });
  });

  it('defaults to port 3002, takes the key from TOSS_SECRET_KEY, and knows Toss’s real schedule', () => {
    expect(parseArgs([], { TOSS_SECRET_KEY: 'from-env' })).toEqual({ help: false, options: { secretKey: 'from-env', port: 3002 } });
    expect(parseArgs(['--retry-delays', 'toss'], { TOSS_SECRET_KEY: 'k' })).toMatchObject({ options: { webhookRetryDelaysMs: TOSS_WEBHOOK_RETRY_DELAYS_MS } });
    expect(TOSS_WEBHOOK_RETRY_DELAYS_MS.map((ms) => ms / 60_000)).toEqual([1, 4, 16, 64, 256, 1024, 4096]);
  });

  it.each([
    [['--port', '3002'], '--secret-key is required (or set TOSS_SECRET_KEY)'],
    [['--secret-key', 'k', '--outage-rate', '1.5'], '--outage-rate must be a number from 0 to 1, got "1.5"'],
    [['--secret-key', 'k', '--retry-delays', 'soon'], '--retry-delays must be comma-separated milliseconds or "toss", got "soon"'],
    [['--secret-key', 'k', '--webhook-url', 'nowhere'], '--webhook-url must be an http(s) URL, got "nowhere"'],
    [['--secret-key', 'k', '--all-deposit-callbacks=yes'], '--all-deposit-callbacks takes no value'],
    [['--secret-key', 'k', '--outage'], 'unknown option --outage'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(new UsageError(message));
  });

  it(
    'runs as its own process: announces its URL, logs each request, prints a summary on SIGTERM',
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'tools/toss-local/main.ts', '--port', '0'], {
        cwd: process.cwd(),
        env: { ...process.env, TOSS_SECRET_KEY: SECRET_KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines: string[] = [];
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const started = new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(line);
          const match = /^toss-local on (http:\/\/\S+) \(healthy; webhook not set\)$/.exec(line);
          if (match) resolve(match[1] as string);
        });
        child.on('exit', () => reject(new Error(`exited before starting: ${lines.join('\n')}`)));
      });

      const url = await started;
      const answer = await fetch(`${url}/v1/payments/orders/order-cli-1`, { headers: { Authorization: AUTHORIZATION } });
      await vi.waitFor(() => expect(lines.some((line) => line.includes('GET /v1/payments/orders/order-cli-1 404 idem=-'))).toBe(true));
      child.kill('SIGTERM');

      expect(answer.status).toBe(404);
      expect(await exited).toBe(0);
      expect(lines.at(-1)).toBe('0 orders; 0 charges (0 KRW, 0 by deposit); 0 refunds (0 KRW); 0 callback attempts (0 answered 200)');
    },
    30_000,
  );
});
