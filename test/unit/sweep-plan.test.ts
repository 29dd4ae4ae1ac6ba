import { describe, expect, it } from 'vitest';
import type { BatchLimits } from '../../lambdas/domain/relay-plan';
import { nextSweepBatch, sweepTargets } from '../../lambdas/domain/sweep-plan';
import { envelope } from '../support/stream-events';

const at = (second: number) => `2026-11-25T00:00:${String(second).padStart(2, '0')}.000Z`;
const sqsLike: BatchLimits = { maxEntries: 10, maxBytes: 256 * 1024, messageBytes: () => 1_000 };
const labels = (events: readonly { aggregateId: string; sequence: number }[]) => events.map((e) => `${e.aggregateId}-${e.sequence}`);

describe('sweepTargets', () => {
  it('keeps one target per payment with its highest pending sequence, oldest payment first', () => {
    const pending = [
      envelope('B', 2, { occurredAt: at(5) }),
      envelope('A', 1, { occurredAt: at(9) }),
      envelope('B', 4, { occurredAt: at(7) }),
      envelope('C', 1, { occurredAt: at(5) }),
      envelope('A', 3, { occurredAt: at(8) }),
    ];

    expect(sweepTargets(pending)).toEqual([
      { aggregateId: 'B', maxSequence: 4, oldestOccurredAt: at(5) },
      { aggregateId: 'C', maxSequence: 1, oldestOccurredAt: at(5) },
      { aggregateId: 'A', maxSequence: 3, oldestOccurredAt: at(8) },
    ]);
  });
});

describe('nextSweepBatch', () => {
  it('takes the heads in priority order up to the entry limit', () => {
    const heads = Array.from({ length: 12 }, (_, i) => envelope(`P${i}`, 1));

    const batch = nextSweepBatch(heads, sqsLike);

    expect(labels(batch.events)).toEqual(labels(heads.slice(0, 10)));
    expect(batch.oversize).toEqual([]);
  });

  it('skips a head that does not fit the remaining bytes and fills with smaller ones', () => {
    const heads = [envelope('A', 1), envelope('B', 1), envelope('C', 1)];
    const sizes: Record<string, number> = { A: 800, B: 1_500, C: 800 };
    const limits = { maxEntries: 10, maxBytes: 2_000, messageBytes: (e: (typeof heads)[number]) => sizes[e.aggregateId] ?? 0 };

    const batch = nextSweepBatch(heads, limits);

    expect(labels(batch.events)).toEqual(['A-1', 'C-1']);
  });

  it('sets aside a head larger than any batch', () => {
    const huge = envelope('H', 2, { data: { note: 'x'.repeat(5_000) } });
    const limits = { maxEntries: 10, maxBytes: 4_000, messageBytes: (e: typeof huge) => JSON.stringify(e).length };

    const batch = nextSweepBatch([envelope('A', 1), huge], limits);

    expect(labels(batch.events)).toEqual(['A-1']);
    expect(batch.oversize).toEqual([huge]);
  });

  it('never puts two events of one payment in a batch', () => {
    const batch = nextSweepBatch([envelope('A', 1), envelope('A', 2), envelope('B', 1)], sqsLike);

    expect(labels(batch.events)).toEqual(['A-1', 'B-1']);
  });
});
