/** The chaos run's checks on hand-made tables: each violation kind is reported, consistent tables pass. */
import { describe, expect, it } from 'vitest';
import { orderStats, verify, type TableSnapshot, type VerifyInput } from '../../chaos/checks';

describe('chaos checks', () => {
  const payment = (id: string, orderId: string, version: number) => ({ paymentId: id, orderId, version });
  const event = (id: string, orderId: string, sequence: number) => ({ aggregateId: id, sequence, eventId: `${id}-${sequence}`, data: { orderId } });
  const projection = (id: string, applied: number[]) => ({ pk: `payment#${id}`, paymentId: id, appliedSequences: applied, appliedCount: applied.length, lastSequence: Math.max(0, ...applied) });
  const inboxed = (id: string, sequence: number) => ({ pk: `event#${id}-${sequence}`, eventId: `${id}-${sequence}` });

  const healthy = (): TableSnapshot => ({
    payments: [payment('p1', 'o1', 2)],
    outbox: [event('p1', 'o1', 1), event('p1', 'o1', 2)],
    inbox: [projection('p1', [1, 2]), inboxed('p1', 1), inboxed('p1', 2)],
    idempotency: [],
  });
  const input = (overrides: Partial<VerifyInput> = {}): VerifyInput => ({
    drive: {
      payments: new Map([['p1', { paymentId: 'p1', orderId: 'o1', version: 2 }]]),
      failedCreates: ['o9'],
      failedWrites: [{ orderId: 'o9', step: 'create', version: 1, status: 500 }],
      unexpected: [],
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
      transactionFailures: 1,
    },
    transactionFailures: [{ orderId: 'o9', paymentId: 'p9', version: 1, eventId: 'e9', eventType: 'payment.created', error: 'internal-server-error' }],
    race: { runs: 3, republished: 1, failed: 0, errors: 0 },
    settle: {
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
});
