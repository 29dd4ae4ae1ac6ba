/**
 * The relay's invocations as the chaos run sees them (the stream poller's invokeWrapper):
 * - stream records chosen to be "lost" are removed from the event before the relay sees it, and
 *   the poller is told the batch succeeded, as if the records had expired from the stream before
 *   anyone read them. The relay's gap fill (a later event of the payment) or the sweeper must
 *   publish those events from the Outbox table;
 * - the invocation runs `crashAware`, so a simulated crash before a PublishBatch call (see
 *   publish-faults.ts) ends it as a function error: the poller retries or bisects.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { InvokeWrapper } from '../../local/pollers/stream-poller';
import { crashAware } from './publish-faults';

export interface StreamRecordFaults {
  /** True when this record is lost: the relay never sees it. Must give the same answer for the same record. */
  skipRecord(record: DynamoDBRecord): boolean;
}

export function relayInvokeWrapper(faults: () => StreamRecordFaults | undefined): InvokeWrapper<DynamoDBStreamEvent> {
  return async (event, invoke) => {
    const active = faults();
    const kept = active ? event.Records.filter((record) => !active.skipRecord(record)) : event.Records;
    if (kept.length === 0) return { batchItemFailures: [] };
    return crashAware(kept.length === event.Records.length ? event : { ...event, Records: kept }, invoke);
  };
}
