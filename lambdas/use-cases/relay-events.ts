/**
 * The relay: publishes one invocation's outbox stream records, wave by wave, and says which
 * records Lambda must retry.
 *
 * Why not Powertools' BatchProcessor: it hands records to a handler one at a time and fails
 * records independently. The relay needs the opposite: many records per PublishBatch call
 * (10 per request), and "fail the rest" semantics: the first record not published and every later
 * one are reported so that Lambda resumes from there. So the loop is written here, over the pure
 * plan of `relay-plan.ts`: the batches of one wave (at most one event per payment) are sent at
 * once; a payment's next event waits for the next wave, and is only sent if everything before it
 * was published. Copies of later events that went through but are reported again are dropped by
 * the topic's FIFO deduplication and, later, by consumers.
 *
 * Around the plan: before it, the predecessors that need checking are read in batches (gap fill);
 * after it, every event the topic accepted is marked published in the ledger. A failed mark is
 * reported, never a failed record: the event was published, and at worst the sweeper publishes it
 * again under the same deduplication id.
 */
import type { EventEnvelope } from '../domain/event-envelope';
import {
  batchesBefore,
  batchResult,
  failedFromAll,
  planRelay,
  positionsFrom,
  recordsNeedingPredecessors,
  type PlannedBatch,
  type PredecessorLookup,
  type RelayRecord,
} from '../domain/relay-plan';
import type { Clock } from '../ports/clock';
import type { EventPublisher, PublishOutcome } from '../ports/event-publisher';
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
  /** Publish calls (batches of one wave) in flight at once. @default 10 */
  readonly publishConcurrency?: number;
  /** Partition queries in flight at once, for payments whose predecessor is still pending. @default 10 */
  readonly lookupConcurrency?: number;
}

type Stop = { readonly index: number; readonly reason: string; readonly error?: unknown };

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

  let stop: Stop | undefined = plan.halt;
  const stopAt = (candidate: Stop): void => {
    if (!stop || candidate.index < stop.index) stop = candidate;
  };
  for (const wave of plan.waves) {
    const batches = batchesBefore(wave, stop?.index ?? Number.POSITIVE_INFINITY);
    if (batches.length === 0) continue;
    const sent = await mapSettled(batches, dependencies.publishConcurrency ?? 10, async (batch) => {
      const outcome = await publisher.publish(batch.entries.map((entry) => entry.envelope));
      return { outcome, acceptedAt: clock.now().getTime() };
    });
    sent.forEach((result, i) => {
      const batch = batches[i] as PlannedBatch;
      if (result.status === 'rejected') {
        const { failedFrom } = failedFromAll(batch);
        if (failedFrom !== undefined) stopAt({ index: failedFrom, reason: `publish call failed: ${describe(result.reason)}`, error: result.reason });
        return;
      }
      const { outcome, acceptedAt } = result.value;
      const { accepted, failedFrom } = batchResult(batch, new Set(outcome.failed.map((failure) => failure.eventId)));
      // Accepted is accepted: marked even when an earlier record failed (it is reported and sent again anyway).
      for (const entry of accepted) {
        published.push(entry.envelope);
        if (entry.gapFill) gapFilled.push(entry.envelope);
        lagsMs.push(Math.max(0, acceptedAt - Date.parse(entry.envelope.occurredAt)));
      }
      if (failedFrom !== undefined) stopAt({ index: failedFrom, reason: rejection(outcome, batch.entries.length) });
    });
  }
  const marks = await markPublished(ledger, published);

  const final = stop as Stop | undefined;
  const reported = final ? positionsFrom(records, final.index) : [];
  const considered = final ? records.slice(0, final.index) : records;
  return {
    batchItemFailures: reported.map((itemIdentifier) => ({ itemIdentifier })),
    published,
    gapFilled,
    lagsMs,
    failed: reported.length,
    skipped: considered.filter((record) => record.kind === 'ignored').length,
    markFailures: marks.failed,
    ...(final && {
      failure: {
        position: records[final.index]?.position ?? '',
        reason: final.reason,
        ...(final.error !== undefined && { error: final.error }),
      },
    }),
  };
}

function rejection(outcome: PublishOutcome, entries: number): string {
  const reasons = outcome.failed.map((failure) => `${failure.eventId}: ${failure.reason}`).join('; ');
  return `broker rejected ${outcome.failed.length} of ${entries} entries (${reasons})`;
}

/**
 * The pending predecessors of every record that needs them (see `recordsNeedingPredecessors`),
 * in as few reads as the ledger allows:
 * 1. one batched, strongly consistent read of each such record's predecessor key (n - 1). When
 *    n - 1 is not pending, n can be sent: n - 1 was accepted (it is only ever sent after n - 2
 *    was), or it expired, and so did everything before it.
 * 2. only for payments whose n - 1 (n > 2) is still pending (a lost stream record, a failed mark):
 *    one consistent query of the payment's pending events below the highest such record's sequence;
 *    each record then takes the ones below its own sequence. A pending n - 1 = 1 is all there is.
 */
async function lookUpPredecessors(
  records: readonly RelayRecord[],
  ledger: PublicationLedger,
  concurrency: number,
): Promise<Map<number, PredecessorLookup>> {
  const needing = recordsNeedingPredecessors(records).map((index) => {
    const record = records[index];
    if (record?.kind !== 'event') throw new Error(`record ${index} is not an event`);
    return { index, event: record.envelope };
  });
  const lookups = new Map<number, PredecessorLookup>();
  if (needing.length === 0) return lookups;

  let states;
  try {
    states = await ledger.pendingStates(needing.map(({ event }) => ({ aggregateId: event.aggregateId, sequence: event.sequence - 1 })));
  } catch (error) {
    for (const { index } of needing) lookups.set(index, { kind: 'failed', reason: describe(error) });
    return lookups;
  }
  const gapped = new Map<string, { index: number; sequence: number }[]>();
  needing.forEach(({ index, event }, i) => {
    const state = states[i];
    if (state?.kind === 'notPending') return;
    if (state?.kind !== 'pending') {
      lookups.set(index, { kind: 'failed', reason: state?.reason ?? 'no answer for its predecessor' });
      return;
    }
    // A pending first event is the only predecessor there is: no query.
    if (state.event.sequence === 1) {
      lookups.set(index, { kind: 'found', events: [state.event] });
      return;
    }
    const list = gapped.get(event.aggregateId) ?? [];
    list.push({ index, sequence: event.sequence });
    gapped.set(event.aggregateId, list);
  });

  const payments = [...gapped.entries()];
  const partitions = await mapSettled(payments, concurrency, ([aggregateId, list]) =>
    ledger.pendingBefore(aggregateId, Math.max(...list.map((entry) => entry.sequence))),
  );
  partitions.forEach((result, i) => {
    const [, list] = payments[i] as [string, { index: number; sequence: number }[]];
    for (const { index, sequence } of list) {
      lookups.set(
        index,
        result.status === 'fulfilled'
          ? { kind: 'found', events: result.value.filter((event) => event.sequence < sequence) }
          : { kind: 'failed', reason: describe(result.reason) },
      );
    }
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
