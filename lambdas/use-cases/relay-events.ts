/**
 * The relay: publishes one invocation's outbox stream records, batch by batch, and says which
 * records Lambda must retry.
 *
 * Why not Powertools' BatchProcessor: it hands records to a handler one at a time and fails
 * records independently. The relay needs the opposite: many records per SendMessageBatch call
 * (10 per request), and "fail the rest" semantics: once a batch fails, nothing later in the
 * stream may be sent, and the first failed record and every later one are reported so that
 * Lambda resumes from there. So the loop is written here, over the pure plan of `relay-plan.ts`.
 */
import type { EventEnvelope } from '../domain/event-envelope';
import { firstFailedIndex, planRelay, positionsFrom, type RelayRecord } from '../domain/relay-plan';
import type { Clock } from '../ports/clock';
import type { EventPublisher } from '../ports/event-publisher';

export interface RelayReport {
  /** For Lambda: the first record not published and every later one. Empty when all went through. */
  readonly batchItemFailures: { itemIdentifier: string }[];
  /** Events the broker accepted, in the order they were sent. */
  readonly published: readonly EventEnvelope[];
  /** Milliseconds from each published event's `occurredAt` to the moment its batch was accepted. */
  readonly lagsMs: readonly number[];
  /** Records reported as failed (equals `batchItemFailures.length`). */
  readonly failed: number;
  /** Records that were not events (not INSERTs) and were acknowledged without sending. */
  readonly skipped: number;
  /** Why publishing stopped, when it did: the first failed record and the cause. */
  readonly failure?: { readonly position: string; readonly reason: string; readonly error?: unknown };
}

export async function relayEvents(
  records: readonly RelayRecord[],
  publisher: EventPublisher,
  clock: Clock,
): Promise<RelayReport> {
  const plan = planRelay(records, {
    maxEntries: publisher.maxBatchEntries,
    maxBytes: publisher.maxBatchBytes,
    messageBytes: (event) => publisher.messageBytes(event),
  });
  const published: EventEnvelope[] = [];
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

  const reported = stop ? positionsFrom(records, stop.index) : [];
  const considered = stop ? records.slice(0, stop.index) : records;
  return {
    batchItemFailures: reported.map((itemIdentifier) => ({ itemIdentifier })),
    published,
    lagsMs,
    failed: reported.length,
    skipped: considered.filter((record) => record.kind === 'ignored').length,
    ...(stop && {
      failure: {
        position: records[stop.index]?.position ?? '',
        reason: stop.reason,
        ...('error' in stop && { error: stop.error }),
      },
    }),
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
