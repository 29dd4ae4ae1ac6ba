import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PENDING_SHARD_ATTRIBUTE } from '../../lambdas/domain/pending-shards';
import { ENV } from '../../lambdas/platform/env-names';
import { PaymentFunction, type TableItemAction } from './payment-function';
import { stagedName } from './stage';
import { validateDurationInRange, validateIntegerInRange } from './validation';
import { RELAY_FAILURES_QUEUE_NAME } from '../../lambdas/platform/resource-names';

/** Handler entry of the relay. */
export const RELAY_ENTRY = 'lambdas/functions/outbox-relay/entry.ts';

/**
 * What the relay does to Outbox items (`OUTBOX_TABLE_NAME`): `UpdateItem` marks an event published (a
 * TransactWriteItems of updates is authorized item by item as `UpdateItem`), `BatchGetItem` (consistent)
 * reads the predecessors it must check, `Query` (consistent, on the table's own key) finds a payment's
 * pending predecessors when one is still pending.
 */
export const RELAY_OUTBOX_ACTIONS: readonly TableItemAction[] = ['BatchGetItem', 'Query', 'UpdateItem'];

/**
 * The relay mapping's filter: records whose new image carries the pending marker (`pendingShard`, type S).
 *
 * DynamoDB event source mappings only filter on the `dynamodb` key (Lambda guide, "Using event filtering
 * with a DynamoDB event source"), and `exists` only matches leaf nodes, hence the `S` level. A fresh
 * outbox item has the marker; marking it published removes it (that MODIFY is dropped here) and a TTL
 * `REMOVE` has no new image. A MODIFY that keeps the marker still passes: the relay acknowledges every
 * record that is not an INSERT without publishing it (`toRelayRecord`).
 */
export const RELAY_STREAM_FILTER = lambda.FilterCriteria.filter({
  dynamodb: { NewImage: { [PENDING_SHARD_ATTRIBUTE]: { S: lambda.FilterRule.exists() } } },
});

/** Props of {@link OutboxRelay}. */
export interface OutboxRelayProps {
  /**
   * The Outbox table. It must have a stream (NEW_IMAGE): the relay reads its INSERT records. The relay
   * also marks published events on it and queries a payment's pending predecessors (`OUTBOX_TABLE_NAME`).
   */
  readonly outboxTable: ITable;

  /**
   * The FIFO topic the relay publishes to (`PAYMENT_EVENTS_TOPIC_ARN`), which fans events out to the
   * subscribers' queues. The relay may only publish to it.
   */
  readonly eventTopic: ITopic;

  /**
   * Stream records per invocation, an integer between 1 and 10000.
   *
   * @default 100
   */
  readonly batchSize?: number;

  /**
   * Retries of a failing batch (after bisecting) before its records go to the on-failure queue,
   * an integer between 0 and 10000. Finite, so a poison record cannot block its shard for 24 h.
   *
   * @default 10
   */
  readonly retryAttempts?: number;

  /**
   * Records older than this are not retried but sent to the on-failure queue, between 1 minute and 23 hours.
   *
   * Must stay below the 24 h stream retention: a record the stream trims first never reaches the
   * on-failure destination. 12 h frees a blocked shard within half a day while the failed records are
   * still readable from the stream for another ~12 h (the on-failure message names the shard and the
   * sequence numbers); after that, the Outbox table (TTL of days) remains the source for republishing.
   *
   * @default Duration.hours(12)
   */
  readonly maxRecordAge?: Duration;

  /**
   * How long Lambda gathers records before invoking, between 0 seconds and 5 minutes.
   *
   * @default - no batching window (invoke as soon as records arrive)
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Timeout of the relay function, between 1 second and 15 minutes.
   *
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;

  /**
   * Name of the standard queue receiving the metadata of records the relay gave up on.
   *
   * @default 'relay-failures', prefixed `<stage>-` in a staged stack
   */
  readonly failureQueueName?: string;
}

/**
 * The relay: a function reading the Outbox stream through an event source mapping configured for
 * ordered, at-least-once delivery (TRIM_HORIZON, only records whose new image still carries the pending
 * marker ({@link RELAY_STREAM_FILTER}; the relay itself skips any that is not an INSERT), parallelization
 * factor 1, partial batch responses, bisect on error, finite retries and record age), with a standard SQS queue
 * `relay-failures` as on-failure destination (a FIFO queue is not allowed there). Its alarms
 * (IteratorAge, records reaching the failure queue) are in OutboxObservability. Events go to the SNS FIFO
 * topic `payment-events.fifo`, one publish per event whatever the number of subscribers.
 *
 * Grants: read on the Outbox stream (from the event source), `dynamodb:Query` and `dynamodb:UpdateItem`
 * on the Outbox table ARN (no index), `sns:Publish` on the event topic, and send on the failure
 * queue (from the on-failure destination). Nothing else.
 */
export class OutboxRelay extends Construct {
  /** The relay function. */
  public readonly relayFunction: PaymentFunction;
  /** The on-failure destination of the event source mapping. */
  public readonly failureQueue: sqs.Queue;
  /** The event source on the Outbox stream. */
  public readonly eventSource: DynamoEventSource;

  constructor(scope: Construct, id: string, props: OutboxRelayProps) {
    super(scope, id);

    const batchSize = props.batchSize ?? 100;
    validateIntegerInRange(this, 'batchSize', batchSize, 1, 10_000);
    const retryAttempts = props.retryAttempts ?? 10;
    validateIntegerInRange(this, 'retryAttempts', retryAttempts, 0, 10_000);
    const maxRecordAge = props.maxRecordAge ?? Duration.hours(12);
    validateDurationInRange(this, 'maxRecordAge', maxRecordAge, Duration.minutes(1), Duration.hours(23));
    if (props.maxBatchingWindow) {
      validateDurationInRange(this, 'maxBatchingWindow', props.maxBatchingWindow, Duration.seconds(0), Duration.minutes(5));
    }
    if (props.eventTopic.fifo !== true) {
      throw new Error(`${this.node.path}: eventTopic must be a FIFO topic (the relay sets MessageGroupId and MessageDeduplicationId)`);
    }
    if (!props.outboxTable.tableStreamArn) {
      throw new Error(`${this.node.path}: outboxTable must have a stream (StreamViewType NEW_IMAGE)`);
    }

    this.relayFunction = new PaymentFunction(this, 'Function', {
      entry: RELAY_ENTRY,
      description: 'Outbox stream (INSERT) -> the payment events SNS FIFO topic; partial batch failures',
      timeout: props.timeout ?? Duration.seconds(30),
    });
    this.relayFunction.bindTopic(ENV.paymentEventsTopicArn, props.eventTopic, 'publish');
    // Marks what the topic accepted (UpdateItem) and reads a payment's pending predecessors (consistent Query).
    this.relayFunction.bindTable(ENV.outboxTable, props.outboxTable, { actions: RELAY_OUTBOX_ACTIONS });

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      queueName: props.failureQueueName ?? stagedName(this, RELAY_FAILURES_QUEUE_NAME),
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.eventSource = new DynamoEventSource(props.outboxTable, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      filters: [RELAY_STREAM_FILTER],
      batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      parallelizationFactor: 1,
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts,
      maxRecordAge,
      onFailure: new SqsDlq(this.failureQueue),
    });
    this.relayFunction.function.addEventSource(this.eventSource);

    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'relay-failures is itself the failure store: the on-failure destination of the Outbox stream mapping. ' +
        'Nothing consumes it automatically; an alarm (OutboxObservability) fires on its first message, and the sweeper ' +
        'republishes the events it names from the Outbox table.',
    });
    Validations.of(this.relayFunction.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The stream event source needs dynamodb:ListStreams, which cannot be scoped to a resource (CDK grants it on "*"); ' +
        'DescribeStream/GetRecords/GetShardIterator are scoped to the Outbox stream ARN.',
    });
  }
}
