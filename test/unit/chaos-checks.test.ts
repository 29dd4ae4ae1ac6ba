/** The chaos run's checks on hand-made tables: each violation kind is reported, consistent tables pass. */
import { describe, expect, it } from 'vitest';
import { orderStats, settledVersions, verify, type RelayFailureObservation, type TableSnapshot, type VerifyInput } from '../../chaos/checks';
import type { DrivenPayment, LostAnswer } from '../../chaos/driver';
import { VIRTUAL_ACCOUNT_ISSUE } from '../../chaos/faults/toss-pg-faults';

describe('chaos checks', () => {
  /** An approved card payment (charged `sandbox_<id>` at the PG), or any other state by `fields`. */
  const payment = (id: string, orderId: string, version: number, fields: Record<string, unknown> = {}) => ({
    paymentId: id,
    orderId,
    version,
    method: 'CARD',
    status: 'APPROVED',
    approvedAt: '2026-01-01T00:00:01Z',
    pgTransactionId: `sandbox_${id}`,
    ...fields,
  });
  /** The sandbox PG ledger's money item of a payment. */
  const money = (id: string, charges: string[], refunds: string[] = []) => ({
    pk: `payment#${id}`,
    chargeCount: charges.length,
    chargeIds: charges,
    refundCount: refunds.length,
    refundIds: refunds,
  });
  const attempt = (id: string, operation: string, status: 'open' | 'closed') => ({
    paymentId: id,
    operation,
    generation: 1,
    pgIdempotencyKey: `${id}:${operation}:1`,
    status,
    startedAt: '2026-01-01T00:00:00Z',
  });
  const EVENT_TYPES = ['payment.created', 'payment.approved', 'payment.cancelled'];
  const event = (id: string, orderId: string, sequence: number, type = EVENT_TYPES[sequence - 1]) => ({ aggregateId: id, sequence, type, eventId: `${id}-${sequence}`, data: { orderId } });
  const projection = (id: string, applied: number[]) => ({ pk: `payment#${id}`, paymentId: id, appliedSequences: applied, appliedCount: applied.length, lastSequence: Math.max(0, ...applied) });
  const inboxed = (id: string, sequence: number) => ({ pk: `event#${id}-${sequence}`, eventId: `${id}-${sequence}` });

  const healthy = (): TableSnapshot => ({
    payments: [payment('p1', 'o1', 2)],
    outbox: [event('p1', 'o1', 1), event('p1', 'o1', 2)],
    inbox: [projection('p1', [1, 2]), inboxed('p1', 1), inboxed('p1', 2)],
    idempotency: [
      { key: 'api:k1', paymentId: 'p1', statusCode: 201, response: { paymentId: 'p1', orderId: 'o1', status: 'READY', version: 1 } },
      { key: 'api:k1-confirm', paymentId: 'p1', statusCode: 200, response: { paymentId: 'p1', orderId: 'o1', status: 'APPROVED', version: 2 } },
    ],
    attempts: [attempt('p1', 'authorize', 'closed')],
    ledger: [money('p1', ['sandbox_p1']), { pk: 'key#p1:authorize:1', operation: 'authorize', paymentId: 'p1', answer: { outcome: 'approved' } }],
  });
  /** p1's confirm answered 200 v2 APPROVED, dropped by the caller, and answered the same (a replay) on the retry. */
  const lostConfirm = (retry: Partial<LostAnswer['retry']> = {}): LostAnswer => ({
    orderId: 'o1',
    step: 'confirm',
    idempotencyKey: 'k1-confirm',
    committed: { status: 200, paymentId: 'p1', paymentStatus: 'APPROVED', version: 2, replayed: false },
    retry: { status: 200, paymentId: 'p1', paymentStatus: 'APPROVED', version: 2, replayed: true, ...retry },
  });
  /** p1's create (key k1) answered 201 and dropped; the retry was answered the same payment as a replay. */
  const lostCreate: LostAnswer = {
    orderId: 'o1',
    step: 'create',
    idempotencyKey: 'k1',
    committed: { status: 201, paymentId: 'p1', paymentStatus: 'READY', version: 1, replayed: false },
    retry: { status: 201, paymentId: 'p1', paymentStatus: 'READY', version: 1, replayed: true },
  };
  const input = (overrides: Partial<VerifyInput> = {}): VerifyInput => ({
    drive: {
      payments: new Map([['p1', { paymentId: 'p1', orderId: 'o1', version: 2 }]]),
      failedCreates: ['o9'],
      failedWrites: [{ orderId: 'o9', step: 'create', version: 1, status: 500 }],
      unexpected: [],
      unresolved: [],
      gaveUp: 0,
      pgUnavailable: 0,
      races: { total: 1, outcomes: { 'cancel first, confirm refused': 1, 'confirm first, cancel refunded': 0, 'cancel refused while charging, then sent again': 0, unresolved: 0 } },
      refusedAsExpected: 0,
      duplicateDepositCallbacks: 0,
      lostAnswers: [lostCreate],
      requests: 3,
      durationMs: 1,
    },
    faultCounts: {
      relayCrashes: 1,
      publishFailedEntries: 1,
      publishThrottledCalls: 1,
      consumerFailedMessages: 1,
      consumerErrors: 1,
      consumerCrashes: 1,
      poisonedEvents: 1,
      poisonedDeliveries: 5,
      duplicateInvocations: 1,
      duplicateMessagesSent: 1,
      duplicateMessageSendErrors: 0,
      skippedStreamRecords: 1,
      poisonedStreamRecords: 1,
      poisonedRelayInvocations: 3,
      transactionFailures: 1,
      pgAnswersLost: 1,
      pgDownCalls: 1,
      pgKilledCommits: 1,
    },
    transactionFailures: [{ orderId: 'o9', paymentId: 'p9', version: 1, eventId: 'e9', eventType: 'payment.created', error: 'internal-server-error' }],
    pgFailures: [],
    race: { runs: 3, republished: 1, failed: 0, errors: 0 },
    settle: {
      reconciler: { available: true, graceSeconds: 1, openAtStart: 0, runs: 0, closed: 0, outcomes: {}, failedResults: 0, failedRuns: 0, leftOpen: 0, scheduled: { runs: 0, closed: 0, failed: 0 }, durationMs: 0 },
      relayIdle: true,
      finalSweep: { rounds: 0, republished: 0, remaining: 0 },
      redrives: [],
      settled: true,
      unapplied: 0,
      mainQueueDepth: 0,
      leftInDlq: 0,
      dlqListing: [],
      durationMs: 1,
    },
    ...overrides,
  });
  const violations = (tables: TableSnapshot, overrides: Partial<VerifyInput> = {}) =>
    verify(tables, input(overrides))
      .checks.filter((c) => !c.ok)
      .map((c) => c.name);

  it('passes consistent tables', () => {
    expect(violations(healthy())).toEqual([]);
  });

  it('reports a committed event that was never applied', () => {
    const tables = { ...healthy(), inbox: [projection('p1', [1]), inboxed('p1', 1)] };
    expect(violations(tables)).toEqual([
      'events applied (sum of appliedCount) = events committed',
      'committed event ids = applied event ids (inbox)',
      'payments applied exactly 1..version, once each',
      'sequence gaps as applied (incl. missing tails)',
    ]);
  });

  it('reports events applied out of order', () => {
    const tables = { ...healthy(), inbox: [projection('p1', [2, 1]), inboxed('p1', 1), inboxed('p1', 2)] };
    expect(violations(tables)).toEqual([
      'payments applied exactly 1..version, once each',
      'sequence inversions as applied',
      'sequence gaps as applied (incl. missing tails)',
    ]);
    expect(orderStats([1, 3, 2, 2])).toEqual({ inversions: 1, gaps: 1, repeats: 1 });
  });

  it('reports anything a failed create left behind', () => {
    const tables = healthy();
    tables.outbox.push(event('p9', 'o9', 1));
    const names = violations(tables);
    expect(names).toContain('items/events of failed transactions (1 orders, 1 writes)');
    expect(names).toContain('events committed (Outbox) = sum of payment versions');
  });

  it('reports a webhook subscriber that missed an event, took one out of order, or kept one in its DLQ', () => {
    const webhook = (received: Array<[string, number]>, extra: { orderViolations?: number; leftInDlq?: number; injectedFailures?: number } = {}) => ({
      webhook: {
        subscriber: 'notifications',
        received: received.map(([id, sequence]) => ({ eventId: `${id}-${sequence}`, aggregateId: id, sequence })),
        orderViolations: extra.orderViolations ?? 0,
        injectedFailures: extra.injectedFailures ?? 1,
        leftInDlq: extra.leftInDlq ?? 0,
      },
    });
    expect(violations(healthy(), webhook([['p1', 1], ['p1', 2]]))).toEqual([]);
    expect(violations(healthy(), webhook([['p1', 1]], { leftInDlq: 1 }))).toEqual([
      'webhook notifications: committed event ids = received event ids',
      'webhook notifications: messages left in its DLQ',
    ]);
    expect(violations(healthy(), webhook([['p1', 2], ['p1', 1]], { orderViolations: 1 }))).toEqual([
      'webhook notifications: sequence order violations as received',
    ]);
    expect(violations(healthy(), webhook([['p1', 1], ['p1', 2]], { injectedFailures: 0 }))).toEqual(['fault kinds never injected']);
  });

  it('reports a DLQ that could not be emptied and a fault kind that never fired', () => {
    const base = input();
    expect(
      violations(healthy(), {
        settle: { ...base.settle, leftInDlq: 1, dlqListing: ['m-1 p1 seq 2'] },
        faultCounts: { ...base.faultCounts, consumerCrashes: 0 },
      }),
    ).toEqual(['messages left in the DLQ after redrive', 'fault kinds never injected']);
  });

  describe('the PG boundary', () => {
    const base = input();
    /** p1's confirm was answered 503 twice (answer lost, PG down), then 200; p1's commit was once killed (500). */
    const pgFaulted = (): Partial<VerifyInput> => ({
      drive: {
        ...base.drive,
        failedWrites: [
          ...base.drive.failedWrites,
          { orderId: 'o1', paymentId: 'p1', step: 'confirm', version: 2, status: 503 },
          { orderId: 'o1', paymentId: 'p1', step: 'confirm', version: 2, status: 503 },
          { orderId: 'o1', paymentId: 'p1', step: 'confirm', version: 2, status: 500 },
        ],
      },
      pgFailures: [
        { kind: 'pg-answer-lost', orderId: 'o1', paymentId: 'p1', eventType: 'payment.approved' },
        { kind: 'pg-down', orderId: 'o1', paymentId: 'p1', eventType: 'payment.approved' },
        { kind: 'killed-before-commit', orderId: 'o1', paymentId: 'p1', eventType: 'payment.approved', eventId: 'killed-1' },
      ],
    });

    it('prints the four ledger rows, and passes a payment whose PG faults were retried', () => {
      const verification = verify(healthy(), input(pgFaulted()));
      expect(verification.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([]);
      expect(verification.checks.filter((c) => c.name.startsWith('PG ledger:')).map((c) => c.name)).toEqual([
        'PG ledger: charges on payments neither approved nor refunded',
        'PG ledger: payments charged more than once',
        'PG ledger: approved payments cancelled without a refund',
        'PG ledger: attempts still open after recovery',
        'PG ledger: payments refunded more than once',
        'PG ledger: refunds on payments not cancelled',
        'PG ledger: approved card/easy-pay payments without their charge',
      ]);
      expect(verification.faults.slice(-5).map((row) => [row.fault, row.injected])).toEqual([
        ['10 PG answer lost after charging', 1],
        ['11 PG down', 1],
        ['12 function killed between the PG answer and the commit', 1],
        ['13 confirm/cancel races', 1],
        ['14 commit succeeded, answer lost', 1],
      ]);
    });

    it('reports a PG fault the API did not answer 5xx, and a 5xx no fault explains', () => {
      const faulted = pgFaulted();
      expect(violations(healthy(), { ...faulted, pgFailures: [...(faulted.pgFailures ?? []), { kind: 'pg-down', orderId: 'o1', paymentId: 'p1', eventType: 'payment.cancelled' }] })).toEqual([
        'API 5xx answers = injected failures (transactions, PG boundary)',
      ]);
      expect(violations(healthy(), { ...faulted, pgFailures: faulted.pgFailures?.slice(1) })).toEqual(['API 5xx answers = injected failures (transactions, PG boundary)']);
    });

    it('matches a create answered 503 PG_UNAVAILABLE with a fault of its virtual-account issue (toss-local), and only such a create', () => {
      const issueFailed = (code?: string): Partial<VerifyInput> => ({
        drive: { ...base.drive, failedWrites: [{ orderId: 'o9', step: 'create', version: 1, status: 503, ...(code !== undefined && { code }) }] },
        transactionFailures: [],
        pgFailures: [{ kind: 'pg-down', orderId: VIRTUAL_ACCOUNT_ISSUE, paymentId: 'p9', eventType: 'payment.created' }],
      });
      expect(violations(healthy(), issueFailed('PG_UNAVAILABLE'))).toEqual(['fault kinds never injected']);
      expect(violations(healthy(), issueFailed())).toEqual(['API 5xx answers = injected failures (transactions, PG boundary)', 'fault kinds never injected']);
    });

    it('reports an event of a killed commit that exists anyway', () => {
      const tables = healthy();
      tables.outbox[1] = { ...event('p1', 'o1', 2), eventId: 'killed-1' };
      expect(violations(tables, pgFaulted())).toContain('items/events of failed transactions (1 orders, 2 writes)');
    });

    it('reports a charge on a payment neither approved nor refunded (declined, or unknown to the store)', () => {
      const declined = { ...healthy(), payments: [payment('p1', 'o1', 2, { status: 'FAILED', approvedAt: undefined, pgTransactionId: undefined })] };
      expect(violations(declined)).toEqual(['PG ledger: charges on payments neither approved nor refunded']);
      const unknown = { ...healthy(), ledger: [money('p1', ['sandbox_p1']), money('p7', ['sandbox_p7'])] };
      expect(violations(unknown)).toEqual(['PG ledger: charges on payments neither approved nor refunded']);
    });

    it('reports a payment charged twice', () => {
      expect(violations({ ...healthy(), ledger: [money('p1', ['sandbox_p1', 'sandbox_p1b'])] })).toEqual(['PG ledger: payments charged more than once']);
    });

    it('reports an approved payment cancelled without its refund: a card charge, a virtual account deposit, a refund id the PG never gave', () => {
      const cancelled = (fields: Record<string, unknown>, ledger: Record<string, unknown>[]) =>
        violations({ ...healthy(), payments: [payment('p1', 'o1', 2, { status: 'CANCELLED', ...fields })], ledger });
      expect(cancelled({}, [money('p1', ['sandbox_p1'])])).toEqual([
        'PG ledger: charges on payments neither approved nor refunded',
        'PG ledger: approved payments cancelled without a refund',
      ]);
      expect(cancelled({ method: 'VIRTUAL_ACCOUNT', pgTransactionId: 'pg-o1', depositedAt: '2026-01-01T00:00:01Z' }, [])).toEqual([
        'PG ledger: approved payments cancelled without a refund',
      ]);
      expect(cancelled({ refundId: 'sandbox_refund_x' }, [money('p1', ['sandbox_p1'], ['sandbox_refund_y'])])).toEqual([
        'PG ledger: approved payments cancelled without a refund',
      ]);
      expect(cancelled({ refundId: 'sandbox_refund_y' }, [money('p1', ['sandbox_p1'], ['sandbox_refund_y'])])).toEqual([]);
      // Cancelled before any charge: nothing to refund.
      expect(cancelled({ status: 'CANCELLED', approvedAt: undefined, pgTransactionId: undefined }, [])).toEqual([]);
    });

    it('reports an attempt still open after recovery', () => {
      expect(violations({ ...healthy(), attempts: [attempt('p1', 'authorize', 'closed'), attempt('p1', 'refund', 'open')] })).toEqual([
        'PG ledger: attempts still open after recovery',
      ]);
    });

    it('reports a refund twice, a refund on a payment not cancelled, and an approval naming no charge of the PG', () => {
      const refundedTwice = { ...healthy(), payments: [payment('p1', 'o1', 2, { status: 'CANCELLED', refundId: 'r1' })], ledger: [money('p1', ['sandbox_p1'], ['r1', 'r2'])] };
      expect(violations(refundedTwice)).toEqual(['PG ledger: payments refunded more than once']);
      expect(violations({ ...healthy(), ledger: [money('p1', ['sandbox_p1'], ['r1'])] })).toEqual(['PG ledger: refunds on payments not cancelled']);
      expect(violations({ ...healthy(), ledger: [money('p1', ['sandbox_other'])] })).toEqual(['PG ledger: approved card/easy-pay payments without their charge']);
    });

    it('reports a PG fault kind that never fired', () => {
      expect(violations(healthy(), { faultCounts: { ...base.faultCounts, pgKilledCommits: 0 } })).toEqual(['fault kinds never injected']);
      expect(violations(healthy(), { drive: { ...base.drive, races: { ...base.drive.races, total: 0 } } })).toEqual(['fault kinds never injected']);
    });

    it('accepts the version the reconciler committed for a step left unresolved, and only that one', () => {
      const driven = (unresolved?: DrivenPayment['unresolved']): Partial<VerifyInput> => ({
        drive: { ...base.drive, payments: new Map([['p1', { paymentId: 'p1', orderId: 'o1', version: 1, ...(unresolved && { unresolved }) }]]) },
      });
      // Answered version 1 (created), its confirm 5xx after the retries; the reconciler approved it: version 2.
      expect(violations(healthy(), driven('confirm'))).toEqual([]);
      expect(settledVersions(new Map([['p1', { paymentId: 'p1', orderId: 'o1', version: 1, unresolved: 'confirm' }]]), healthy().payments)).toEqual(new Map([['p1', 2]]));
      // Without an unresolved step, version 2 is one the API never answered.
      expect(violations(healthy(), driven())).toContain('payments stored = payments created (at their answered version)');
      // Left unresolved, but the stored status is not the step's.
      expect(violations({ ...healthy(), payments: [payment('p1', 'o1', 2, { status: 'CANCELLED', refundId: 'r' })] }, driven('confirm'))).toContain(
        'payments stored = payments created (at their answered version)',
      );
      // Not moved at all (the PG never saw the request): version 1 with one event.
      const notMoved = { ...healthy(), payments: [payment('p1', 'o1', 1, { status: 'READY', approvedAt: undefined, pgTransactionId: undefined })], outbox: [event('p1', 'o1', 1)], inbox: [projection('p1', [1]), inboxed('p1', 1)], ledger: [] };
      expect(violations(notMoved, driven('confirm'))).toEqual([]);
    });
  });
  describe('commit succeeded, answer lost', () => {
    const base = input();
    const withLost = (...lost: LostAnswer[]): Partial<VerifyInput> => ({ drive: { ...base.drive, lostAnswers: lost } });

    it('passes a retry answered the committed payment as a replay, and counts it as injected', () => {
      const verification = verify(healthy(), input(withLost(lostCreate, lostConfirm())));
      expect(verification.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([]);
      expect(verification.lostAnswers).toEqual({ injected: 2, answeredCommitted: 2 });
      expect(verification.faults.find((row) => row.fault === '14 commit succeeded, answer lost')?.injected).toBe(2);
    });

    it('reports a retry answered anything but the committed result: another version, no replay, a 5xx', () => {
      const name = 'lost answers: retries answered the committed payment (same key, replayed)';
      expect(violations(healthy(), withLost(lostConfirm({ version: 3, paymentStatus: 'CANCELLED' })))).toEqual([name]);
      expect(violations(healthy(), withLost(lostConfirm({ replayed: false })))).toEqual([name]);
      expect(violations(healthy(), withLost(lostConfirm({ status: 503, paymentId: undefined, paymentStatus: undefined, version: undefined, replayed: false })))).toEqual([name]);
    });

    it('reports a store that disagrees with the answer: no idempotency record, or another event at that version', () => {
      const name = 'lost answers: retries answered the committed payment (same key, replayed)';
      expect(violations({ ...healthy(), idempotency: [] }, withLost(lostConfirm()))).toEqual([name]);
      const tables = healthy();
      tables.outbox[1] = event('p1', 'o1', 2, 'payment.failed');
      expect(violations(tables, withLost(lostConfirm()))).toContain(name);
    });

    it('reports what the retry wrote twice: a second payment for the order, a second event, a second charge', () => {
      const name = 'lost answers: payments, events or PG charges written twice';
      const twoPayments = { ...healthy(), payments: [...healthy().payments, payment('p2', 'o1', 1)] };
      expect(violations(twoPayments)).toContain(name);
      const twoEvents = { ...healthy(), outbox: [...healthy().outbox, event('p1', 'o1', 3, 'payment.approved')] };
      expect(violations(twoEvents, withLost(lostConfirm()))).toContain(name);
      expect(violations({ ...healthy(), ledger: [money('p1', ['sandbox_p1', 'sandbox_p1b'])] }, withLost(lostConfirm()))).toEqual(['PG ledger: payments charged more than once', name]);
      // The create's retry moved no money: a double charge is the PG ledger's row only.
      expect(violations({ ...healthy(), ledger: [money('p1', ['sandbox_p1', 'sandbox_p1b'])] })).toEqual(['PG ledger: payments charged more than once']);
    });

    it('reports the fault kind when no answer was lost', () => {
      expect(violations(healthy(), withLost())).toEqual(['fault kinds never injected']);
    });
  });

  describe('records sent to relay-failures', () => {
    const observed = (fields: Partial<RelayFailureObservation> = {}): RelayFailureObservation => ({
      messages: 1,
      sent: ['o1#2'],
      unnamed: [],
      poisoned: ['o1#2'],
      firstPublisher: new Map([['o1#1', 'relay'], ['o1#2', 'relay']]),
      ...fields,
    });
    const names = (tables: TableSnapshot, relayFailures: RelayFailureObservation) => violations(tables, { relayFailures });

    it('passes a poison record given up, then published and applied in order once, and counts who published it', () => {
      const verification = verify(healthy(), input({ relayFailures: observed({ firstPublisher: new Map([['o1#2', 'sweeper']]) }) }));
      expect(verification.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([]);
      expect(verification.relayFailures).toEqual({ messages: 1, sent: 1, poisoned: 1, recovered: 1, byRelay: 0, bySweeper: 1 });
    });

    it('reports a record given up and never recovered: still pending, never applied, applied twice or out of order, never published', () => {
      const name = 'relay-failures records recovered (published, applied once and in order)';
      const pending = healthy();
      pending.outbox[1] = { ...event('p1', 'o1', 2), pendingShard: 3 };
      expect(names(pending, observed())).toContain(name);
      expect(names({ ...healthy(), inbox: [projection('p1', [1]), inboxed('p1', 1)] }, observed())).toContain(name);
      expect(names({ ...healthy(), inbox: [projection('p1', [1, 2, 2]), inboxed('p1', 1), inboxed('p1', 2)] }, observed())).toContain(name);
      expect(names({ ...healthy(), inbox: [projection('p1', [2, 1]), inboxed('p1', 1), inboxed('p1', 2)] }, observed())).toContain(name);
      expect(names(healthy(), observed({ firstPublisher: new Map() }))).toEqual([name]);
      expect(names(healthy(), observed({ sent: ['o1#2', 'o7#1'], poisoned: [] }))).toEqual([name]);
    });

    it('reports none sent, a poison record never given up, and a message it cannot name', () => {
      expect(names(healthy(), observed({ sent: [], poisoned: [], messages: 0 }))).toEqual(["records sent to relay-failures (the relay's on-failure destination)"]);
      expect(names(healthy(), observed({ poisoned: ['o1#2', 'o1#1'] }))).toEqual(['poison records sent to relay-failures']);
      expect(names(healthy(), observed({ unnamed: ['RetryAttemptsExhausted s 5..9: 2 record(s), 1 named'] }))).toEqual(['relay-failures messages whose records the run cannot name']);
    });
  });
});
