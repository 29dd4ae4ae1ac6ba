import { describe, expect, it } from 'vitest';
import { envelopeFromOutboxItem, InvalidOutboxItemError, type EventEnvelope } from '../../lambdas/domain/event-envelope';
import {
  firstFailedIndex,
  planRelay,
  type BatchLimits,
  type RelayRecord,
} from '../../lambdas/domain/relay-plan';
import { envelope } from '../support/stream-events';

const event = (aggregateId: string, sequence: number, position = `${aggregateId}-${sequence}`): RelayRecord => ({
  kind: 'event',
  position,
  envelope: envelope(aggregateId, sequence),
});
const ignored = (position: string): RelayRecord => ({ kind: 'ignored', position, reason: 'REMOVE record' });

const sqsLike: BatchLimits = { maxEntries: 10, maxBytes: 256 * 1024, messageBytes: () => 1_000 };

/** The batches as `<aggregate>-<sequence>` labels, for readable expectations. */
function labels(records: RelayRecord[], limits: BatchLimits = sqsLike): string[][] {
  return planRelay(records, limits).batches.map((batch) =>
    batch.entries.map((entry) => `${entry.envelope.aggregateId}-${entry.envelope.sequence}`),
  );
}

describe('planRelay', () => {
  it('cuts events of distinct payments into batches of at most 10, in stream order', () => {
    const records = Array.from({ length: 25 }, (_, i) => event(`p${i}`, 1));

    const batches = labels(records);

    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(records.map((r) => (r.kind === 'event' ? `${r.envelope.aggregateId}-1` : '')));
  });

  it('closes a batch before it would exceed the byte limit, counting every message', () => {
    const records = Array.from({ length: 7 }, (_, i) => event(`p${i}`, 1));

    const batches = labels(records, { maxEntries: 10, maxBytes: 3_500, messageBytes: () => 1_000 });

    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it('sizes each event with the publisher measure (large and small events mixed)', () => {
    const big = envelope('big', 1, { data: { note: 'x'.repeat(2_000) } });
    const records: RelayRecord[] = [
      event('a', 1),
      { kind: 'event', position: 'big-1', envelope: big },
      event('b', 1),
      event('c', 1),
    ];
    const measure = (e: EventEnvelope) => JSON.stringify(e).length;

    const batches = labels(records, { maxEntries: 10, maxBytes: measure(big) + 100, messageBytes: measure });

    expect(batches).toEqual([['a-1'], ['big-1'], ['b-1', 'c-1']]);
  });

  it('puts at most one event per payment in a batch, splitting at the repeat so batches stay contiguous', () => {
    const records = [event('A', 1), event('B', 1), event('A', 2), event('C', 1), event('A', 3), event('B', 2)];

    expect(labels(records)).toEqual([['A-1', 'B-1'], ['A-2', 'C-1'], ['A-3', 'B-2']]);
  });

  it('keeps every payment in sequence order across batches', () => {
    const records = [event('A', 1), event('A', 2), event('A', 3), event('B', 1), event('B', 2)];

    const flat = labels(records).flat();

    expect(flat).toEqual(['A-1', 'A-2', 'A-3', 'B-1', 'B-2']);
  });

  it('leaves records that are not events out without ending a batch', () => {
    const records = [event('A', 1), ignored('r1'), event('B', 1), ignored('r2')];

    const plan = planRelay(records, sqsLike);

    expect(plan.batches.map((b) => b.entries.map((e) => e.index))).toEqual([[0, 2]]);
    expect(plan.halt).toBeUndefined();
  });

  it('halts at an event larger than a whole batch, keeping the batches before it', () => {
    const records = [event('A', 1), event('B', 1), event('C', 1), event('D', 1)];
    const measure = (e: EventEnvelope) => (e.aggregateId === 'C' ? 5_000 : 100);

    const plan = planRelay(records, { maxEntries: 10, maxBytes: 4_096, messageBytes: measure });

    expect(plan.batches.map((b) => b.entries.map((e) => e.index))).toEqual([[0, 1]]);
    expect(plan.halt).toEqual({ index: 2, reason: 'event evt-C-1 is 5000 bytes, over the 4096-byte limit' });
  });

  it('halts at an invalid record', () => {
    const records: RelayRecord[] = [event('A', 1), { kind: 'invalid', position: 'x', reason: 'outbox item has no eventId' }, event('B', 1)];

    const plan = planRelay(records, sqsLike);

    expect(plan.batches.map((b) => b.entries.map((e) => e.index))).toEqual([[0]]);
    expect(plan.halt).toEqual({ index: 1, reason: 'outbox item has no eventId' });
  });

  it('plans nothing for an invocation without events', () => {
    expect(planRelay([ignored('r1')], sqsLike)).toEqual({ batches: [] });
  });

  it('rejects a limit of zero entries', () => {
    expect(() => planRelay([], { ...sqsLike, maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('firstFailedIndex', () => {
  const [batch] = planRelay([event('A', 1), event('B', 1), event('C', 1)], sqsLike).batches;
  if (!batch) throw new Error('expected a batch');

  it('is undefined when nothing failed', () => {
    expect(firstFailedIndex(batch, new Set())).toBeUndefined();
  });

  it('is the earliest rejected entry, whatever order the failures are listed in', () => {
    expect(firstFailedIndex(batch, new Set(['evt-C-1', 'evt-B-1']))).toBe(1);
  });

  it('is the first entry when the broker reports an id the batch does not hold', () => {
    expect(firstFailedIndex(batch, new Set(['evt-C-1', 'evt-unknown']))).toBe(0);
  });
});

describe('envelopeFromOutboxItem', () => {
  it('keeps the envelope fields and drops expiresAt and other attributes', () => {
    const source = envelope('A', 2);
    const item = { ...source, expiresAt: 1_800_000_000, pendingShard: 3 };

    expect(envelopeFromOutboxItem(item)).toEqual(source);
  });

  it.each([
    ['eventId', { eventId: undefined }, 'outbox item has no eventId'],
    ['aggregateId', { aggregateId: '' }, 'outbox item has no aggregateId'],
    ['type', { type: 7 }, 'outbox item has no type'],
    ['sequence', { sequence: '2' }, 'outbox item evt-A-2 has no positive integer sequence'],
    ['sequence 0', { sequence: 0 }, 'outbox item evt-A-2 has no positive integer sequence'],
  ])('rejects an item without a usable %s', (_name, patch, message) => {
    const item = { ...envelope('A', 2), ...patch };

    expect(() => envelopeFromOutboxItem(item)).toThrow(new InvalidOutboxItemError(message));
  });
});
