/**
 * The relay: publishes one invocation's outbox stream records, batch by batch, and says which
 * records Lambda must retry.
 *
 * Why not Powertools' BatchProcessor: it hands records to a handler one at a time and fails
 * records independently. The relay needs the opposite: many records per PublishBatch call
 * (10 per request), and "fail the rest" semantics: once a batch fails, nothing later in the
 * stream may be sent, and the first failed record and every later one are reported so that
 * Lambda resumes from there. So the loop is written here, over the pure plan of `relay-plan.ts`.
 *
 * Around the plan: before it, the pending predecessors of events whose predecessor is not in the
 * invocation are read from the outbox (gap fill); after it, every event the topic accepted is marked
 * published in the ledger. A failed mark is reported, never a failed record: the event was
 * published, and at worst the sweeper publishes it again under the same deduplication id.
 */
import type { EventEnvelope } from '../domain/event-envelope';
import {
  firstFailedIndex,
  planRelay,
  positionsFrom,
  recordsNeedingPredecessors,
  type PredecessorLookup,
  type RelayRecord,
} from '../domain/relay-plan';
import type { Clock } from '../ports/clock';
import type { EventPublisher } from '../ports/event-publisher';
import type { MarkOutcome, PublicationLedger } from '../ports/publication-ledger';
import { mapSettled } from './map-settled';

export interface RelayReport {
  /** For Lambda: the first record not published and every later one. Empty when all went through. */
  readonly batchItemFailures: { itemIdentifier: string }[];
  /** Events the broker accepted, in the order they were sent (gap-filled predecessors included). */
  readonly published: readonly EventEnvelope[];
  /** The published events that were pending predecessors read from the outbox, not stream records. */
  readonly gapFilled: readonly EventEnvelope[];
  /** Milliseconds from each published event's `occurredAt` to the moment its batch was accepted. */
  readonly lagsMs: readonly number[];
  /** Records reported as failed (equals `batchItemFailures.length`). */
  readonly failed: number;
  /** Records that were not events (not INSERTs) and were acknowledged without sending. */
  readonly skipped: number;
  /** Published events that could not be marked published (they stay pending; the sweeper may resend them). */
  readonly markFailures: MarkOutcome['failed'];
  /** Why publishing stopped, when it did: the first failed record and the cause. */
  readonly failure?: { readonly position: string; readonly reason: string; readonly error?: unknown };
}

export interface RelayDependencies {
  readonly publisher: EventPublisher;
  readonly ledger: PublicationLedger;
  readonly clock: Clock;
  /** Predecessor lookups in flight at once. @default 10 */
  readonly lookupConcurrency?: number;
}

export async function relayEvents(records: readonly RelayRecord[], dependencies: RelayDependencies): Promise<RelayReport> {
  const { publisher, ledger, clock } = dependencies;
  const lookups = await lookUpPredecessors(records, ledger, dependencies.lookupConcurrency ?? 10);
  const plan = planRelay(
    records,
    {
      maxEntries: publisher.maxBatchEntries,
      maxBytes: publisher.maxBatchBytes,
      messageBytes: (event) => publisher.messageBytes(event),
    },
    lookups,
  );
  const published: EventEnvelope[] = [];
  const gapFilled: EventEnvelope[] = [];
  const lagsMs: number[] = [];

  let stop: { index: number; reason: string; error?: unknown } | undefined;
  for (const batch of plan.batches) {
    const events = batch.entries.map((entry) => entry.envelope);
    try {
      const outcome = await publisher.publish(events);
      const failedIds = new Set(outcome.failed.map((failure) => failure.eventId));
      const failedAt = firstFailedIndex(batch, failedIds);
      const acceptedAt = clock.now().getTime();
      for (const entry of batch.entries) {
        if (failedAt !== undefined && entry.index >= failedAt) break;
        published.push(entry.envelope);
        if (entry.gapFill) gapFilled.push(entry.envelope);
        lagsMs.push(Math.max(0, acceptedAt - Date.parse(entry.envelope.occurredAt)));
      }
      if (failedAt !== undefined) {
        const reasons = outcome.failed.map((failure) => `${failure.eventId}: ${failure.reason}`).join('; ');
        stop = { index: failedAt, reason: `broker rejected ${outcome.failed.length} of ${events.length} entries (${reasons})` };
        break;
      }
    } catch (error) {
      const first = batch.entries[0];
      if (!first) continue;
      stop = { index: first.index, reason: `publish call failed: ${describe(error)}`, error };
      break;
    }
  }
  stop ??= plan.halt;
  const marks = await markPublished(ledger, published);

  const reported = stop ? positionsFrom(records, stop.index) : [];
  const considered = stop ? records.slice(0, stop.index) : records;
  return {
    batchItemFailures: reported.map((itemIdentifier) => ({ itemIdentifier })),
    published,
    gapFilled,
    lagsMs,
    failed: reported.length,
    skipped: considered.filter((record) => record.kind === 'ignored').length,
    markFailures: marks.failed,
    ...(stop && {
      failure: {
        position: records[stop.index]?.position ?? '',
        reason: stop.reason,
        ...('error' in stop && { error: stop.error }),
      },
    }),
  };
}

/** Reads the pending predecessors of every record that needs them (see `recordsNeedingPredecessors`). */
async function lookUpPredecessors(
  records: readonly RelayRecord[],
  ledger: PublicationLedger,
  concurrency: number,
): Promise<Map<number, PredecessorLookup>> {
  const needing = recordsNeedingPredecessors(records);
  const results = await mapSettled(needing, concurrency, (index) => {
    const record = records[index];
    if (record?.kind !== 'event') throw new Error(`record ${index} is not an event`);
    return ledger.pendingBefore(record.envelope.aggregateId, record.envelope.sequence);
  });
  const lookups = new Map<number, PredecessorLookup>();
  results.forEach((result, i) => {
    const index = needing[i] as number;
    lookups.set(
      index,
      result.status === 'fulfilled' ? { kind: 'found', events: result.value } : { kind: 'failed', reason: describe(result.reason) },
    );
  });
  return lookups;
}

/** Marks what was published; an adapter that throws outright fails every mark, never the records. */
async function markPublished(ledger: PublicationLedger, published: readonly EventEnvelope[]): Promise<MarkOutcome> {
  if (published.length === 0) return { marked: 0, missing: [], failed: [] };
  try {
    return await ledger.markPublished(published);
  } catch (error) {
    return { marked: 0, missing: [], failed: published.map((event) => ({ event, reason: describe(error), error })) };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
