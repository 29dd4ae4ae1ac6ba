import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { validateDurationInRange, validateIntegerInRange } from './validation';

/** Visibility timeout = this factor x the consumer's timeout (AWS guidance for Lambda event sources). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Props of {@link PaymentEventQueue}. */
export interface PaymentEventQueueProps {
  /**
   * Base name of the queue; the queue is `<name>.fifo` and its DLQ `<name>-dlq.fifo`.
   *
   * @default 'payment-events'
   */
  readonly queueBaseName?: string;

  /**
   * Receives before a message moves to the DLQ, an integer between 1 and 1000.
   *
   * @default 5
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
 * A subscriber's FIFO queue for payment events, `payment-events.fifo`, with its FIFO DLQ
 * `payment-events-dlq.fifo` (14 days retention), both SQS-managed encrypted and TLS-only.
 * The DLQ depth alarm is in OutboxObservability.
 *
 * Producers set `MessageGroupId` = payment id and `MessageDeduplicationId` = event id, so
 * content-based deduplication is off.
 */
export class PaymentEventQueue extends Construct {
  /** The FIFO queue. */
  public readonly queue: sqs.Queue;
  /** The FIFO dead-letter queue. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The consumer timeout the visibility timeout was computed from; give the consumer this timeout. */
  public readonly consumerTimeout: Duration;
  /** The queue's visibility timeout (6 x consumerTimeout). */
  public readonly visibilityTimeout: Duration;

  constructor(scope: Construct, id: string, props: PaymentEventQueueProps = {}) {
    super(scope, id);

    const baseName = props.queueBaseName ?? 'payment-events';
    if (!/^[A-Za-z0-9_-]{1,66}$/.test(baseName)) {
      throw new Error(`${this.node.path}: queueBaseName must be 1-66 characters of [A-Za-z0-9_-] (got ${baseName})`);
    }
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    validateIntegerInRange(this, 'maxReceiveCount', maxReceiveCount, 1, 1000);
    this.consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    validateDurationInRange(this, 'consumerTimeout', this.consumerTimeout, Duration.seconds(1), Duration.minutes(15));
    const retentionPeriod = props.retentionPeriod ?? Duration.days(4);
    validateDurationInRange(this, 'retentionPeriod', retentionPeriod, Duration.minutes(1), Duration.days(14));
    this.visibilityTimeout = Duration.seconds(this.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: `${baseName}-dlq.fifo`,
      fifo: true,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: `${baseName}.fifo`,
      fifo: true,
      contentBasedDeduplication: false,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
  }
}
