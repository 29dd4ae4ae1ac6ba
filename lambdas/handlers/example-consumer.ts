/**
 * Example subscriber of `payment-events.fifo`: keeps a projection of each payment's status in
 * the Inbox table, applying every event exactly once and in sequence order.
 *
 * Partial batch responses for FIFO: a failed message fails the rest of its message group in
 * the batch (`skipGroupOnError`), while other groups go on.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoDbPaymentInbox } from '../adapters/dynamodb-inbox';
import { ENV } from '../config/env-names';
import { positiveIntEnv, requiredEnv } from '../config/required-env';
import { InvalidEnvelopeError, parseEnvelope, paymentProjectionEffect, SequenceGapError } from '../domain/consumer-rules';
import { logger, metrics, MetricUnit } from '../observability';
import { makeApplyOnce } from '../use-cases/apply-once';

const inbox = new DynamoDbPaymentInbox(
  dynamoDocumentClient(),
  { tableName: requiredEnv(ENV.inboxTable), retentionDays: positiveIntEnv(ENV.inboxRetentionDays, 30) },
  { now: () => new Date() },
);
const applyOnce = makeApplyOnce(inbox);
// The async variant of SqsFifoPartialProcessor: the record handler awaits DynamoDB.
const processor = new SqsFifoPartialProcessorAsync();

const recordHandler = async (record: SQSRecord): Promise<void> => {
  const message = { messageId: record.messageId, messageGroupId: record.attributes.MessageGroupId };
  let envelope;
  try {
    envelope = parseEnvelope(record.body);
  } catch (error) {
    if (error instanceof InvalidEnvelopeError) {
      metrics.addMetric('InvalidMessages', MetricUnit.Count, 1);
      logger.error('Message is not a payment event; it goes to the DLQ after its last receive', { ...message, error });
    }
    throw error;
  }
  const event = { ...message, eventId: envelope.eventId, aggregateId: envelope.aggregateId, sequence: envelope.sequence };
  try {
    const outcome = await applyOnce(envelope, paymentProjectionEffect(envelope));
    if (outcome.status === 'applied') {
      metrics.addMetric('EventsApplied', MetricUnit.Count, 1);
      logger.info('Event applied', { ...event, type: envelope.type });
    } else {
      metrics.addMetric('EventsSkipped', MetricUnit.Count, 1);
      logger.info('Event already applied; acknowledged without effect', { ...event, outcome });
    }
  } catch (error) {
    if (error instanceof SequenceGapError) {
      metrics.addMetric('SequenceGaps', MetricUnit.Count, 1);
      logger.warn('Earlier events are missing; message left for retry', {
        ...event,
        expectedSequence: error.expectedSequence,
      });
    } else {
      metrics.addMetric('ApplyFailures', MetricUnit.Count, 1);
      logger.error('Event could not be applied; message left for retry', { ...event, error: error as Error });
    }
    throw error;
  }
};

const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, recordHandler, processor, {
    context,
    skipGroupOnError: true,
    // A batch whose every message failed is answered with the full list rather than an error:
    // same retry, but an explicit response.
    throwOnFullBatchFailure: false,
  });

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
