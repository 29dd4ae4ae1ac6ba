/**
 * The sweeper's rules, pure: which payments to repair first, and how their pending events are
 * cut into broker batches. The sweeper use case (`use-cases/sweep-pending.ts`) runs them.
 *
 * Like the relay, the sweeper never sends a payment's event n before n - 1: each payment's
 * pending events form a queue in sequence order, a batch holds at most the head of each queue
 * (one event per payment), and a payment whose head failed is dropped for this run.
 */
import type { EventEnvelope } from './event-envelope';
import type { BatchLimits } from './relay-plan';

/** A payment the index showed pending events for, and the highest such sequence. */
export interface SweepTarget {
  readonly aggregateId: string;
  readonly maxSequence: number;
  /** The oldest `occurredAt` among its pending events seen in the index. */
  readonly oldestOccurredAt: string;
}

/** One target per payment, oldest pending event first (ties by payment id, for a stable order). */
export function sweepTargets(pending: readonly EventEnvelope[]): SweepTarget[] {
  const targets = new Map<string, { aggregateId: string; maxSequence: number; oldestOccurredAt: string }>();
  for (const event of pending) {
    const target = targets.get(event.aggregateId);
    if (!target) {
      targets.set(event.aggregateId, {
        aggregateId: event.aggregateId,
        maxSequence: event.sequence,
        oldestOccurredAt: event.occurredAt,
      });
      continue;
    }
    target.maxSequence = Math.max(target.maxSequence, event.sequence);
    if (event.occurredAt < target.oldestOccurredAt) target.oldestOccurredAt = event.occurredAt;
  }
  return [...targets.values()].sort(
    (a, b) => a.oldestOccurredAt.localeCompare(b.oldestOccurredAt) || a.aggregateId.localeCompare(b.aggregateId),
  );
}

export interface SweepBatch {
  /** Heads to send in one call, in the order of `heads`. */
  readonly events: readonly EventEnvelope[];
  /** Heads no batch can ever hold (over the byte limit): their payments cannot be repaired by sending. */
  readonly oversize: readonly EventEnvelope[];
}

/**
 * Picks the next batch from the heads of the payments' queues (one head per payment, in
 * priority order): as many as fit the entry and byte limits, skipping a head that does not fit
 * the remaining bytes (it goes in a later batch) and setting aside a head that fits no batch.
 */
export function nextSweepBatch(heads: readonly EventEnvelope[], limits: BatchLimits): SweepBatch {
  const events: EventEnvelope[] = [];
  const oversize: EventEnvelope[] = [];
  const aggregates = new Set<string>();
  let bytes = 0;
  for (const head of heads) {
    const size = limits.messageBytes(head);
    if (size > limits.maxBytes) {
      oversize.push(head);
      continue;
    }
    if (events.length === limits.maxEntries) continue;
    if (bytes + size > limits.maxBytes || aggregates.has(head.aggregateId)) continue;
    events.push(head);
    bytes += size;
    aggregates.add(head.aggregateId);
  }
  return { events, oversize };
}
