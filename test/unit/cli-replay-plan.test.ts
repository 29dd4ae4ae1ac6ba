import { describe, expect, it } from 'vitest';
import { planReplayBatches, selectEvents, sendOrder } from '../../cli/replay-plan';
import { envelope } from '../support/stream-events';

/** An Outbox item: the envelope plus the attributes the table adds. */
const item = (aggregateId: string, sequence: number, occurredAt = `2026-11-25T00:00:0${sequence}.000Z`) => ({
  ...envelope(aggregateId, sequence, { occurredAt }),
  expiresAt: 1_900_000_000,
  pendingShard: 3,
});

const labels = (events: { aggregateId: string; sequence: number }[]) => events.map((e) => `${e.aggregateId}-${e.sequence}`);

describe('selectEvents', () => {
  it('groups items by payment in sequence order and drops Outbox-only attributes', () => {
    const selected = selectEvents([item('pay_b', 2), item('pay_a', 2), item('pay_b', 1), item('pay_a', 1)]);

    expect([...selected.byPayment.keys()]).toEqual(['pay_a', 'pay_b']);
    expect(labels([...(selected.byPayment.get('pay_b') ?? [])])).toEqual(['pay_b-1', 'pay_b-2']);
    expect(selected.byPayment.get('pay_a')?.[0]).not.toHaveProperty('expiresAt');
    expect(selected.byPayment.get('pay_a')?.[0]).not.toHaveProperty('pendingShard');
    expect(selected.invalid).toEqual([]);
  });

  it('orders payments by their first event\'s time', () => {
    const selected = selectEvents([item('pay_a', 1, '2026-11-25T10:00:00.000Z'), item('pay_b', 1, '2026-11-25T09:00:00.000Z')]);

    expect(selected.payments.map((p) => p.aggregateId)).toEqual(['pay_b', 'pay_a']);
  });

  it('reports each payment\'s range and the sequences missing inside it', () => {
    const selected = selectEvents([item('pay_a', 2), item('pay_a', 5), item('pay_a', 3)]);

    expect(selected.payments).toEqual([{ aggregateId: 'pay_a', count: 3, firstSequence: 2, lastSequence: 5, missing: [4] }]);
  });

  it('lists items that are not events instead of sending around them', () => {
    const selected = selectEvents([item('pay_a', 1), { aggregateId: 'pay_a', sequence: 2, type: 'payment.approved' }]);

    expect(selected.invalid).toEqual(['pay_a/2: outbox item has no eventId']);
  });
});

describe('sendOrder and planReplayBatches', () => {
  it('interleaves payments round by round, each payment in sequence order', () => {
    const { byPayment } = selectEvents([item('pay_a', 1), item('pay_a', 2), item('pay_a', 3), item('pay_b', 1)]);

    expect(labels(sendOrder(byPayment))).toEqual(['pay_a-1', 'pay_b-1', 'pay_a-2', 'pay_a-3']);
  });

  it('puts at most one event of a payment in a batch (the relay\'s planner), so n+1 is sent after n was accepted', () => {
    const { byPayment } = selectEvents([item('pay_a', 1), item('pay_a', 2), item('pay_a', 3), item('pay_b', 1), item('pay_b', 2)]);

    const { batches } = planReplayBatches(sendOrder(byPayment), { maxEntries: 10, maxBytes: 256 * 1024, messageBytes: () => 100 });

    expect(batches.map((b) => labels(b.entries.map((e) => e.envelope)))).toEqual([['pay_a-1', 'pay_b-1'], ['pay_a-2', 'pay_b-2'], ['pay_a-3']]);
  });

  it('reports an event too large for any batch', () => {
    const { byPayment } = selectEvents([item('pay_a', 1)]);

    const plan = planReplayBatches(sendOrder(byPayment), { maxEntries: 10, maxBytes: 10, messageBytes: () => 11 });

    expect(plan.tooLarge).toMatch(/evt-pay_a-1 is 11 bytes, over the 10-byte limit/);
  });
});
