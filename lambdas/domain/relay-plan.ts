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
  /**
   * Index of the record in the invocation's records. For a gap-filled predecessor, the index of
   * the record that pulled it in: if the predecessor fails, that record is the first failed one.
   */
  readonly index: number;
  readonly envelope: EventEnvelope;
  /** Present on a pending predecessor read from the outbox, not delivered by the stream in this invocation. */
  readonly gapFill?: true;
}

/**
 * The pending predecessors of one record's event, looked up in the outbox before planning, or why
 * the lookup failed (then the record cannot be sent: sending it could put n before n - 1).
 */
export type PredecessorLookup =
  | { readonly kind: 'found'; readonly events: readonly EventEnvelope[] }
  | { readonly kind: 'failed'; readonly reason: string };

const eventKey = (aggregateId: string, sequence: number): string => `${aggregateId}\u0000${sequence}`;

/**
 * The records whose predecessors must be looked up before they are sent: events with a sequence
 * above 1 whose predecessor (sequence - 1) is not an earlier event of the same invocation. (When
 * it is, that earlier record's own lookup covers what came before it.) Records after the first
 * invalid one are never sent, so they need no lookup.
 *
 * This is the gap fill: a stream record that was lost (24 h retention, an on-failure destination,
 * a disabled stream) is repaired as soon as the payment's next event arrives, instead of letting
 * consumers receive n before n - 1.
 */
export function recordsNeedingPredecessors(records: readonly RelayRecord[]): number[] {
  const seen = new Set<string>();
  const needing: number[] = [];
  for (const [index, record] of records.entries()) {
    if (record.kind === 'invalid') break;
    if (record.kind !== 'event') continue;
    const { aggregateId, sequence } = record.envelope;
    if (sequence > 1 && !seen.has(eventKey(aggregateId, sequence - 1))) needing.push(index);
    seen.add(eventKey(aggregateId, sequence));
  }
  return needing;
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
 * - A record with `predecessors` is preceded by its aggregate's pending predecessors, in sequence
 *   order, as entries carrying the record's index; a failed lookup stops planning at the record.
 * - An event is planned once per invocation, however many times it was read (a record whose event
 *   was already pulled in as a predecessor adds nothing).
 */
export function planRelay(
  records: readonly RelayRecord[],
  limits: BatchLimits,
  predecessors: ReadonlyMap<number, PredecessorLookup> = new Map(),
): RelayPlan {
  if (!Number.isInteger(limits.maxEntries) || limits.maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${limits.maxEntries}`);
  }
  const batches: PlannedBatch[] = [];
  let entries: PlannedEntry[] = [];
  let bytes = 0;
  let aggregates = new Set<string>();
  const planned = new Set<string>();
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
    const lookup = predecessors.get(index);
    if (lookup?.kind === 'failed') {
      close();
      return {
        batches,
        halt: { index, reason: `pending predecessors of event ${envelope.eventId} could not be read: ${lookup.reason}` },
      };
    }
    const toSend: PlannedEntry[] = [
      ...(lookup ? predecessorsOf(envelope, lookup.events).map((event) => ({ index, envelope: event, gapFill: true as const })) : []),
      { index, envelope },
    ];
    for (const entry of toSend) {
      if (planned.has(entry.envelope.eventId)) continue;
      const size = limits.messageBytes(entry.envelope);
      if (size > limits.maxBytes) {
        close();
        return {
          batches,
          halt: { index, reason: `event ${entry.envelope.eventId} is ${size} bytes, over the ${limits.maxBytes}-byte limit` },
        };
      }
      const { aggregateId } = entry.envelope;
      if (entries.length === limits.maxEntries || bytes + size > limits.maxBytes || aggregates.has(aggregateId)) {
        close();
      }
      entries.push(entry);
      bytes += size;
      aggregates.add(aggregateId);
      planned.add(entry.envelope.eventId);
    }
  }
  close();
  return { batches };
}

/** The looked-up events that really are earlier events of `event`'s aggregate, in sequence order. */
function predecessorsOf(event: EventEnvelope, found: readonly EventEnvelope[]): EventEnvelope[] {
  return found
    .filter((candidate) => candidate.aggregateId === event.aggregateId && candidate.sequence < event.sequence)
    .sort((a, b) => a.sequence - b.sequence);
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
