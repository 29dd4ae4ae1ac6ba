import { describe, expect, it } from 'vitest';
import { envelopeFromOutboxItem, InvalidOutboxItemError, type EventEnvelope } from '../../lambdas/domain/event-envelope';
import {
  batchesBefore,
  batchResult,
  failedFromAll,
  planRelay,
  type BatchLimits,
  type PredecessorLookup,
  type RelayRecord,
} from '../../lambdas/domain/relay-plan';
import { envelope } from '../support/stream-events';

const event = (aggregateId: string, sequence: number, position = `${aggregateId}-${sequence}`): RelayRecord => ({
  kind: 'event',
  position,
  envelope: envelope(aggregateId, sequence),
});
const ignored = (position: string): RelayRecord => ({ kind: 'ignored', position, reason: 'REMOVE record' });

const snsLike: BatchLimits = { maxEntries: 10, maxBytes: 256 * 1024, messageBytes: () => 1_000 };
const label = (e: EventEnvelope) => `${e.aggregateId}-${e.sequence}`;

/** The plan as waves of batches of `<aggregate>-<sequence>` labels, for readable expectations. */
function waves(records: RelayRecord[], limits: BatchLimits = snsLike, lookups?: Map<number, PredecessorLookup>): string[][][] {
  return planRelay(records, limits, lookups).waves.map((wave) => wave.batches.map((batch) => batch.entries.map((entry) => label(entry.envelope))));
}

/** A seeded generator, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('planRelay: full batches', () => {
  it('fills batches of 10 with events of different payments, all in one wave', () => {
    const records = Array.from({ length: 25 }, (_, i) => event(`p${i}`, 1));

    const plan = waves(records);

    expect(plan.map((wave) => wave.map((batch) => batch.length))).toEqual([[10, 10, 5]]);
    expect(plan.flat(2)).toEqual(records.map((r) => (r.kind === 'event' ? label(r.envelope) : '')));
  });

  it('packs 100 records of 50 payments (create and confirm next to each other) into 10 full calls in 2 waves', () => {
    const records = Array.from({ length: 50 }, (_, p) => [event(`p${p}`, 1), event(`p${p}`, 2)]).flat();

    const plan = waves(records);

    expect(plan.map((wave) => wave.map((batch) => batch.length))).toEqual([
      [10, 10, 10, 10, 10],
      [10, 10, 10, 10, 10],
    ]);
    expect(plan[0]?.flat().every((l) => l.endsWith('-1'))).toBe(true);
    expect(plan[1]?.flat().every((l) => l.endsWith('-2'))).toBe(true);
  });

  it('puts events of payments far apart in the stream into the same batch', () => {
    const records = [event('A', 1), ...Array.from({ length: 60 }, () => ignored('x')), event('B', 1), event('A', 2), event('C', 1)];

    expect(waves(records)).toEqual([[['A-1', 'B-1', 'C-1']], [['A-2']]]);
  });

  it('closes a batch before it would exceed the byte limit, counting every message', () => {
    const records = Array.from({ length: 7 }, (_, i) => event(`p${i}`, 1));

    const plan = waves(records, { maxEntries: 10, maxBytes: 3_500, messageBytes: () => 1_000 });

    expect(plan.map((wave) => wave.map((batch) => batch.length))).toEqual([[3, 3, 1]]);
  });

  it('keeps every call within 256 KiB: four 60 KiB events per call, not ten', () => {
    const records = Array.from({ length: 10 }, (_, i) => event(`p${i}`, 1));

    const plan = planRelay(records, { maxEntries: 10, maxBytes: 256 * 1024, messageBytes: () => 60 * 1024 });

    expect(plan.batches.map((batch) => batch.entries.length)).toEqual([4, 4, 2]);
  });

  it('fills earlier batches first with events that still fit (large and small events mixed)', () => {
    const big = envelope('big', 1, { data: { note: 'x'.repeat(2_000) } });
    const records: RelayRecord[] = [event('a', 1), { kind: 'event', position: 'big-1', envelope: big }, event('b', 1), event('c', 1)];
    const measure = (e: EventEnvelope) => JSON.stringify(e).length;

    expect(waves(records, { maxEntries: 10, maxBytes: measure(big) + 100, messageBytes: measure })).toEqual([[['a-1', 'b-1', 'c-1'], ['big-1']]]);
  });
});

describe('planRelay: a payment’s order', () => {
  it('puts a payment’s later events in later waves, each wave holding one event per payment', () => {
    const records = [event('A', 1), event('B', 1), event('A', 2), event('C', 1), event('A', 3), event('B', 2)];

    expect(waves(records)).toEqual([[['A-1', 'B-1', 'C-1']], [['A-2', 'B-2']], [['A-3']]]);
  });

  it.each(Array.from({ length: 20 }, (_, i) => [i + 1]))(
    'never plans event n+1 in the same or an earlier wave than n, and plans every event once (random interleaving, seed %i)',
    (seed) => {
      const next = seeded(seed);
      const nextSequence = new Map<string, number>();
      const records: RelayRecord[] = [];
      for (let i = 0; i < 100; i += 1) {
        if (next() < 0.1) {
          records.push(ignored(`x${i}`));
          continue;
        }
        const payment = `p${Math.floor(next() * 30)}`;
        const sequence = (nextSequence.get(payment) ?? 0) + 1;
        nextSequence.set(payment, sequence);
        records.push(event(payment, sequence));
      }
      const limits = { maxEntries: 10, maxBytes: 5_000, messageBytes: () => 1_000 + Math.floor(next() * 1_500) };

      const plan = planRelay(records, limits);

      const waveOf = new Map<string, number>();
      plan.waves.forEach((wave, w) => {
        const inWave = wave.batches.flatMap((batch) => batch.entries.map((entry) => entry.envelope.aggregateId));
        expect(new Set(inWave).size).toBe(inWave.length);
        for (const batch of wave.batches) expect(batch.entries.length).toBeLessThanOrEqual(10);
        for (const batch of wave.batches) for (const entry of batch.entries) waveOf.set(label(entry.envelope), w);
      });
      const events = records.flatMap((r) => (r.kind === 'event' ? [r.envelope] : []));
      expect(plan.batches.flatMap((batch) => batch.entries).length).toBe(events.length);
      for (const e of events) {
        if (e.sequence === 1) continue;
        expect(waveOf.get(label(e))).toBeGreaterThan(waveOf.get(`${e.aggregateId}-${e.sequence - 1}`) as number);
      }
    },
  );

  it('flattens the waves into batches that may also be sent one after another', () => {
    const records = [event('A', 1), event('A', 2), event('B', 1)];

    const plan = planRelay(records, snsLike);

    expect(plan.batches).toEqual(plan.waves.flatMap((wave) => wave.batches));
    expect(plan.batches.map((batch) => batch.entries.map((entry) => label(entry.envelope)))).toEqual([['A-1', 'B-1'], ['A-2']]);
  });
});

describe('planRelay: what is not sent', () => {
  it('leaves records that are not events out', () => {
    const records = [event('A', 1), ignored('r1'), event('B', 1), ignored('r2')];

    const plan = planRelay(records, snsLike);

    expect(plan.batches.map((b) => b.entries.map((e) => e.index))).toEqual([[0, 2]]);
    expect(plan.halt).toBeUndefined();
  });

  it('halts at an event larger than a whole batch, planning only the records before it', () => {
    const records = [event('A', 1), event('B', 1), event('C', 1), event('D', 1)];
    const measure = (e: EventEnvelope) => (e.aggregateId === 'C' ? 5_000 : 100);

    const plan = planRelay(records, { maxEntries: 10, maxBytes: 4_096, messageBytes: measure });

    expect(plan.batches.map((b) => b.entries.map((e) => e.index))).toEqual([[0, 1]]);
    expect(plan.halt).toEqual({ index: 2, reason: 'event evt-C-1 is 5000 bytes, over the 4096-byte limit' });
  });

  it('halts at an invalid record', () => {
    const records: RelayRecord[] = [event('A', 1), { kind: 'invalid', position: 'x', reason: 'outbox item has no eventId' }, event('B', 1)];

    const plan = planRelay(records, snsLike);

    expect(plan.batches.map((b) => b.entries.map((e) => e.index))).toEqual([[0]]);
    expect(plan.halt).toEqual({ index: 1, reason: 'outbox item has no eventId' });
  });

  it('plans nothing for an invocation without events', () => {
    expect(planRelay([ignored('r1')], snsLike)).toEqual({ waves: [], batches: [] });
  });

  it('rejects a limit of zero entries', () => {
    expect(() => planRelay([], { ...snsLike, maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('batchResult', () => {
  const [batch] = planRelay([event('A', 1), event('B', 1), event('C', 1)], snsLike).batches;
  if (!batch) throw new Error('expected a batch');
  const accepted = (ids: Set<string>) => batchResult(batch, ids).accepted.map((entry) => label(entry.envelope));

  it('accepts everything when nothing failed', () => {
    expect(batchResult(batch, new Set())).toEqual({ accepted: batch.entries });
  });

  it('fails from the earliest rejected entry, whatever order the failures are listed in, and keeps the accepted ones', () => {
    const failed = new Set(['evt-C-1', 'evt-B-1']);

    expect(batchResult(batch, failed).failedFrom).toBe(1);
    expect(accepted(failed)).toEqual(['A-1']);
  });

  it('accepts nothing and fails from the first entry when the broker reports an id the batch does not hold', () => {
    expect(batchResult(batch, new Set(['evt-C-1', 'evt-unknown']))).toEqual({ accepted: [], failedFrom: 0 });
  });

  it('fails a batch whose call threw from its lowest entry', () => {
    expect(failedFromAll(batch)).toEqual({ failedFrom: 0 });
    expect(failedFromAll({ entries: [] })).toEqual({});
  });
});

describe('batchesBefore', () => {
  it('keeps only entries of records before the failed one, dropping batches left empty', () => {
    const records = [event('A', 1), event('B', 1), event('A', 2), event('C', 1), event('B', 2), event('C', 2)];
    const [, second] = planRelay(records, { ...snsLike, maxEntries: 2 }).waves;
    if (!second) throw new Error('expected a second wave');

    const left = batchesBefore(second, 4);

    expect(second.batches.map((b) => b.entries.map((e) => label(e.envelope)))).toEqual([['A-2', 'B-2'], ['C-2']]);
    expect(left.map((b) => b.entries.map((e) => label(e.envelope)))).toEqual([['A-2']]);
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
