/**
 * The sweeper: republishes events still pending after a grace period, and measures how old the
 * oldest pending event is.
 *
 * It covers every way an event can miss the relay: a stream record that expired (24 h), went to
 * the on-failure destination, or was never read (stream disabled), and relay bugs. It reads the
 * sparse `PendingEvents` index (eventually consistent) only to find payments with pending events;
 * what it sends comes from a strongly consistent read of each payment's outbox partition, which
 * also brings any pending predecessor the index did not list, so a payment's events are sent in
 * sequence order from the first one not yet published. An event the relay published meanwhile
 * may still be sent again: same deduplication id, and consumers are idempotent.
 *
 * Runs may overlap (the function reserves no concurrency), and need no lease: each run sends a
 * payment's event n + 1 only after the topic accepted n from it or its consistent read showed n
 * published, every copy carries the event's own id as FIFO deduplication id (so the topic drops the
 * other run's copy), and an event is marked only after the topic accepted this run's copy, with an
 * idempotent update (`REMOVE pendingShard`, `publishedAt` kept from the first mark). An overlap costs
 * duplicate publishes, never a lost, reordered or wrongly marked event
 * (test/unit/outbox-sweeper-overlap.test.ts).
 */
import type { EventEnvelope } from '../domain/event-envelope';
import { PENDING_SHARDS } from '../domain/pending-shards';
import { nextSweepBatch, sweepTargets } from '../domain/sweep-plan';
import type { EventPublisher } from '../ports/event-publisher';
import type { MarkOutcome, PendingCursor, PublicationLedger } from '../ports/publication-ledger';
import { mapSettled } from './map-settled';

export interface SweepRequest {
  readonly now: Date;
  /** Events younger than this are left to the relay. */
  readonly graceSeconds: number;
  /** Most index items read in one run (the run's work bound). */
  readonly limit: number;
}

export interface SweepDependencies {
  readonly ledger: PublicationLedger;
  readonly publisher: EventPublisher;
  /** @default PENDING_SHARDS */
  readonly shards?: readonly string[];
  /** Index and partition reads in flight at once. @default 8 */
  readonly concurrency?: number;
}

/** What a run did, for the log line and the metrics. */
export interface SweepSummary {
  /** Index items read (pending and older than the grace period when read). */
  readonly scanned: number;
  /** Events the topic accepted in this run. */
  readonly republished: number;
  /** Pending events found but not republished (rejected, behind a rejected event, unreadable, unreadable partition). */
  readonly failed: number;
  /** Seconds since the oldest pending event occurred, measured before sweeping; 0 when none is pending. */
  readonly oldestPendingAgeSeconds: number;
  /** Republished events that could not be marked published (they will be found again). */
  readonly markFailures: number;
}

export interface SweepFailure {
  readonly aggregateId: string;
  readonly sequence?: number;
  readonly eventId?: string;
  readonly reason: string;
}

export interface SweepReport extends SweepSummary {
  readonly republishedEvents: readonly EventEnvelope[];
  readonly failures: readonly SweepFailure[];
  readonly markFailureDetails: MarkOutcome['failed'];
}

export async function sweepPending(request: SweepRequest, dependencies: SweepDependencies): Promise<SweepReport> {
  const { ledger, publisher } = dependencies;
  const shards = dependencies.shards ?? PENDING_SHARDS;
  const concurrency = dependencies.concurrency ?? 8;
  if (!Number.isInteger(request.limit) || request.limit < 1) throw new RangeError(`limit must be a positive integer, got ${request.limit}`);
  if (!(request.graceSeconds >= 0)) throw new RangeError(`graceSeconds must not be negative, got ${request.graceSeconds}`);

  const oldestPendingAgeSeconds = await oldestPendingAge(ledger, shards, request.now, concurrency);
  const cutoff = new Date(request.now.getTime() - request.graceSeconds * 1000).toISOString();
  const found = await findPending(ledger, shards, cutoff, request.limit, concurrency);

  const failures: SweepFailure[] = found.invalid.map((item) => ({
    aggregateId: item.aggregateId,
    ...(typeof item.sequence === 'number' && { sequence: item.sequence }),
    reason: `pending outbox item cannot be published: ${item.reason}`,
  }));

  // The truth per payment: its pending events up to the highest sequence the index showed,
  // read consistently (the index may lag, and lists nothing the relay has not yet marked).
  const targets = sweepTargets(found.events);
  const partitions = await mapSettled(targets, concurrency, (target) =>
    ledger.pendingBefore(target.aggregateId, target.maxSequence + 1),
  );
  const queues = new Map<string, EventEnvelope[]>();
  partitions.forEach((result, i) => {
    const target = targets[i];
    if (!target) return;
    if (result.status === 'fulfilled') {
      if (result.value.length > 0) queues.set(target.aggregateId, [...result.value]);
      return;
    }
    const reason = `pending events could not be read: ${describe(result.reason)}`;
    for (const event of found.events.filter((e) => e.aggregateId === target.aggregateId)) {
      failures.push({ aggregateId: event.aggregateId, sequence: event.sequence, eventId: event.eventId, reason });
    }
  });

  const republished: EventEnvelope[] = [];
  const markFailureDetails: Array<MarkOutcome['failed'][number]> = [];
  const dropPayment = (aggregateId: string, reason: string): void => {
    for (const event of queues.get(aggregateId) ?? []) {
      failures.push({ aggregateId, sequence: event.sequence, eventId: event.eventId, reason });
    }
    queues.delete(aggregateId);
  };
  const limits = {
    maxEntries: publisher.maxBatchEntries,
    maxBytes: publisher.maxBatchBytes,
    messageBytes: (event: EventEnvelope) => publisher.messageBytes(event),
  };

  while (queues.size > 0) {
    const heads = [...queues.values()].map((queue) => queue[0] as EventEnvelope);
    const batch = nextSweepBatch(heads, limits);
    for (const event of batch.oversize) {
      dropPayment(event.aggregateId, `event ${event.eventId} is over the ${limits.maxBytes}-byte limit of one call`);
    }
    if (batch.events.length === 0) continue;

    let rejected: Map<string, string>;
    try {
      const outcome = await publisher.publish(batch.events);
      rejected = new Map(outcome.failed.map((failure) => [failure.eventId, failure.reason]));
    } catch (error) {
      // The broker call itself failed (throttling, network): stop; the next run starts over.
      const reason = `publish call failed: ${describe(error)}`;
      const inBatch = new Set(batch.events.map((event) => event.aggregateId));
      for (const aggregateId of [...queues.keys()]) {
        dropPayment(aggregateId, inBatch.has(aggregateId) ? reason : `not attempted after an earlier ${reason}`);
      }
      break;
    }

    const accepted: EventEnvelope[] = [];
    for (const event of batch.events) {
      const reason = rejected.get(event.eventId);
      if (reason !== undefined) {
        dropPayment(event.aggregateId, `rejected by the broker: ${reason}`);
        continue;
      }
      accepted.push(event);
      const queue = queues.get(event.aggregateId) ?? [];
      queue.shift();
      if (queue.length === 0) queues.delete(event.aggregateId);
    }
    republished.push(...accepted);
    markFailureDetails.push(...(await markPublished(ledger, accepted)));
  }

  return {
    scanned: found.scanned,
    republished: republished.length,
    failed: failures.length,
    oldestPendingAgeSeconds,
    markFailures: markFailureDetails.length,
    republishedEvents: republished,
    failures,
    markFailureDetails,
  };
}

async function oldestPendingAge(
  ledger: PublicationLedger,
  shards: readonly string[],
  now: Date,
  concurrency: number,
): Promise<number> {
  const oldest = await mapSettled(shards, concurrency, (shard) => ledger.oldestPendingOccurredAt(shard));
  let earliest: number | undefined;
  for (const result of oldest) {
    if (result.status === 'rejected') throw result.reason;
    if (result.value === undefined) continue;
    const at = Date.parse(result.value);
    if (Number.isFinite(at) && (earliest === undefined || at < earliest)) earliest = at;
  }
  return earliest === undefined ? 0 : Math.max(0, now.getTime() - earliest) / 1000;
}

/**
 * Reads pending events older than `cutoff` from every shard, at most `limit` items in all, in
 * rounds: each round shares what is left of the limit among the shards that have more, so one
 * shard's backlog cannot starve the others.
 */
async function findPending(
  ledger: PublicationLedger,
  shards: readonly string[],
  cutoff: string,
  limit: number,
  concurrency: number,
): Promise<{ events: EventEnvelope[]; invalid: Array<{ aggregateId: string; sequence: unknown; reason: string }>; scanned: number }> {
  const state = shards.map((shard) => ({ shard, cursor: undefined as PendingCursor | undefined, done: false }));
  const events: EventEnvelope[] = [];
  const invalid: Array<{ aggregateId: string; sequence: unknown; reason: string }> = [];
  let scanned = 0;
  while (scanned < limit) {
    const active = state.filter((shard) => !shard.done);
    if (active.length === 0) break;
    const remaining = limit - scanned;
    const share = (i: number) => Math.floor(remaining / active.length) + (i < remaining % active.length ? 1 : 0);
    const round = active.map((shard, i) => ({ shard, limit: share(i) })).filter((entry) => entry.limit > 0);
    const before = { scanned, done: active.length };
    const pages = await mapSettled(round, concurrency, ({ shard, limit: pageLimit }) =>
      ledger.listPending(shard.shard, { occurredBefore: cutoff, limit: pageLimit, ...(shard.cursor && { cursor: shard.cursor }) }),
    );
    pages.forEach((result, i) => {
      const entry = round[i];
      if (!entry) return;
      if (result.status === 'rejected') throw result.reason;
      const page = result.value;
      events.push(...page.events);
      invalid.push(...page.invalid);
      scanned += page.scanned;
      entry.shard.cursor = page.cursor;
      entry.shard.done = page.cursor === undefined;
    });
    // A round that neither read an item nor finished a shard makes no progress (cursors without
    // items): stop rather than spin.
    if (scanned === before.scanned && state.filter((shard) => !shard.done).length === before.done) break;
  }
  return { events, invalid, scanned };
}

async function markPublished(ledger: PublicationLedger, events: readonly EventEnvelope[]): Promise<MarkOutcome['failed']> {
  if (events.length === 0) return [];
  try {
    return (await ledger.markPublished(events)).failed;
  } catch (error) {
    return events.map((event) => ({ event, reason: describe(error), error }));
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
