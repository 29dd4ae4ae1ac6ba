/**
 * Composition of a webhook dispatcher: the SQS FIFO consumer of one webhook subscriber's queue.
 * Built once per cold start by `entry.ts` from the configuration `config.ts` reads.
 *
 * Per invocation, through Powertools' `SqsFifoPartialProcessorAsync` with `skipGroupOnError`:
 * messages are attempted in order; a message that is not delivered or dead-lettered fails, and so
 * do the later messages of its group (the payment) in the batch, so a payment's next event is
 * never sent before the previous one is settled. Messages that were not attempted (behind a
 * failed one, or no time left for a full attempt) are made visible again at once: only the failed
 * message, invisible for its backoff delay, holds back its group.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DynamoDbDeliveryLog } from '../../adapters/dynamodb-delivery-log';
import { HttpWebhookClient } from '../../adapters/http-webhook-client';
import { SqsSubscriberQueue } from '../../adapters/sqs-subscriber-queue';
import { defineFunction, type FunctionRuntime } from '../../platform/function-runtime';
import { observedHandler } from '../../platform/observed-handler';
import { randomTraceIds } from '../../platform/trace-scope';
import { messageTraceContext } from '../../consumer-guard/guarded-fifo-consumer';
import { readSecret } from '../../platform/secret-value';
import type { QueueMessageRef, SubscriberQueue } from '../../ports/subscriber-queue';
import { dispatchWebhook, type DispatchOutcome, type DispatchWebhookDeps } from '../../use-cases/dispatch-webhook';
import { webhookDispatcherConfigFromEnv, type WebhookDispatcherConfig } from './config';
import { METRIC_DIMENSIONS, OUTBOX_METRICS } from '../../platform/metric-names';

/** Time kept, beyond the request timeout, for the records and the DLQ send after a POST. */
export const ATTEMPT_OVERHEAD_MS = 3_000;

/** The attempt ended retryable: the message fails and comes back after its backoff delay. */
export class WebhookRetryScheduledError extends Error {
  constructor(
    readonly eventId: string,
    readonly delaySeconds: number,
    reason: string,
  ) {
    super(`Event ${eventId} not delivered (${reason}); next attempt in ${delaySeconds} s`);
    this.name = 'WebhookRetryScheduledError';
  }
}

/** Not enough of the invocation left for a full attempt; the message is released untouched. */
export class OutOfTimeError extends Error {
  constructor(readonly remainingMs: number) {
    super(`Only ${remainingMs} ms left in the invocation; message released for the next one`);
    this.name = 'OutOfTimeError';
  }
}

export type WebhookDispatcherHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface WebhookDispatcherParts {
  readonly deps: DispatchWebhookDeps;
  readonly queue: SubscriberQueue;
  readonly logger: Logger;
  /** Counts and timings, with the `subscriber` dimension; the caller flushes them. */
  readonly metrics?: Metrics;
}

/** The handler over explicit parts (tests, and `createWebhookDispatcherHandler`). */
export function webhookDispatcher(parts: WebhookDispatcherParts): WebhookDispatcherHandler {
  const { deps, queue, metrics } = parts;
  const timeoutMs = deps.settings.timeoutSeconds * 1000;

  return async (event, context) => {
    // One processor per invocation: it holds the batch's state, and the local runner may run
    // invocations of one function concurrently in a single process.
    const processor = new SqsFifoPartialProcessorAsync();
    const attempted = new Set<string>();
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const trace = messageTraceContext(record);
      const logger = parts.logger.createChild({
        persistentKeys: {
          subscriber: deps.settings.subscriber,
          messageId: record.messageId,
          messageGroupId: record.attributes.MessageGroupId,
          ...(trace && { traceId: trace.traceId }),
        },
      });
      const remainingMs = context.getRemainingTimeInMillis();
      if (remainingMs < timeoutMs + ATTEMPT_OVERHEAD_MS) throw new OutOfTimeError(remainingMs);
      attempted.add(record.messageId);
      let outcome: DispatchOutcome;
      try {
        outcome = await dispatchWebhook(
          {
            messageId: record.messageId,
            receiptHandle: record.receiptHandle,
            body: record.body,
            messageGroupId: record.attributes.MessageGroupId ?? 'unknown',
            receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
            ...(trace && { trace }),
          },
          deps,
        );
      } catch (error) {
        metrics?.addMetric(OUTBOX_METRICS.webhook.dispatchErrors, MetricUnit.Count, 1);
        logger.error('Webhook attempt could not be made; message left for the queue visibility timeout', { error: error as Error });
        throw error;
      }
      report(outcome, logger, metrics);
      if (outcome.status === 'retry-scheduled') {
        throw new WebhookRetryScheduledError(outcome.event.eventId, outcome.delaySeconds, outcome.error);
      }
    };

    const response = await processPartialResponse(event, handleRecord, processor, {
      context,
      skipGroupOnError: true,
      throwOnFullBatchFailure: false,
    });

    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    const unattempted: QueueMessageRef[] = event.Records.filter(
      (record) => failed.has(record.messageId) && !attempted.has(record.messageId),
    ).map((record) => ({ messageId: record.messageId, receiptHandle: record.receiptHandle }));
    if (unattempted.length > 0) {
      try {
        await queue.release(unattempted);
      } catch (error) {
        parts.logger.warn('Unattempted messages could not be released; they return after the visibility timeout', {
          subscriber: deps.settings.subscriber,
          messageIds: unattempted.map((message) => message.messageId),
          error: error as Error,
        });
      }
    }
    return response;
  };
}

function report(outcome: DispatchOutcome, logger: Logger, metrics: Metrics | undefined): void {
  const count = (name: string) => metrics?.addMetric(name, MetricUnit.Count, 1);
  if (outcome.event) {
    logger.appendKeys({ eventId: outcome.event.eventId, paymentId: outcome.event.aggregateId, sequence: outcome.event.sequence });
  }
  for (const warning of outcome.warnings) {
    count(OUTBOX_METRICS.webhook.deliveryRecordFailures);
    logger.warn(`Webhook attempt done, but a follow-up step failed: ${warning.step}`, { error: warning.error as Error });
  }
  switch (outcome.status) {
    case 'delivered':
      count(OUTBOX_METRICS.webhook.delivered);
      metrics?.addMetric(OUTBOX_METRICS.webhook.attemptDurationMs, MetricUnit.Milliseconds, outcome.durationMs);
      metrics?.addMetric(OUTBOX_METRICS.webhook.deliveryLatencyMs, MetricUnit.Milliseconds, outcome.latencyMs);
      logger.info('Webhook delivered', {
        attempt: outcome.attempt,
        statusCode: outcome.statusCode,
        durationMs: outcome.durationMs,
        latencyMs: outcome.latencyMs,
      });
      return;
    case 'retry-scheduled':
      count(OUTBOX_METRICS.webhook.retries);
      metrics?.addMetric(OUTBOX_METRICS.webhook.attemptDurationMs, MetricUnit.Milliseconds, outcome.durationMs);
      logger.warn('Webhook attempt failed; retry scheduled', {
        attempt: outcome.attempt,
        error: outcome.error,
        ...(outcome.statusCode !== undefined && { statusCode: outcome.statusCode }),
        delaySeconds: outcome.delaySeconds,
        delaySource: outcome.delaySource,
        nextAttemptAt: outcome.nextAttemptAt,
      });
      return;
    case 'dead-lettered':
      count(OUTBOX_METRICS.webhook.deadLettered);
      logger.error('Webhook event dead-lettered', {
        attempt: outcome.attempt,
        reason: outcome.reason,
        error: outcome.error,
        ...(outcome.statusCode !== undefined && { statusCode: outcome.statusCode }),
      });
      return;
    case 'already-settled':
      count(OUTBOX_METRICS.webhook.alreadySettled);
      logger.info('Message was settled before (its deletion failed); acknowledged without a request', {
        state: outcome.state,
        attempt: outcome.attempt,
      });
      return;
  }
}

/**
 * The dispatcher of one webhook subscriber, from its configuration (`config.ts`); its metrics
 * carry the `subscriber` dimension.
 */
export function createWebhookDispatcherHandler(config: WebhookDispatcherConfig, runtime: FunctionRuntime) {
  const { logger, metrics } = runtime;
  metrics.setDefaultDimensions({ [METRIC_DIMENSIONS.subscriber]: config.settings.subscriber });
  const queue = new SqsSubscriberQueue(runtime.aws.sqs, { queueUrl: config.queueUrl, dlqUrl: config.dlqUrl });
  const deps: DispatchWebhookDeps = {
    settings: config.settings,
    client: new HttpWebhookClient(),
    queue,
    log: new DynamoDbDeliveryLog(runtime.aws.documents, {
      tableName: config.deliveriesTable,
      retentionDays: config.deliveriesRetentionDays,
    }),
    clock: runtime.clock,
    secret: () => readSecret(config.signingSecret),
    newSpanId: randomTraceIds.spanId,
  };
  const dispatch = webhookDispatcher({ deps, queue, logger, metrics });
  return observedHandler(dispatch, runtime);
}

export const webhookDispatcherFunction = defineFunction({ configFromEnv: webhookDispatcherConfigFromEnv, createHandler: createWebhookDispatcherHandler });
