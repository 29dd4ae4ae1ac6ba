/**
 * The relay's invocations as the chaos run sees them (the stream poller's invokeWrapper):
 * - stream records chosen to be "lost" are removed from the event before the relay sees it, and
 *   the poller is told the batch succeeded, as if the records had expired from the stream before
 *   anyone read them. The relay's gap fill (a later event of the payment) or the sweeper must
 *   publish those events from the Outbox table;
 * - "poison" records: an invocation whose batch holds one fails as a function error before the
 *   relay runs, every time, as a relay that cannot process that record would. The poller bisects
 *   the batch down to the record alone, retries it, gives up on it (the mapping's
 *   MaximumRetryAttempts) and sends its batch's metadata to the on-failure queue
 *   (`relay-failures`); the event stays pending in the Outbox until gap fill or the sweeper
 *   publishes it;
 * - the invocation runs `crashAware`, so a simulated crash before a PublishBatch call (see
 *   publish-faults.ts) ends it as a function error: the poller retries or bisects.
 * Every record handed to the relay is shown to `seen` first (the run names the records of a
 * relay-failures message by their sequence numbers).
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { InvokeWrapper } from '../../local/pollers/stream-poller';
import { crashAware } from './publish-faults';

export interface StreamRecordFaults {
  /** True when this record is lost: the relay never sees it. Must give the same answer for the same record. */
  skipRecord(record: DynamoDBRecord): boolean;
  /** True when every invocation holding this record fails (a poison record). Must give the same answer for the same record. */
  poisonRecord(record: DynamoDBRecord): boolean;
}

/** The function error of an invocation whose batch held a poison record. */
export class PoisonRecordFailure extends Error {
  constructor(readonly sequenceNumbers: readonly string[]) {
    super(`chaos: the relay fails on poison record(s) ${sequenceNumbers.join(', ')}`);
    this.name = 'PoisonRecordFailure';
  }
}

export interface RelayInvokeObserver {
  /** Every invocation's records, before any fault. */
  seen?(records: readonly DynamoDBRecord[]): void;
  /** An invocation failed because of these poison records. */
  poisoned?(records: readonly DynamoDBRecord[]): void;
}

export function relayInvokeWrapper(faults: () => StreamRecordFaults | undefined, observer: RelayInvokeObserver = {}): InvokeWrapper<DynamoDBStreamEvent> {
  return async (event, invoke) => {
    observer.seen?.(event.Records);
    const active = faults();
    const kept = active ? event.Records.filter((record) => !active.skipRecord(record)) : event.Records;
    if (kept.length === 0) return { batchItemFailures: [] };
    const poison = active ? kept.filter((record) => active.poisonRecord(record)) : [];
    if (poison.length > 0) {
      observer.poisoned?.(poison);
      throw new PoisonRecordFailure(poison.map((record) => record.dynamodb?.SequenceNumber ?? '?'));
    }
    return crashAware(kept.length === event.Records.length ? event : { ...event, Records: kept }, invoke);
  };
}
