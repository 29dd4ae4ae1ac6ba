/**
 * Webhook dispatcher: consumes one webhook subscriber's SQS FIFO queue and POSTs each event,
 * signed, to the subscriber's URL; retries with backoff by message visibility, dead-letters to
 * the subscriber's DLQ, records each attempt in the Deliveries table. Returns partial batch
 * failures per message group. See `composition/webhook-dispatcher.ts`.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { webhookDispatcherFromEnv } from '../composition/webhook-dispatcher';
import { logger } from '../observability';

const dispatcher = webhookDispatcherFromEnv(logger);

export const handler = middy(dispatcher.handler).use(injectLambdaContext(logger)).use(logMetrics(dispatcher.metrics));
