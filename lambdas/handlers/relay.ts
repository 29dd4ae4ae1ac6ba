/**
 * Relay: DynamoDB Streams (Outbox table, INSERTs) -> SQS FIFO `payment-events.fifo`.
 * Returns partial batch failures: the first record not published and every later one.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { sqsClient } from '../adapters/aws-clients';
import { toRelayRecord } from '../adapters/outbox-stream-record';
import { SqsEventPublisher } from '../adapters/sqs-event-publisher';
import { ENV } from '../config/env-names';
import { requiredEnv } from '../config/required-env';
import { logger, metrics, MetricUnit } from '../observability';
import { relayEvents } from '../use-cases/relay-events';

const publisher = new SqsEventPublisher(sqsClient(), requiredEnv(ENV.paymentEventsQueueUrl));
const systemClock = { now: () => new Date() };

const lambdaHandler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const records = event.Records.map(toRelayRecord);
  const report = await relayEvents(records, publisher, systemClock);

  metrics.addMetric('EventsPublished', MetricUnit.Count, report.published.length);
  metrics.addMetric('PublishFailures', MetricUnit.Count, report.failed);
  for (const lag of report.lagsMs) metrics.addMetric('RelayLagMs', MetricUnit.Milliseconds, lag);

  const counts = { records: records.length, published: report.published.length, failed: report.failed, skipped: report.skipped };
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
  return { batchItemFailures: report.batchItemFailures };
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
