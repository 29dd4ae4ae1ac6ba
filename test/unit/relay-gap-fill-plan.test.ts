import { describe, expect, it } from 'vitest';
import {
  planRelay,
  recordsNeedingPredecessors,
  type BatchLimits,
  type PredecessorLookup,
  type RelayPlan,
  type RelayRecord,
} from '../../lambdas/domain/relay-plan';
import { envelope } from '../support/stream-events';

const event = (aggregateId: string, sequence: number): RelayRecord => ({
  kind: 'event',
  position: `${aggregateId}-${sequence}`,
  envelope: envelope(aggregateId, sequence),
});
const found = (...events: Array<[string, number]>): PredecessorLookup => ({
  kind: 'found',
  events: events.map(([aggregateId, sequence]) => envelope(aggregateId, sequence)),
});
const sqsLike: BatchLimits = { maxEntries: 10, maxBytes: 256 * 1024, messageBytes: () => 1_000 };

/** Waves of batches as `<aggregate>-<sequence>@<record index>`, gap-filled entries marked with `+`. */
function describePlan(plan: RelayPlan): string[][][] {
  return plan.waves.map((wave) =>
    wave.batches.map((batch) => batch.entries.map((e) => `${e.gapFill ? '+' : ''}${e.envelope.aggregateId}-${e.envelope.sequence}@${e.index}`)),
  );
}

describe('recordsNeedingPredecessors', () => {
  it('selects events after the first whose predecessor is not earlier in the invocation', () => {
    const records = [event('A', 1), event('A', 2), event('B', 3), event('C', 1), event('B', 4), event('D', 7)];

    expect(recordsNeedingPredecessors(records)).toEqual([2, 5]);
  });

  it('looks up an event whose predecessor arrives only later in the invocation', () => {
    expect(recordsNeedingPredecessors([event('A', 3), event('A', 2)])).toEqual([0, 1]);
  });

  it('ignores non-events and everything from the first invalid record on', () => {
    const records: RelayRecord[] = [
      { kind: 'ignored', position: 'x', reason: 'REMOVE record' },
      event('A', 2),
      { kind: 'invalid', position: 'y', reason: 'no image' },
      event('B', 5),
    ];

    expect(recordsNeedingPredecessors(records)).toEqual([1]);
  });
});

describe('planRelay with pending predecessors', () => {
  it('sends the pending predecessors first, in sequence order, one per wave, attributed to the record that pulled them', () => {
    const records = [event('B', 1), event('A', 4), event('C', 1)];
    const lookups = new Map([[1, found(['A', 3], ['A', 2])]]);

    const plan = planRelay(records, sqsLike, lookups);

    expect(describePlan(plan)).toEqual([[['B-1@0', '+A-2@1', 'C-1@2']], [['+A-3@1']], [['A-4@1']]]);
    expect(plan.halt).toBeUndefined();
  });

  it('plans an event once even when it is both a pending predecessor and a later record', () => {
    const records = [event('A', 3), event('A', 2), event('B', 1)];
    const lookups = new Map([
      [0, found(['A', 2])],
      [1, found()],
    ]);

    expect(describePlan(planRelay(records, sqsLike, lookups))).toEqual([[['+A-2@0', 'B-1@2']], [['A-3@0']]]);
  });

  it('does not resend a predecessor planned from an earlier record of the invocation', () => {
    // A-1 is in the invocation and still pending (marks happen after publishing); A-2's record was lost.
    const records = [event('A', 1), event('A', 3)];
    const lookups = new Map([[1, found(['A', 1], ['A', 2])]]);

    expect(describePlan(planRelay(records, sqsLike, lookups))).toEqual([[['A-1@0']], [['+A-2@1']], [['A-3@1']]]);
  });

  it('drops looked-up events that are not earlier events of the same payment', () => {
    const records = [event('A', 2)];
    const lookups = new Map([[0, found(['A', 1], ['A', 2], ['Z', 1])]]);

    expect(describePlan(planRelay(records, sqsLike, lookups))).toEqual([[['+A-1@0']], [['A-2@0']]]);
  });

  it('halts at a record whose predecessors could not be read, after planning what came before', () => {
    const records = [event('B', 1), event('A', 2), event('C', 1)];
    const lookups = new Map<number, PredecessorLookup>([[1, { kind: 'failed', reason: 'ThrottlingException' }]]);

    const plan = planRelay(records, sqsLike, lookups);

    expect(describePlan(plan)).toEqual([[['B-1@0']]]);
    expect(plan.halt).toEqual({
      index: 1,
      reason: 'pending predecessors of event evt-A-2 could not be read: ThrottlingException',
    });
  });

  it('halts at the pulling record when a pending predecessor is too large to send', () => {
    const huge = envelope('A', 1, { data: { note: 'x'.repeat(5_000) } });
    const records = [event('B', 1), event('A', 2)];
    const lookups = new Map<number, PredecessorLookup>([[1, { kind: 'found', events: [huge] }]]);
    const measure = { ...sqsLike, maxBytes: 4_000, messageBytes: (e: typeof huge) => JSON.stringify(e).length };

    const plan = planRelay(records, measure, lookups);

    expect(describePlan(plan)).toEqual([[['B-1@0']]]);
    expect(plan.halt?.index).toBe(1);
    expect(plan.halt?.reason).toMatch(/^event evt-A-1 is \d+ bytes, over the 4000-byte limit$/);
  });
});
