import { Duration } from 'aws-cdk-lib';
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
import { validateDurationInRange, validateIntegerInRange } from './validation';

/** Visibility timeout = this factor x the consumer's timeout (AWS guidance for Lambda event sources). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Receives of a message before SQS moves it to the DLQ, for a queue subscriber. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/**
 * A webhook subscriber's queue redrives after `maxAttempts` + this many receives. The dispatcher
 * dead-letters an event itself after `maxAttempts` POSTs (with the reason); SQS redrive is only the
 * backstop for receives that never reached a POST (crashes, timeouts, released messages).
 */
export const WEBHOOK_REDRIVE_MARGIN = 5;

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
   * subscriber, more than its `maxAttempts` (the dispatcher dead-letters by itself first).
   *
   * @default 5 for a queue subscriber, `maxAttempts` + 5 for a webhook subscriber
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
      this.maxReceiveCount = props.maxReceiveCount ?? maxAttempts + WEBHOOK_REDRIVE_MARGIN;
      validateIntegerInRange(this, 'maxReceiveCount', this.maxReceiveCount, maxAttempts + 1, 1000);
    } else {
      this.maxReceiveCount = props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;
      validateIntegerInRange(this, 'maxReceiveCount', this.maxReceiveCount, 1, 1000);
    }
    this.consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    validateDurationInRange(this, 'consumerTimeout', this.consumerTimeout, Duration.seconds(1), Duration.minutes(15));
    const retentionPeriod = props.retentionPeriod ?? Duration.days(4);
    validateDurationInRange(this, 'retentionPeriod', retentionPeriod, Duration.minutes(1), Duration.days(14));
    this.visibilityTimeout = Duration.seconds(this.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: subscriberDlqName(subscriber.name),
      fifo: true,
      contentBasedDeduplication: false,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: subscriberQueueName(subscriber.name),
      fifo: true,
      contentBasedDeduplication: false,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });

    const filterPolicy = snsFilterPolicy(subscriber);
    this.subscription = props.topic.addSubscription(
      new SqsSubscription(this.queue, {
        rawMessageDelivery: true,
        filterPolicy: filterPolicy && {
          eventType: sns.SubscriptionFilter.stringFilter({ allowlist: [...filterPolicy.eventType] }),
        },
      }),
    );
    // The filter applies to message attributes (the publishers' eventType attribute), said explicitly.
    (this.subscription.node.defaultChild as sns.CfnSubscription).filterPolicyScope = 'MessageAttributes';
  }
}
