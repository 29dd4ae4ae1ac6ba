/**
 * Example subscriber of `payment-events.fifo`: keeps a projection of each payment's status in
 * the Inbox table, applying every event exactly once and in sequence order through the consumer
 * guard (inbox by event id, sequence check, partial batch responses per message group).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoDbPaymentInbox } from '../adapters/dynamodb-inbox';
import { ENV } from '../config/env-names';
import { positiveIntEnv, requiredEnv } from '../config/required-env';
import { guardedFifoConsumer } from '../consumer-guard';
import { paymentProjectionEffect } from '../domain/consumer-rules';
import { logger, metrics } from '../observability';

const inbox = new DynamoDbPaymentInbox(
  dynamoDocumentClient(),
  { tableName: requiredEnv(ENV.inboxTable), retentionDays: positiveIntEnv(ENV.inboxRetentionDays, 30) },
  { now: () => new Date() },
);

const consume = guardedFifoConsumer({ store: inbox, apply: paymentProjectionEffect, logger, metrics });

export const handler = middy(consume).use(injectLambdaContext(logger)).use(logMetrics(metrics));
