import { CfnOutput, type CfnResource, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct, IConstruct } from 'constructs';
import { ExampleConsumer } from './constructs/example-consumer';
import { OutboxObservability, type OutboxObservabilityProps } from './constructs/outbox-observability';
import { OutboxRelay, type OutboxRelayProps } from './constructs/outbox-relay';
import { OutboxSweeper, type OutboxSweeperProps } from './constructs/outbox-sweeper';
import { PaymentApi } from './constructs/payment-api';
import { PaymentEventQueue } from './constructs/payment-event-queue';
import { PaymentTables } from './constructs/payment-tables';

/** Relay settings a stack may override; see {@link OutboxRelayProps}. */
export type RelaySettings = Pick<OutboxRelayProps, 'batchSize' | 'retryAttempts' | 'maxRecordAge' | 'maxBatchingWindow'>;

/** Sweeper settings a stack may override; see {@link OutboxSweeperProps}. */
export type SweeperSettings = Pick<OutboxSweeperProps, 'gracePeriod' | 'maxEventsPerRun' | 'interval' | 'timeout'>;

/** Alarm thresholds a stack may override; see {@link OutboxObservabilityProps}. */
export type AlarmThresholds = Pick<OutboxObservabilityProps, 'iteratorAgeAlarmThreshold' | 'oldestPendingAgeAlarmThreshold'>;

/** Props of {@link PaymentOutboxStack}. */
export interface PaymentOutboxStackProps extends StackProps {
  /**
   * Outbox (and idempotency/inbox) retention in days, an integer between 2 and 365.
   *
   * @default 30
   */
  readonly retentionDays?: number;

  /**
   * Receives of a payment event before it moves to `payment-events-dlq.fifo`, an integer between 1 and 1000.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * Removal policy of the stateful resources that hold payment data: the tables and the PG webhook secret.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Relay event source settings.
   *
   * @default - batch size 100, 10 retries, 12 h maximum record age, no batching window
   */
  readonly relay?: RelaySettings;

  /**
   * Outbox sweeper settings.
   *
   * @default - every minute, 120 s grace period, at most 1000 events per run, 60 s timeout
   */
  readonly sweeper?: SweeperSettings;

  /**
   * Alarm thresholds.
   *
   * @default - relay IteratorAge 60 s, oldest pending event age 10 minutes
   */
  readonly alarmThresholds?: AlarmThresholds;

  /**
   * API stage throttling.
   *
   * @default - 100 requests per second, burst 200
   */
  readonly apiThrottling?: { readonly rateLimit?: number; readonly burstLimit?: number };

  /**
   * Whether to create API Gateway's account-level CloudWatch role (false if the account already has one).
   *
   * @default true
   */
  readonly apiGatewayCloudWatchRole?: boolean;

  /**
   * Actions (e.g. an SNS topic) for every alarm: DLQ depth, relay IteratorAge, relay failures, oldest pending event age.
   *
   * @default - alarms without actions
   */
  readonly alarmActions?: readonly IAlarmAction[];
}

/** Timeout of the example consumer; payment-events.fifo's visibility timeout is 6 times this. */
const CONSUMER_TIMEOUT = Duration.seconds(30);

/**
 * The payment outbox: tables, the payment API, the Outbox stream relay, the scheduled outbox sweeper,
 * the payment-events FIFO queue with its DLQ, an example consumer, and the alarms and dashboard.
 * Composition only; the constructs own the resources.
 * Environment-agnostic: synthesizes without credentials.
 */
export class PaymentOutboxStack extends Stack {
  /** The tables. */
  public readonly tables: PaymentTables;
  /** payment-events.fifo and its DLQ. */
  public readonly paymentEvents: PaymentEventQueue;
  /** The Outbox stream relay. */
  public readonly relay: OutboxRelay;
  /** The REST API. */
  public readonly api: PaymentApi;
  /** The scheduled outbox sweeper. */
  public readonly sweeper: OutboxSweeper;
  /** The example consumer. */
  public readonly exampleConsumer: ExampleConsumer;
  /** Alarms and dashboard. */
  public readonly observability: OutboxObservability;

  constructor(scope: Construct, id: string, props: PaymentOutboxStackProps = {}) {
    super(scope, id, props);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.tables = new PaymentTables(this, 'Tables', { retentionDays: props.retentionDays, removalPolicy });

    this.paymentEvents = new PaymentEventQueue(this, 'PaymentEvents', {
      maxReceiveCount: props.maxReceiveCount,
      consumerTimeout: CONSUMER_TIMEOUT,
    });

    this.relay = new OutboxRelay(this, 'Relay', {
      ...props.relay,
      outboxTable: this.tables.outbox,
      eventQueue: this.paymentEvents.queue,
    });

    this.sweeper = new OutboxSweeper(this, 'Sweeper', {
      ...props.sweeper,
      outboxTable: this.tables.outbox,
      eventQueue: this.paymentEvents.queue,
    });

    this.api = new PaymentApi(this, 'Api', {
      paymentsTable: this.tables.payments,
      outboxTable: this.tables.outbox,
      idempotencyTable: this.tables.idempotency,
      retentionDays: this.tables.retentionDays,
      throttlingRateLimit: props.apiThrottling?.rateLimit,
      throttlingBurstLimit: props.apiThrottling?.burstLimit,
      cloudWatchRole: props.apiGatewayCloudWatchRole,
      secretRemovalPolicy: removalPolicy,
    });

    this.exampleConsumer = new ExampleConsumer(this, 'ExampleConsumer', {
      queue: this.paymentEvents.queue,
      inboxTable: this.tables.inbox,
      timeout: this.paymentEvents.consumerTimeout,
    });

    this.observability = new OutboxObservability(this, 'Observability', {
      ...props.alarmThresholds,
      relayFunction: this.relay.relayFunction,
      relayFailureQueue: this.relay.failureQueue,
      sweeperFunction: this.sweeper.sweeperFunction,
      sweeperInterval: this.sweeper.interval,
      sweeperGracePeriod: this.sweeper.gracePeriod,
      deadLetterQueue: this.paymentEvents.deadLetterQueue,
      consumerFunction: this.exampleConsumer.consumerFunction,
      alarmActions: props.alarmActions,
    });

    // Stateful resources keep short, fixed logical ids: readable in the template (the local runner names
    // its tables after them), and moving a construct in the tree can never replace a table or a queue.
    pinLogicalIds({
      PaymentsTable: this.tables.payments,
      OutboxTable: this.tables.outbox,
      IdempotencyTable: this.tables.idempotency,
      InboxTable: this.tables.inbox,
      PaymentEventsQueue: this.paymentEvents.queue,
      PaymentEventsDlq: this.paymentEvents.deadLetterQueue,
      RelayFailuresQueue: this.relay.failureQueue,
      PgWebhookSecret: this.api.pgWebhookSecret,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the payment API (stage included)' });
    new CfnOutput(this, 'OutboxTableName', {
      value: this.tables.outbox.tableName,
      description: 'Outbox table (replay reads it; the sweeper republishes from its PendingEvents index)',
    });
    new CfnOutput(this, 'InboxTableName', { value: this.tables.inbox.tableName, description: "The example consumer's inbox table" });
    new CfnOutput(this, 'PaymentEventsQueueUrl', { value: this.paymentEvents.queue.queueUrl });
    new CfnOutput(this, 'PaymentEventsDlqUrl', { value: this.paymentEvents.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'RelayFailuresQueueUrl', { value: this.relay.failureQueue.queueUrl });
    new CfnOutput(this, 'PgWebhookSecretArn', {
      value: this.api.pgWebhookSecret.secretArn,
      description: 'Secret holding the PG webhook HMAC key; share its value with the PG',
    });
  }
}

function pinLogicalIds(resources: Record<string, IConstruct>): void {
  for (const [logicalId, construct] of Object.entries(resources)) {
    (construct.node.defaultChild as CfnResource).overrideLogicalId(logicalId);
  }
}
