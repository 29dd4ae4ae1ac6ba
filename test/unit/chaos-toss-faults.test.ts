/**
 * A chaos run on toss-local: the faults the server injects, counted from its own request log and
 * named by the request they hit; and the PG ledger rows computed from its ledger.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tossLedgerChecks, type TableSnapshot, type TossLedgerItem } from '../../chaos/checks';
import { averageEventsPerPayment, AVERAGE_EVENTS_PER_PAYMENT, cancelRefusedOn } from '../../chaos/driver';
import {
  attributeTossFaults,
  TossRequestLog,
  VIRTUAL_ACCOUNT_ISSUE,
  withTossRequestLog,
  type TossFaultContext,
  type TossInjectedRequest,
} from '../../chaos/faults/toss-pg-faults';
import { createLogger } from '../../local/log';
import { startTossLocalServer, type TossLocalServer } from '../../tools/toss-local/server';

const SECRET_KEY = 'test_sk_chaos_toss_faults';
const AUTHORIZATION = `Basic ${Buffer.from(`${SECRET_KEY}:`, 'utf8').toString('base64')}`;

const servers: TossLocalServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

describe('toss-local request log', () => {
  it('counts the outages and lost answers the server injected, from its own log lines', async () => {
    // GIVEN a server whose log goes through the stack logger chaos gives the local stack
    const log = new TossRequestLog();
    const printed: string[] = [];
    const stackLogger = withTossRequestLog(createLogger('local', { level: 'debug', sink: (_level, line) => printed.push(line) }), log);
    const tossLog = stackLogger.child('toss-local');
    const server = await startTossLocalServer({ secretKey: SECRET_KEY, log: (line) => tossLog.debug(line) });
    servers.push(server);
    const session = server.createPaymentSession({ orderId: 'order-lost-1', amount: 1_000 });
    const post = (path: string, body: unknown, key: string) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { Authorization: AUTHORIZATION, 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body) });

    // WHEN one confirm's answer is lost, its retry is answered, and one lookup meets an outage
    server.faults.set({ loseNextAnswers: 1 });
    await expect(post('/v1/payments/confirm', { ...session }, 'order-lost-1:authorize:1')).rejects.toThrow();
    const retried = await post('/v1/payments/confirm', { ...session }, 'order-lost-1:authorize:1');
    server.faults.set({ outage: true });
    const lookup = await fetch(`${server.url}/v1/payments/orders/order-lost-1`, { headers: { Authorization: AUTHORIZATION } });
    server.faults.reset();

    // THEN the log names both faults, the answered retry is none, and no toss-local line was printed
    expect(retried.status).toBe(200);
    expect(lookup.status).toBe(500);
    expect(log.requests).toBe(3);
    expect(log.injected.map(({ kind, method, path, idempotencyKey }) => ({ kind, method, path, idempotencyKey }))).toEqual([
      { kind: 'answer-lost', method: 'POST', path: '/v1/payments/confirm', idempotencyKey: 'order-lost-1:authorize:1' },
      { kind: 'outage', method: 'GET', path: '/v1/payments/orders/order-lost-1', idempotencyKey: undefined },
    ]);
    expect(log.injected.every((request) => Number.isFinite(request.at))).toBe(true);
    expect(printed).toEqual([]);
    expect(server.ledger('order-lost-1').chargeCount).toBe(1);
  });
});

describe('attributeTossFaults', () => {
  const at = (ms: number) => Date.parse('2026-01-01T00:00:00.000Z') + ms;
  const request = (kind: TossInjectedRequest['kind'], method: string, path: string, ms: number, idempotencyKey?: string): TossInjectedRequest => ({
    at: at(ms),
    kind,
    method,
    path,
    ...(idempotencyKey !== undefined && { idempotencyKey }),
  });
  const payments: Record<string, { orderId: string; method: string; declines: boolean }> = {
    p1: { orderId: 'o1', method: 'CARD', declines: false },
    p2: { orderId: 'o2', method: 'CARD', declines: true },
    p3: { orderId: 'o3', method: 'VIRTUAL_ACCOUNT', declines: false },
  };
  const context: TossFaultContext = {
    payment: (id) => payments[id],
    depositCallbacks: (id) => (id === 'p3' ? { firstAt: at(1_000), deliveredAt: at(2_000) } : {}),
    answerLostRate: 0.01,
    downRate: 0.02,
  };

  it('names each fault by the order and the event its request would have committed', () => {
    const { tally, pgFailures } = attributeTossFaults(
      {
        requests: 40,
        injected: [
          request('answer-lost', 'POST', '/v1/payments/confirm', 0, 'p1:authorize:1'),
          request('outage', 'POST', '/v1/payments/confirm', 10, 'p2:authorize:1'),
          request('outage', 'POST', '/v1/payments/tlocal_x/cancel', 20, 'p1:refund:1'),
          request('answer-lost', 'POST', '/v1/payments/tlocal_y/cancel', 30, 'p3:close-account:1'),
          request('outage', 'POST', '/v1/virtual-accounts', 40, 'p9:issue-account:1'),
          // The deposit callback's lookup (between its first callback and the one answered 200) ...
          request('outage', 'GET', '/v1/payments/orders/p3', 1_500),
          // ... and later ones, the reconciler's.
          request('outage', 'GET', '/v1/payments/orders/p3', 2_500),
          request('outage', 'GET', '/v1/payments/orders/p1', 50),
        ],
      },
      context,
    );
    expect(pgFailures).toEqual([
      { kind: 'pg-answer-lost', orderId: 'o1', paymentId: 'p1', eventType: 'payment.approved' },
      { kind: 'pg-down', orderId: 'o2', paymentId: 'p2', eventType: 'payment.failed' },
      { kind: 'pg-down', orderId: 'o1', paymentId: 'p1', eventType: 'payment.cancelled' },
      { kind: 'pg-answer-lost', orderId: 'o3', paymentId: 'p3', eventType: 'payment.cancelled' },
      { kind: 'pg-down', orderId: VIRTUAL_ACCOUNT_ISSUE, paymentId: 'p9', eventType: 'payment.created' },
      { kind: 'pg-down', orderId: 'o3', paymentId: 'p3', eventType: 'payment.approved' },
    ]);
    expect(tally).toEqual({
      requests: 40,
      answersLost: { create: 0, confirm: 1, cancel: 1, 'deposit-callback': 0, lookup: 0 },
      outages: { create: 1, confirm: 1, cancel: 1, 'deposit-callback': 1, lookup: 2 },
      answerLostRate: 0.01,
      downRate: 0.02,
      unattributed: [],
    });
  });

  it('reports a faulted request that names no payment of the run', () => {
    const { tally } = attributeTossFaults({ requests: 1, injected: [request('outage', 'POST', '/v1/payments/confirm', 0, 'p7:authorize:1')] }, context);
    expect(tally.unattributed).toEqual(['outage of POST /v1/payments/confirm (key p7:authorize:1) at 2026-01-01T00:00:00.000Z: payment p7 is none of the run\'s']);
  });
});

describe('the driver on toss-local', () => {
  it('expects the cancel of a deposited virtual account to be refused, so those payments commit 2 events', () => {
    expect(cancelRefusedOn('toss-local', 'VIRTUAL_ACCOUNT', true)).toBe(true);
    expect(cancelRefusedOn('toss-local', 'VIRTUAL_ACCOUNT', false)).toBe(false);
    expect(cancelRefusedOn('toss-local', 'CARD', true)).toBe(false);
    expect(cancelRefusedOn('sandbox', 'VIRTUAL_ACCOUNT', true)).toBe(false);
    expect(AVERAGE_EVENTS_PER_PAYMENT).toBeCloseTo(2.8);
    expect(averageEventsPerPayment('toss-local')).toBeCloseTo(2.55);
  });
});

describe('PG ledger rows on toss-local', () => {
  const payment = (id: string, fields: Record<string, unknown> = {}) => ({
    paymentId: id,
    orderId: `o-${id}`,
    version: 2,
    amount: 5_000,
    method: 'CARD',
    status: 'APPROVED',
    approvedAt: '2026-01-01T00:00:01Z',
    pgTransactionId: `key_${id}`,
    ...fields,
  });
  const entry = (id: string, fields: Partial<TossLedgerItem> = {}): TossLedgerItem => ({
    orderId: id,
    paymentKey: `key_${id}`,
    status: 'DONE',
    chargeCount: 1,
    chargedAmount: 5_000,
    refundCount: 0,
    refundedAmount: 0,
    depositCount: 0,
    depositedAmount: 0,
    transactionKeys: [`tx_charge_${id}`],
    cancelKeys: [],
    ...fields,
  });
  /** An approved card payment; a card payment cancelled with its refund; a deposited virtual account; one cancelled before its deposit. */
  const healthy = (): TableSnapshot => ({
    payments: [
      payment('p1'),
      payment('p2', { status: 'CANCELLED', version: 3, refundId: 'tx_refund_p2' }),
      payment('p3', { method: 'VIRTUAL_ACCOUNT', depositedAt: '2026-01-01T00:00:02Z' }),
      payment('p4', { method: 'VIRTUAL_ACCOUNT', status: 'CANCELLED', approvedAt: undefined, pgTransactionId: 'key_p4' }),
    ],
    outbox: [],
    inbox: [],
    idempotency: [],
    attempts: [{ paymentId: 'p1', operation: 'authorize', status: 'closed' }],
    tossLedger: [
      entry('p1'),
      entry('p2', { status: 'CANCELED', refundCount: 1, refundedAmount: 5_000, transactionKeys: ['tx_charge_p2', 'tx_refund_p2'], cancelKeys: ['tx_refund_p2'] }),
      entry('p3', { depositCount: 1, depositedAmount: 5_000 }),
      entry('p4', { status: 'CANCELED', chargeCount: 0, chargedAmount: 0, transactionKeys: [], cancelKeys: ['tx_close_p4'] }),
      // An account issued for a create that failed afterwards: no money moved.
      entry('p9', { status: 'WAITING_FOR_DEPOSIT', chargeCount: 0, chargedAmount: 0, transactionKeys: [] }),
    ],
  });
  const failing = (tables: TableSnapshot) => tossLedgerChecks(tables).filter((c) => !c.ok).map((c) => c.name);
  const withPayment = (id: string, fields: Record<string, unknown>) => {
    const tables = healthy();
    return { ...tables, payments: tables.payments.map((p) => (p.paymentId === id ? { ...p, ...fields } : p)) };
  };
  const withEntry = (id: string, fields: Partial<TossLedgerItem>) => {
    const tables = healthy();
    return { ...tables, tossLedger: (tables.tossLedger ?? []).map((e) => (e.orderId === id ? { ...e, ...fields } : e)) };
  };

  it('prints the sandbox rows and the virtual-account rows, all 0 for consistent money', () => {
    const checks = tossLedgerChecks(healthy());
    expect(checks.map((c) => [c.name, c.actual])).toEqual([
      ['PG ledger: charges on payments neither approved nor refunded', '0'],
      ['PG ledger: payments charged more than once', '0'],
      ['PG ledger: approved payments cancelled without a refund', '0'],
      ['PG ledger: attempts still open after recovery', '0'],
      ['PG ledger: payments refunded more than once', '0'],
      ['PG ledger: refunds on payments not cancelled', '0'],
      ['PG ledger: approved card/easy-pay payments without their charge', '0'],
      ['PG ledger: virtual-account deposits on payments not approved', '0'],
      ['PG ledger: approved virtual-account payments without their deposit', '0'],
      ['PG ledger: cancelled virtual-account payments whose account still takes deposits', '0'],
      ["PG ledger: amounts charged, deposited or refunded other than the payment's", '0'],
    ]);
  });

  it('reports a charge on a payment that is not approved, and one charged twice', () => {
    expect(failing(withPayment('p1', { status: 'FAILED', approvedAt: undefined, pgTransactionId: undefined }))).toEqual([
      'PG ledger: charges on payments neither approved nor refunded',
    ]);
    expect(failing(withEntry('p1', { chargeCount: 2, chargedAmount: 10_000, transactionKeys: ['a', 'b'] }))).toEqual(['PG ledger: payments charged more than once']);
  });

  it('reports a cancelled payment without its refund, a refund twice, and a refund on a payment not cancelled', () => {
    expect(failing(withPayment('p2', { refundId: 'tx_other' }))).toEqual(['PG ledger: approved payments cancelled without a refund']);
    expect(failing(withEntry('p2', { refundCount: 0, refundedAmount: 0, transactionKeys: ['tx_charge_p2'], status: 'DONE' }))).toEqual([
      'PG ledger: charges on payments neither approved nor refunded',
      'PG ledger: approved payments cancelled without a refund',
    ]);
    expect(
      failing(withEntry('p2', { refundCount: 2, refundedAmount: 10_000, transactionKeys: ['tx_charge_p2', 'tx_refund_p2', 'tx_r2'], cancelKeys: ['tx_refund_p2', 'tx_r2'] })),
    ).toEqual(['PG ledger: payments refunded more than once']);
    expect(failing(withEntry('p1', { refundCount: 1, refundedAmount: 5_000, transactionKeys: ['tx_charge_p1', 'r'], cancelKeys: ['r'] }))).toEqual([
      'PG ledger: refunds on payments not cancelled',
    ]);
  });

  it('reports an approved card payment whose paymentKey toss-local never charged', () => {
    expect(failing(withPayment('p1', { pgTransactionId: 'key_other' }))).toEqual(['PG ledger: approved card/easy-pay payments without their charge']);
    expect(failing(withEntry('p1', { chargeCount: 0, chargedAmount: 0, transactionKeys: [] }))).toEqual(['PG ledger: approved card/easy-pay payments without their charge']);
  });

  it('reports a deposit on a payment that is not approved, an approval without a deposit, and an account left open', () => {
    expect(failing(withPayment('p3', { status: 'WAITING_FOR_DEPOSIT', approvedAt: undefined, depositedAt: undefined }))).toEqual([
      'PG ledger: charges on payments neither approved nor refunded',
      'PG ledger: virtual-account deposits on payments not approved',
    ]);
    expect(failing(withEntry('p3', { depositCount: 0, depositedAmount: 0 }))).toEqual(['PG ledger: approved virtual-account payments without their deposit']);
    expect(failing(withEntry('p4', { status: 'WAITING_FOR_DEPOSIT', cancelKeys: [] }))).toEqual([
      'PG ledger: cancelled virtual-account payments whose account still takes deposits',
    ]);
  });

  it('reports money moved in another amount than the payment', () => {
    expect(failing(withEntry('p1', { chargedAmount: 4_000 }))).toEqual(["PG ledger: amounts charged, deposited or refunded other than the payment's"]);
  });

  it('reports an attempt still open', () => {
    expect(failing({ ...healthy(), attempts: [{ paymentId: 'p1', operation: 'refund', status: 'open' }] })).toEqual(['PG ledger: attempts still open after recovery']);
  });
});
