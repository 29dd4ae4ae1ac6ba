/**
 * Relay: DynamoDB Streams (Outbox table, INSERTs) -> SNS FIFO topic `payment-events.fifo`, which
 * fans each event out to every subscriber's SQS FIFO queue.
 * Fills PublishBatch calls with events of different payments and sends the independent ones at once
 * (a payment's next event in a later wave), publishes a payment's pending predecessors first when the
 * stream did not deliver them, marks what the topic accepted as published, and returns partial batch
 * failures: the first record not published and every later one.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDbPublicationLedger } from '../../adapters/dynamodb-publication-ledger';
import { toRelayRecord } from '../../adapters/outbox-stream-record';
import { defineFunction, type FunctionRuntime } from '../../platform/function-runtime';
import { observedHandler } from '../../platform/observed-handler';
import { MetricUnit } from '../../platform/observability';
import type { RelayRecord } from '../../domain/relay-plan';
import { eventTraceId, type EventEnvelope } from '../../domain/event-envelope';
import { relayEvents, type RelayReport } from '../../use-cases/relay-events';
import { createOutboxPublication, outboxPublicationConfigFromEnv, type OutboxPublicationConfig } from '../shared/outbox-publication';
import { OUTBOX_METRICS } from '../../platform/metric-names';

export type OutboxRelayConfig = OutboxPublicationConfig;

/**
 * The relay use case on its ports, without the Lambda wrapping (logging, metrics): what the handler
 * runs on each invocation's records, and what the relay simulation benchmark drives directly.
 */
export function createOutboxRelay(config: OutboxRelayConfig, runtime: FunctionRuntime): (records: readonly RelayRecord[]) => Promise<RelayReport> {
  const { clock, publisher } = createOutboxPublication(config, runtime);
  // The relay marks a whole invocation at once: 100 marks per TransactWriteItems (see the adapter).
  const ledger = new DynamoDbPublicationLedger(runtime.aws.documents, { tableName: config.outboxTable, markWith: 'transactions' }, clock);
  return (records) => relayEvents(records, { publisher, ledger, clock });
}

export function createOutboxRelayHandler(config: OutboxRelayConfig, runtime: FunctionRuntime) {
  const { logger, metrics } = runtime;
  const relayRecords = createOutboxRelay(config, runtime);

  const relay = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const records = event.Records.map(toRelayRecord);
    const report = await relayRecords(records);

    metrics.addMetric(OUTBOX_METRICS.relay.eventsPublished, MetricUnit.Count, report.published.length);
    metrics.addMetric(OUTBOX_METRICS.relay.publishFailures, MetricUnit.Count, report.failed);
    metrics.addMetric(OUTBOX_METRICS.relay.gapFilledEvents, MetricUnit.Count, report.gapFilled.length);
    metrics.addMetric(OUTBOX_METRICS.relay.markPublishedFailures, MetricUnit.Count, report.markFailures.length);
    for (const lag of report.lagsMs) metrics.addMetric(OUTBOX_METRICS.relay.relayLagMs, MetricUnit.Milliseconds, lag);

    for (const event of report.gapFilled) {
      logger.warn('Published a pending predecessor the stream did not deliver in order', eventKeys(event));
    }
    for (const { event, reason, error } of report.markFailures) {
      logger.error('Published event could not be marked published; the sweeper may publish it again', {
        ...eventKeys(event),
        reason,
        error: error as Error,
      });
    }

    const counts = {
      records: records.length,
      published: report.published.length,
      gapFilled: report.gapFilled.length,
      failed: report.failed,
      skipped: report.skipped,
      markFailures: report.markFailures.length,
    };
    if (report.failure) {
      logger.warn('Relay stopped at a failed record; it and every later record will be retried', {
        ...counts,
        firstFailedPosition: report.failure.position,
        reason: report.failure.reason,
        ...(report.failure.error !== undefined && { error: report.failure.error as Error }),
      });
    } else {
      logger.info('Relay published the batch', counts);
    }
    // One line per event, with the trace of the API call that caused it: grep on a trace id
    // finds this hop of the payment's journey.
    for (const event of report.published) logger.info('Event published', eventKeys(event));
    return { batchItemFailures: report.batchItemFailures };
  };

  return observedHandler(relay, runtime);
}

function eventKeys(event: EventEnvelope) {
  const traceId = eventTraceId(event);
  return { eventId: event.eventId, paymentId: event.aggregateId, sequence: event.sequence, ...(traceId !== undefined && { traceId }) };
}

export const outboxRelay = defineFunction({ configFromEnv: outboxPublicationConfigFromEnv, createHandler: createOutboxRelayHandler });
