/**
 * The relay's rules, pure: which stream records are events, how events are grouped into
 * broker batches, and which records to report back as failed. The relay use case
 * (`use-cases/relay-events.ts`) runs the plan against an `EventPublisher`.
 */
import type { EventEnvelope } from './event-envelope';

/**
 * One stream record as the relay sees it. `position` is the record's stream sequence number,
 * the identifier Lambda expects in `batchItemFailures`.
 */
export type RelayRecord =
  /** An INSERT of an outbox item: an event to publish. */
  | { readonly kind: 'event'; readonly position: string; readonly envelope: EventEnvelope }
  /** Not an event (TTL `REMOVE`, `MODIFY`, an emulator's unknown event name): acknowledged, never sent. */
  | { readonly kind: 'ignored'; readonly position: string; readonly reason: string }
  /** An INSERT that cannot become a message (no image, missing fields): reported as failed. */
  | { readonly kind: 'invalid'; readonly position: string; readonly reason: string };

/** Broker limits for one batch call. */
export interface BatchLimits {
  /** Most messages per call (SQS: 10). */
  readonly maxEntries: number;
  /** Most bytes per call, every message's body and attributes counted (SQS: 256 KiB). */
  readonly maxBytes: number;
  /** Bytes the broker counts for one event against `maxBytes`. */
  messageBytes(event: EventEnvelope): number;
}

export interface PlannedEntry {
  /** Index of the record in the invocation's records. */
  readonly index: number;
  readonly envelope: EventEnvelope;
}

/** One broker call: events that are contiguous in stream order, at most one per aggregate. */
export interface PlannedBatch {
  readonly entries: readonly PlannedEntry[];
}

export interface RelayPlan {
  /** Batches to send one after another, in this order. */
  readonly batches: readonly PlannedBatch[];
  /**
   * The first record that must not be sent (invalid, or too large for any batch). Everything
   * from it on is reported as failed once the batches before it have been sent.
   */
  readonly halt?: { readonly index: number; readonly reason: string };
}

/**
 * Cuts the records into broker batches.
 *
 * - Batches are contiguous runs of events in stream order, so that "the first failed record and
 *   every later one" covers exactly what was not delivered.
 * - A batch holds at most `maxEntries` events and `maxBytes` bytes.
 * - A batch holds at most one event per aggregate: if event n of a payment failed inside a batch
 *   while n+1 was accepted, consumers would receive n+1 before n. With one per batch, and
 *   publishing stopping at the first failed batch, a later event of a payment is only ever sent
 *   after the earlier one was accepted.
 * - Ignored records (not INSERTs) are never sent and do not end a batch.
 * - Planning stops at the first invalid or oversize record: it is never sent.
 */
export function planRelay(records: readonly RelayRecord[], limits: BatchLimits): RelayPlan {
  if (!Number.isInteger(limits.maxEntries) || limits.maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${limits.maxEntries}`);
  }
  const batches: PlannedBatch[] = [];
  let entries: PlannedEntry[] = [];
  let bytes = 0;
  let aggregates = new Set<string>();
  const close = (): void => {
    if (entries.length > 0) batches.push({ entries });
    entries = [];
    bytes = 0;
    aggregates = new Set();
  };

  for (const [index, record] of records.entries()) {
    if (record.kind === 'ignored') continue;
    if (record.kind === 'invalid') {
      close();
      return { batches, halt: { index, reason: record.reason } };
    }
    const { envelope } = record;
    const size = limits.messageBytes(envelope);
    if (size > limits.maxBytes) {
      close();
      return {
        batches,
        halt: { index, reason: `event ${envelope.eventId} is ${size} bytes, over the ${limits.maxBytes}-byte limit` },
      };
    }
    if (entries.length === limits.maxEntries || bytes + size > limits.maxBytes || aggregates.has(envelope.aggregateId)) {
      close();
    }
    entries.push({ index, envelope });
    bytes += size;
    aggregates.add(envelope.aggregateId);
  }
  close();
  return { batches };
}

/**
 * The record from which a batch counts as failed: the earliest entry the broker rejected.
 * An id the batch does not hold (which a correct publisher never reports) fails the whole batch.
 */
export function firstFailedIndex(batch: PlannedBatch, failedEventIds: ReadonlySet<string>): number | undefined {
  if (failedEventIds.size === 0) return undefined;
  const failed = batch.entries.filter((entry) => failedEventIds.has(entry.envelope.eventId));
  const first = batch.entries[0];
  if (failed.length < failedEventIds.size || !first) return first?.index;
  return Math.min(...failed.map((entry) => entry.index));
}

/** The positions to report as batch item failures: the record at `fromIndex` and every later one. */
export function positionsFrom(records: readonly RelayRecord[], fromIndex: number): string[] {
  return records.slice(fromIndex).map((record) => record.position);
}
