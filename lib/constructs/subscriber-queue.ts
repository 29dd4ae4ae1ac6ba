import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  isWebhookSubscriber,
  snsFilterPolicy,
  subscriberDlqName,
  subscriberQueueName,
  type Subscriber,
} from '../../lambdas/domain/subscribers';
import {
  SQS_MAX_RECEIVE_COUNT,
  WEBHOOK_GROUP_DEPTH_BOUND,
  WEBHOOK_REDRIVE_MARGIN,
  webhookMaxReceiveCount,
} from '../../lambdas/domain/webhook-delivery-policy';
import { stagedName } from './stage';
import { validateDurationInRange, validateIntegerInRange } from './validation';

/** Visibility timeout = this factor x the consumer's timeout (AWS guidance for Lambda event sources). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Receives of a message before SQS moves it to the DLQ, for a queue subscriber. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

export { SQS_MAX_RECEIVE_COUNT, WEBHOOK_GROUP_DEPTH_BOUND, WEBHOOK_REDRIVE_MARGIN, webhookMaxReceiveCount };

/**
 * `<name>-sns-dlq.fifo`: the FIFO dead-letter queue of the subscriber's SNS subscription, holding the
 * events SNS could not deliver to `<name>.fifo` (deleted queue, broken queue policy).
 */
export function subscriptionDlqName(name: string): string {
  return `${name}-sns-dlq.fifo`;
}

/**
 * High-throughput FIFO (deduplication and the throughput quota per message group, i.e. per payment):
 * every FIFO queue of a subscriber has it. Deduplication ids are event ids (or derived from them),
 * each used in one group only, so deduplicating per group drops exactly the same copies.
 */
const HIGH_THROUGHPUT_FIFO = {
  fifo: true,
  contentBasedDeduplication: false,
  deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
  fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
} as const;

/**
 * `payment-events` -> `PaymentEvents`: the subscriber's name as a CloudFormation id part
 * (logical ids `<PascalName>Queue`, outputs `<PascalName>QueueUrl`, ...).
 */
export function subscriberIdPart(name: string): string {
  return name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/** Props of {@link SubscriberQueue}. */
export interface SubscriberQueueProps {
  /** The subscriber (as returned by `parseSubscribers`): names the queues and gives the filter policy. */
  readonly subscriber: Subscriber;

  /** The FIFO topic the queue subscribes to. */
  readonly topic: sns.ITopic;

  /**
   * Receives before a message moves to the DLQ, an integer between 1 and 1000; for a webhook
   * subscriber, at least {@link webhookMaxReceiveCount} of its `maxAttempts` (the dispatcher
   * dead-letters by itself first, and later events of a payment are received without a POST).
   *
   * @default 5 for a queue subscriber, `webhookMaxReceiveCount(maxAttempts)` for a webhook subscriber
   */
  readonly maxReceiveCount?: number;

  /**
   * Timeout of the Lambda that consumes the queue, between 1 second and 15 minutes. The queue's
   * visibility timeout is 6 times this, so a message is not redelivered while a retried invocation
   * may still be working on it.
   *
   * @default Duration.seconds(30)
   */
  readonly consumerTimeout?: Duration;

  /**
   * How long the queue keeps a message, between 1 minute and 14 days.
   *
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;
}

/**
 * One subscriber's delivery path: its FIFO queue `<name>.fifo` with the FIFO DLQ `<name>-dlq.fifo`
 * (14 days retention), both SQS-managed encrypted and TLS-only, and the queue's subscription to the
 * payment events topic with raw message delivery (the queue receives the envelope itself, with the
 * `eventType`/`sequence`/`aggregateId` message attributes) and, when the subscriber takes only some
 * event types, a filter policy on the `eventType` attribute. The subscription adds the queue policy
 * letting SNS send from this topic only. Its alarms (DLQ depth, age of the oldest message) are in OutboxObservability.
 *
 * The subscription redrives what SNS cannot deliver to the queue (the queue deleted, its policy broken,
 * its encryption refused) into the FIFO queue `<name>-sns-dlq.fifo` (14 days, SQS-managed encryption,
 * TLS-only; its policy lets SNS send from this topic only), so no event is dropped: SNS keeps the message
 * group and deduplication id, and the events can be moved into the repaired queue in order.
 *
 * Every queue is in high-throughput FIFO mode (`DeduplicationScope: messageGroup`,
 * `FifoThroughputLimit: perMessageGroupId`): the quota is per payment, not per queue. The DLQs are too: a
 * subscriber that rejects everything, or a deleted queue, sends every event there at the fan-out rate.
 *
 * Publishers set `MessageGroupId` = payment id and `MessageDeduplicationId` = event id, so
 * content-based deduplication is off.
 */
export class SubscriberQueue extends Construct {
  /** The subscriber. */
  public readonly subscriber: Subscriber;
  /** The FIFO queue. */
  public readonly queue: sqs.Queue;
  /** The FIFO dead-letter queue. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The queue's subscription to the topic. */
  public readonly subscription: sns.Subscription;
  /**
   * The FIFO dead-letter queue of the subscription (`<name>-sns-dlq.fifo`): events SNS could not deliver to
   * {@link queue}. Alarm on its first message (see {@link subscriptionDeadLetterQueueDepth}).
   */
  public readonly subscriptionDeadLetterQueue: sqs.Queue;
  /** ApproximateNumberOfMessagesVisible of {@link subscriptionDeadLetterQueue}, maximum over 1 minute (as the DLQ alarms use). */
  public readonly subscriptionDeadLetterQueueDepth: cloudwatch.Metric;
  /** The consumer timeout the visibility timeout was computed from; give the consumer this timeout. */
  public readonly consumerTimeout: Duration;
  /** The queue's visibility timeout (6 x consumerTimeout). */
  public readonly visibilityTimeout: Duration;
  /** Receives before SQS moves a message to the DLQ. */
  public readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: SubscriberQueueProps) {
    super(scope, id);

    const { subscriber } = props;
    this.subscriber = subscriber;
    if (props.topic.fifo !== true) {
      throw new Error(`${this.node.path}: topic must be a FIFO topic (order per payment relies on message groups)`);
    }
    if (isWebhookSubscriber(subscriber)) {
      const { maxAttempts } = subscriber.delivery;
      const backstop = webhookMaxReceiveCount(maxAttempts);
      this.maxReceiveCount = props.maxReceiveCount ?? backstop;
      validateIntegerInRange(this, 'maxReceiveCount', this.maxReceiveCount, backstop, SQS_MAX_RECEIVE_COUNT);
    } else {
      this.maxReceiveCount = props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;
      validateIntegerInRange(this, 'maxReceiveCount', this.maxReceiveCount, 1, SQS_MAX_RECEIVE_COUNT);
    }
    this.consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    validateDurationInRange(this, 'consumerTimeout', this.consumerTimeout, Duration.seconds(1), Duration.minutes(15));
    const retentionPeriod = props.retentionPeriod ?? Duration.days(4);
    validateDurationInRange(this, 'retentionPeriod', retentionPeriod, Duration.minutes(1), Duration.days(14));
    this.visibilityTimeout = Duration.seconds(this.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: stagedName(this, subscriberDlqName(subscriber.name)),
      ...HIGH_THROUGHPUT_FIFO,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: stagedName(this, subscriberQueueName(subscriber.name)),
      ...HIGH_THROUGHPUT_FIFO,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });

    this.subscriptionDeadLetterQueue = new sqs.Queue(this, 'SubscriptionDeadLetterQueue', {
      queueName: stagedName(this, subscriptionDlqName(subscriber.name)),
      ...HIGH_THROUGHPUT_FIFO,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.subscriptionDeadLetterQueueDepth = this.subscriptionDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
    });

    const filterPolicy = snsFilterPolicy(subscriber);
    this.subscription = props.topic.addSubscription(
      new SqsSubscription(this.queue, {
        rawMessageDelivery: true,
        // Adds the DLQ's policy statement: sqs:SendMessage for sns.amazonaws.com, aws:SourceArn = this topic.
        deadLetterQueue: this.subscriptionDeadLetterQueue,
        filterPolicy: filterPolicy && {
          eventType: sns.SubscriptionFilter.stringFilter({ allowlist: [...filterPolicy.eventType] }),
        },
      }),
    );
    // The filter applies to message attributes (the publishers' eventType attribute), said explicitly.
    (this.subscription.node.defaultChild as sns.CfnSubscription).filterPolicyScope = 'MessageAttributes';

    Validations.of(this.subscriptionDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "The queue is a dead-letter queue: the SNS subscription's RedrivePolicy targets it (cdk-nag only counts SQS " +
        'redrive policies). Nothing consumes it automatically; the FanOutDeliveryFailures alarm fires when SNS fails ' +
        "a delivery and <Subscriber>SnsDeadLetterQueueNotEmpty while it holds an event; the events it holds are re-sent to the repaired subscriber queue.",
    });
  }
}
