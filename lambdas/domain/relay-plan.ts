/**
 * The relay's rules, pure: which stream records are events, how events are grouped into broker
 * batches and waves of batches that may be in flight together, and which records to report back as
 * failed. The relay use case (`use-cases/relay-events.ts`) runs the plan against an `EventPublisher`.
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
  /** Most messages per call (SNS PublishBatch, SQS SendMessageBatch: 10). */
  readonly maxEntries: number;
  /** Most bytes per call, every message's body and attributes counted (both: 256 KiB). */
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

/** One broker call: at most one event per aggregate, within the broker's entry and byte limits. */
export interface PlannedBatch {
  /** In record order (ascending `index`). */
  readonly entries: readonly PlannedEntry[];
}

/**
 * Batches that may be in flight together: no two entries of a wave belong to the same aggregate,
 * and an aggregate's next event is always in a later wave, so it is only sent once the wave that
 * held its predecessor is over (and only if that predecessor was accepted; see `relay-events.ts`).
 */
export interface PlannedWave {
  readonly batches: readonly PlannedBatch[];
}

export interface RelayPlan {
  /** Waves to send one after another, in this order; the batches of a wave at once. */
  readonly waves: readonly PlannedWave[];
  /**
   * Every batch, wave after wave. Sending them one after another in this order is also correct
   * (the replay tool does): a payment's event n+1 always comes in a later batch than n.
   */
  readonly batches: readonly PlannedBatch[];
  /**
   * The first record that must not be sent (invalid, too large for any batch, or its predecessors
   * unreadable). It and every later record are reported as failed; nothing from it on is planned.
   */
  readonly halt?: { readonly index: number; readonly reason: string };
}

/**
 * Cuts the records into waves of broker batches.
 *
 * - Events to send, in record order: each record's event, preceded by its aggregate's pending
 *   predecessors (gap fill) in sequence order, attributed to the record that pulled them in. An
 *   event is planned once per invocation however many times it was read (a record whose event was
 *   already pulled in as a predecessor adds nothing), so an aggregate's planned events have
 *   ascending sequences and non-decreasing indexes.
 * - Waves: an aggregate's k-th planned event goes into wave k. A wave thus holds at most one event
 *   per aggregate, and event n+1 is always in a later wave than n: if n fails, n+1 is never sent.
 * - Batches: within a wave, events of different aggregates fill batches up to `maxEntries` and
 *   `maxBytes` whatever their distance in the stream (first fit in record order, so lower records
 *   go in earlier batches).
 * - Ignored records (not INSERTs) are never sent.
 * - Planning stops at the first invalid or oversize record, or one whose predecessor lookup failed.
 */
export function planRelay(
  records: readonly RelayRecord[],
  limits: BatchLimits,
  predecessors: ReadonlyMap<number, PredecessorLookup> = new Map(),
): RelayPlan {
  if (!Number.isInteger(limits.maxEntries) || limits.maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${limits.maxEntries}`);
  }
  const { entries, halt } = entriesToSend(records, limits, predecessors);
  const waves = packWaves(entries, limits);
  const plan = { waves, batches: waves.flatMap((wave) => wave.batches) };
  return halt ? { ...plan, halt } : plan;
}

interface SizedEntry extends PlannedEntry {
  readonly bytes: number;
}

/** The events to send, in record order, up to the first record that must not be sent. */
function entriesToSend(
  records: readonly RelayRecord[],
  limits: BatchLimits,
  predecessors: ReadonlyMap<number, PredecessorLookup>,
): { entries: SizedEntry[]; halt?: { index: number; reason: string } } {
  const entries: SizedEntry[] = [];
  const planned = new Set<string>();
  for (const [index, record] of records.entries()) {
    if (record.kind === 'ignored') continue;
    if (record.kind === 'invalid') return { entries, halt: { index, reason: record.reason } };
    const { envelope } = record;
    const lookup = predecessors.get(index);
    if (lookup?.kind === 'failed') {
      return {
        entries,
        halt: { index, reason: `pending predecessors of event ${envelope.eventId} could not be read: ${lookup.reason}` },
      };
    }
    const toSend: PlannedEntry[] = [
      ...(lookup ? predecessorsOf(envelope, lookup.events).map((event) => ({ index, envelope: event, gapFill: true as const })) : []),
      { index, envelope },
    ];
    const accepted: SizedEntry[] = [];
    for (const entry of toSend) {
      if (planned.has(entry.envelope.eventId)) continue;
      const bytes = limits.messageBytes(entry.envelope);
      if (bytes > limits.maxBytes) {
        return {
          entries,
          halt: { index, reason: `event ${entry.envelope.eventId} is ${bytes} bytes, over the ${limits.maxBytes}-byte limit` },
        };
      }
      accepted.push({ ...entry, bytes });
    }
    // A record is planned whole or not at all: its predecessors without it would be reported anyway.
    for (const entry of accepted) {
      planned.add(entry.envelope.eventId);
      entries.push(entry);
    }
  }
  return { entries };
}

/** Wave k holds every aggregate's k-th event; each wave's events fill batches first fit. */
function packWaves(entries: readonly SizedEntry[], limits: BatchLimits): PlannedWave[] {
  const waveOf = new Map<string, number>();
  const perWave: SizedEntry[][] = [];
  for (const entry of entries) {
    const wave = (waveOf.get(entry.envelope.aggregateId) ?? -1) + 1;
    waveOf.set(entry.envelope.aggregateId, wave);
    (perWave[wave] ??= []).push(entry);
  }
  return perWave.map((waveEntries) => {
    const open: Array<{ entries: PlannedEntry[]; bytes: number }> = [];
    for (const { bytes, ...entry } of waveEntries) {
      let batch = open.find((candidate) => candidate.entries.length < limits.maxEntries && candidate.bytes + bytes <= limits.maxBytes);
      if (!batch) {
        batch = { entries: [], bytes: 0 };
        open.push(batch);
      }
      batch.entries.push(entry);
      batch.bytes += bytes;
    }
    return { batches: open.map((batch) => ({ entries: batch.entries })) };
  });
}

/** The looked-up events that really are earlier events of `event`'s aggregate, in sequence order. */
function predecessorsOf(event: EventEnvelope, found: readonly EventEnvelope[]): EventEnvelope[] {
  return found
    .filter((candidate) => candidate.aggregateId === event.aggregateId && candidate.sequence < event.sequence)
    .sort((a, b) => a.sequence - b.sequence);
}

/** What one sent batch came to, from the ids of the events the broker did not accept. */
export interface BatchResult {
  /** Entries the broker accepted, in batch order. */
  readonly accepted: readonly PlannedEntry[];
  /** The record from which the batch counts as failed: its lowest entry that was not accepted. */
  readonly failedFrom?: number;
}

/**
 * Splits a batch into what the broker accepted and the lowest record it did not. An id the batch
 * does not hold (which a correct publisher never reports) makes the whole answer untrustworthy:
 * nothing counts as accepted, and the batch fails from its lowest entry.
 */
export function batchResult(batch: PlannedBatch, failedEventIds: ReadonlySet<string>): BatchResult {
  if (failedEventIds.size === 0) return { accepted: batch.entries };
  const failed = batch.entries.filter((entry) => failedEventIds.has(entry.envelope.eventId));
  if (failed.length < failedEventIds.size) return { accepted: [], ...failedFromAll(batch) };
  return {
    accepted: batch.entries.filter((entry) => !failedEventIds.has(entry.envelope.eventId)),
    failedFrom: Math.min(...failed.map((entry) => entry.index)),
  };
}

/** A batch none of whose entries was accepted (its call threw): it fails from its lowest entry. */
export function failedFromAll(batch: PlannedBatch): { failedFrom?: number } {
  if (batch.entries.length === 0) return {};
  return { failedFrom: Math.min(...batch.entries.map((entry) => entry.index)) };
}

/**
 * The batches of a wave still worth sending once publishing fails from record `stopIndex`: only
 * entries of earlier records. Everything from `stopIndex` on is reported back and retried anyway,
 * and an aggregate's later events carry indexes at or above the failed one's, so none of them is
 * ever sent after its predecessor failed.
 */
export function batchesBefore(wave: PlannedWave, stopIndex: number): PlannedBatch[] {
  return wave.batches
    .map((batch) => ({ entries: batch.entries.filter((entry) => entry.index < stopIndex) }))
    .filter((batch) => batch.entries.length > 0);
}

/** The positions to report as batch item failures: the record at `fromIndex` and every later one. */
export function positionsFrom(records: readonly RelayRecord[], fromIndex: number): string[] {
  return records.slice(fromIndex).map((record) => record.position);
}
