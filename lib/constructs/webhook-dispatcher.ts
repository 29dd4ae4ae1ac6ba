import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/platform/env-names';
import { isWebhookSubscriber, type WebhookSubscriber } from '../../lambdas/domain/subscribers';
import { webhookDispatcherEnvironment } from '../../lambdas/functions/webhook-dispatcher/config';
import { PaymentFunction, type TableItemAction } from './payment-function';
import type { SubscriberQueue } from './subscriber-queue';
import { validateIntegerInRange } from './validation';

/** Handler entry of every webhook dispatcher. */
export const WEBHOOK_DISPATCHER_ENTRY = 'lambdas/functions/webhook-dispatcher/entry.ts';

/**
 * What a dispatcher does to the Deliveries table (`DELIVERIES_TABLE_NAME`, lambdas/adapters/dynamodb-delivery-log.ts):
 * a consistent `GetItem` of the event's record before an attempt, a `PutItem` replacing it after.
 */
export const DISPATCHER_DELIVERIES_ACTIONS: readonly TableItemAction[] = ['GetItem', 'PutItem'];

/** Messages per dispatcher invocation unless told otherwise. */
export const DEFAULT_DISPATCHER_BATCH_SIZE = 5;

/**
 * Seconds the dispatcher keeps per attempt beyond the request timeout, for the delivery record and the
 * DLQ send; it starts no attempt with less than timeout + this left (`ATTEMPT_OVERHEAD_MS` in
 * lambdas/functions/webhook-dispatcher/webhook-dispatcher.ts, checked equal by test/cdk).
 */
export const DISPATCHER_ATTEMPT_OVERHEAD_SECONDS = 3;

/** Seconds of the dispatcher's timeout beyond its attempts: cold start, the secret fetch, releasing unattempted messages. */
export const DISPATCHER_TIMEOUT_MARGIN_SECONDS = 10;

/**
 * Timeout of a webhook dispatcher: long enough for every message of a full batch to get a whole attempt
 * (`batchSize` x (request timeout + attempt overhead) + a margin), so it always exceeds timeoutSeconds x batchSize.
 */
export function webhookDispatcherTimeout(subscriber: WebhookSubscriber, batchSize: number = DEFAULT_DISPATCHER_BATCH_SIZE): Duration {
  const perAttempt = subscriber.delivery.timeoutSeconds + DISPATCHER_ATTEMPT_OVERHEAD_SECONDS;
  return Duration.seconds(batchSize * perAttempt + DISPATCHER_TIMEOUT_MARGIN_SECONDS);
}

/** Props of {@link WebhookDispatcher}. */
export interface WebhookDispatcherProps {
  /** The webhook subscriber (as returned by `parseSubscribers`): URL, request timeout, attempts, backoff. */
  readonly subscriber: WebhookSubscriber;

  /**
   * The subscriber's queue and DLQ. The dispatcher consumes the queue (`SUBSCRIBER_QUEUE_URL`, and changes
   * message visibility for backoff) and dead-letters into the DLQ (`SUBSCRIBER_DLQ_URL`). Its consumer
   * timeout must be at least the dispatcher's timeout (see {@link webhookDispatcherTimeout}).
   */
  readonly subscriberQueue: SubscriberQueue;

  /** The Deliveries table (`DELIVERIES_TABLE_NAME`): one record per (subscriber, event). */
  readonly deliveriesTable: ITable;

  /** Days a delivery record is kept after its last update (`DELIVERIES_RETENTION_DAYS`), an integer between 1 and 365. */
  readonly retentionDays: number;

  /**
   * Messages per invocation, an integer between 1 and 10 (the FIFO maximum). The dispatcher's timeout grows with it.
   *
   * @default 5
   */
  readonly batchSize?: number;

  /**
   * Removal policy of the signing secret.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly secretRemovalPolicy?: RemovalPolicy;
}

/**
 * The webhook dispatcher of one subscriber: a Secrets Manager secret holding the subscriber's signing key
 * (64 generated characters, no punctuation; share it with the receiving service), and a function on the
 * subscriber's FIFO queue (partial batch responses) that POSTs each event signed with it
 * (lambdas/functions/webhook-dispatcher/entry.ts), retrying with backoff by message visibility and
 * dead-lettering into the subscriber's DLQ after `maxAttempts`.
 *
 * Environment: the subscriber's settings (`webhookDispatcherEnvironment`: SUBSCRIBER_NAME, WEBHOOK_URL,
 * WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_BACKOFF_*), SUBSCRIBER_QUEUE_URL, SUBSCRIBER_DLQ_URL,
 * DELIVERIES_TABLE_NAME, DELIVERIES_RETENTION_DAYS, WEBHOOK_SECRET_ARN.
 *
 * Grants: consume on its queue (from the event source) and `sqs:ChangeMessageVisibility` on it,
 * `sqs:SendMessage` on its DLQ, `dynamodb:GetItem` + `dynamodb:PutItem` on the Deliveries table ARN, read
 * on its own secret. Nothing else.
 */
export class WebhookDispatcher extends Construct {
  /** The secret holding the subscriber's HMAC signing key. */
  public readonly secret: secretsmanager.Secret;
  /** The dispatcher function. */
  public readonly dispatcherFunction: PaymentFunction;
  /** The event source on the subscriber's queue. */
  public readonly eventSource: SqsEventSource;
  /** The dispatcher's timeout. */
  public readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: WebhookDispatcherProps) {
    super(scope, id);

    const { subscriber, subscriberQueue } = props;
    if (!isWebhookSubscriber(subscriber)) {
      throw new Error(`${this.node.path}: subscriber ${(subscriber as { name: string }).name} is not a webhook subscriber`);
    }
    if (subscriberQueue.subscriber.name !== subscriber.name) {
      throw new Error(`${this.node.path}: subscriberQueue belongs to ${subscriberQueue.subscriber.name}, not to ${subscriber.name}`);
    }
    const batchSize = props.batchSize ?? DEFAULT_DISPATCHER_BATCH_SIZE;
    validateIntegerInRange(this, 'batchSize', batchSize, 1, 10);
    validateIntegerInRange(this, 'retentionDays', props.retentionDays, 1, 365);
    this.timeout = webhookDispatcherTimeout(subscriber, batchSize);
    if (subscriberQueue.consumerTimeout.toSeconds() < this.timeout.toSeconds()) {
      throw new Error(
        `${this.node.path}: the queue's consumerTimeout (${subscriberQueue.consumerTimeout.toHumanString()}) must be at least ` +
          `the dispatcher timeout (${this.timeout.toHumanString()}), so its visibility timeout covers a retried invocation`,
      );
    }

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        `Standard Webhooks secret the ${subscriber.name} webhook requests are signed with (base64 key; ` +
        'webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>); share it with the receiving service.',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.secretRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.dispatcherFunction = new PaymentFunction(this, 'Function', {
      entry: WEBHOOK_DISPATCHER_ENTRY,
      description: `Webhook dispatcher of subscriber ${subscriber.name}: ${subscriber.name}.fifo -> signed POST`,
      timeout: this.timeout,
      environment: {
        ...webhookDispatcherEnvironment(subscriber),
        [ENV.deliveriesRetentionDays]: String(props.retentionDays),
      },
    });
    const fn = this.dispatcherFunction;
    fn.bindQueue(ENV.subscriberQueueUrl, subscriberQueue.queue, 'changeVisibility');
    fn.bindQueue(ENV.subscriberDlqUrl, subscriberQueue.deadLetterQueue, 'send');
    fn.bindTable(ENV.deliveriesTable, props.deliveriesTable, { actions: DISPATCHER_DELIVERIES_ACTIONS });
    fn.bindSecret(ENV.webhookSecretArn, this.secret);

    this.eventSource = new SqsEventSource(subscriberQueue.queue, { batchSize, reportBatchItemFailures: true });
    fn.function.addEventSource(this.eventSource);

    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The signing key is shared with the receiving service out of band; rotating it needs the receiver to accept ' +
        'the new key at the same moment (a coordinated manual procedure), so an automatic rotation would break verification.',
    });
  }
}
