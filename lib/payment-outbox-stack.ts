import { CfnOutput, type CfnResource, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct, IConstruct } from 'constructs';
import { isWebhookSubscriber, parseSubscribers, type Subscriber } from '../lambdas/domain/subscribers';
import { AlarmTopic } from './constructs/alarm-topic';
import { ExampleConsumer } from './constructs/example-consumer';
import { OutboxObservability, type OutboxObservabilityProps } from './constructs/outbox-observability';
import { OutboxRelay, type OutboxRelayProps } from './constructs/outbox-relay';
import { OutboxSweeper, type OutboxSweeperProps } from './constructs/outbox-sweeper';
import { PaymentApi, TOSS_DEPOSIT_CALLBACK_PATH } from './constructs/payment-api';
import { PaymentEventTopic } from './constructs/payment-event-topic';
import { PaymentFunction } from './constructs/payment-function';
import {
  DEFAULT_PAYMENT_GATEWAY,
  type IPaymentGateway,
  isPaymentGatewayKind,
  PAYMENT_GATEWAY_KINDS,
  type PaymentGatewayKind,
} from './constructs/payment-gateway';
import { PaymentTables } from './constructs/payment-tables';
import { PgReconciler, type PgReconcilerProps } from './constructs/pg-reconciler';
import { SANDBOX_PG_NOTICE, SandboxPaymentGateway } from './constructs/sandbox-payment-gateway';
import { STAGE_CONTEXT_KEY, validateStage } from './constructs/stage';
import { SubscriberQueue, subscriberIdPart } from './constructs/subscriber-queue';
import { TOSS_PG_NOTICE, TossPaymentGateway, type TossPaymentGatewayProps } from './constructs/toss-payment-gateway';
import { WebhookDispatcher, webhookDispatcherTimeout } from './constructs/webhook-dispatcher';
import { EXAMPLE_CONSUMER_SUBSCRIBER } from '../lambdas/platform/resource-names';

/** Relay settings a stack may override; see {@link OutboxRelayProps}. */
export type RelaySettings = Pick<OutboxRelayProps, 'batchSize' | 'retryAttempts' | 'maxRecordAge' | 'maxBatchingWindow'>;

/** Sweeper settings a stack may override; see {@link OutboxSweeperProps}. */
export type SweeperSettings = Pick<OutboxSweeperProps, 'gracePeriod' | 'maxEventsPerRun' | 'interval' | 'timeout'>;

/** PG reconciler settings a stack may override; see {@link PgReconcilerProps}. */
export type ReconcilerSettings = Pick<PgReconcilerProps, 'gracePeriod' | 'maxAttemptsPerRun' | 'interval' | 'timeout'>;

/** Toss Payments settings of a stack whose `paymentGateway` is `toss`; see {@link TossPaymentGatewayProps}. */
export type TossSettings = Pick<TossPaymentGatewayProps, 'secretKeyArn' | 'apiBaseUrl' | 'virtualAccountBank' | 'virtualAccountValidHours'>;

/** Alarm thresholds a stack may override; see {@link OutboxObservabilityProps}. */
export type AlarmThresholds = Pick<
  OutboxObservabilityProps,
  | 'iteratorAgeAlarmThreshold'
  | 'oldestPendingAgeAlarmThreshold'
  | 'subscriberBacklogAgeAlarmThreshold'
  | 'oldestOpenPgAttemptAgeAlarmThreshold'
  | 'apiServerErrorAlarmThreshold'
  | 'functionErrorAlarmThreshold'
  | 'functionThrottleAlarmThreshold'
>;

/** Props of {@link PaymentOutboxStack}. */
export interface PaymentOutboxStackProps extends StackProps {
  /**
   * Deployment stage (`dev`, `prod`, ...), 1-12 characters of lowercase letters, digits and inner hyphens.
   * Prefixes every physical name the stack gives (`<stage>-payment-events.fifo`, `<stage>-<subscriber>.fifo`,
   * `<stage>-relay-failures`, the API's name, the functions' service dimension) and names the API Gateway
   * stage, so several stages share an account and region; the rest is named by CloudFormation.
   *
   * @default - no prefix: one such stack per account and region (bin/payment-outbox.ts always gives one)
   */
  readonly stage?: string;

  /**
   * Outbox (and idempotency/inbox) retention in days, an integer between 2 and 365.
   *
   * @default 30
   */
  readonly retentionDays?: number;

  /**
   * Who receives payment events, as raw configuration: validated and completed with defaults by
   * `parseSubscribers` (lambdas/domain/subscribers.ts) at construct time, so an invalid list fails
   * `cdk synth` with a SubscriberConfigError naming every problem. Each subscriber gets its FIFO queue
   * `<name>.fifo`, FIFO DLQ `<name>-dlq.fifo` and a subscription to the `payment-events.fifo` topic;
   * each webhook subscriber also gets a signing secret and a webhook dispatcher function on its queue.
   *
   * @default - one queue subscriber, `payment-events` (the example consumer's queue)
   */
  readonly subscribers?: readonly unknown[];

  /**
   * The queue subscriber whose queue the example consumer reads. When set, it must name a queue
   * subscriber; when left out and there is no `payment-events` queue subscriber, there is no example consumer.
   *
   * @default 'payment-events'
   */
  readonly exampleConsumerSubscriber?: string;

  /**
   * Receives of a payment event before it moves to a queue subscriber's DLQ (`<name>-dlq.fifo`), an
   * integer between 1 and 1000. Webhook subscribers redrive after `min(1000, maxAttempts × 10 + 20)` receives instead (a payment's later events are received each time an earlier one is tried; the dispatcher counts the attempts).
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * Removal policy of the stateful resources that hold payment data: the tables, the PG callback secret, the
   * Toss secret key (when the stack creates it) and the webhook signing secrets.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The payment gateway the API functions and the reconciler call (their `PAYMENT_GATEWAY`), and the output
   * `PaymentGateway`.
   * - `sandbox`: the stand-in PG, which keeps its ledger in the SandboxPgLedgerTable this stack then creates;
   *   its deposit callback is `POST /pg/webhooks/deposits`, HMAC-signed with the PgWebhookSecret key. The stack
   *   carries a synth warning (`payment-outbox:sandbox-pg`), since it cannot take real money.
   * - `toss`: Toss Payments ({@link TossPaymentGateway}, settings in `toss`): the secret key's secret (output
   *   `TossSecretKeyArn`) and the deposit callback `POST /pg/webhooks/toss` (output `TossDepositCallbackUrl`,
   *   to register in Toss's developer center); no ledger, no HMAC secret.
   *
   * @default 'sandbox'
   */
  readonly paymentGateway?: PaymentGatewayKind;

  /**
   * Toss Payments settings; only with `paymentGateway: 'toss'` (given on another PG, synthesis fails).
   *
   * @default - a new secret for the key, https://api.tosspayments.com, virtual accounts at bank 20 valid 72 hours
   */
  readonly toss?: TossSettings;

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
   * PG reconciler settings.
   *
   * @default - every minute, 120 s grace period, at most 200 attempts per run, 60 s timeout
   */
  readonly reconciler?: ReconcilerSettings;

  /**
   * Alarm thresholds.
   *
   * @default - relay IteratorAge 60 s, oldest pending event age 10 minutes, subscriber queue oldest message age 15 minutes,
   *   oldest open PG attempt age 10 minutes, 5 API 5xx responses in 5 minutes, 1 error and 1 throttle of a function in 5 minutes
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
   * Associate a regional WAF web ACL with the API stage, with a rate-based rule per client IP on the PG's deposit
   * callback path (see PaymentApiProps.pgWebAcl). `-c pgWebAcl=true`.
   *
   * @default false
   */
  readonly pgWebAcl?: boolean;

  /**
   * ARN of an existing standard SNS topic every alarm notifies (on ALARM and on OK), instead of the topic the stack
   * creates; its access policy must let `cloudwatch.amazonaws.com` publish (see {@link AlarmTopic}). Output `AlarmTopicArn`.
   *
   * @default - a new encrypted, TLS-only topic (`AlarmTopic`)
   */
  readonly alarmTopicArn?: string;

  /**
   * An email address subscribed to the alarm topic (AWS mails it a confirmation link first).
   *
   * @default - no subscription: subscribe someone to the AlarmTopicArn output
   */
  readonly alarmEmail?: string;

  /**
   * Further actions for every alarm (on ALARM and on OK), besides the alarm topic.
   *
   * @default - the alarm topic only
   */
  readonly alarmActions?: readonly IAlarmAction[];
}

/** Timeout of the example consumer (and the assumed one of every queue subscriber's consumer); the queue's visibility timeout is 6 times this. */
const CONSUMER_TIMEOUT = Duration.seconds(30);

/** The subscribers of a stack given none: the example consumer's queue. */
export const DEFAULT_SUBSCRIBERS: readonly unknown[] = [{ name: EXAMPLE_CONSUMER_SUBSCRIBER, delivery: { kind: 'queue' } }];

/** The subscriber the example consumer reads unless told otherwise. */
export const DEFAULT_EXAMPLE_CONSUMER_SUBSCRIBER = EXAMPLE_CONSUMER_SUBSCRIBER;

/**
 * The payment outbox: tables, the payment API, the Outbox stream relay and the scheduled outbox sweeper
 * publishing to the SNS FIFO topic `payment-events.fifo`, one FIFO queue and FIFO DLQ per subscriber
 * subscribed to it, a webhook dispatcher (with its signing secret) per webhook subscriber, the Deliveries
 * table and the delivery status route, the PG attempts table, the PG's own resources (the sandbox PG's ledger
 * and callback HMAC secret, or the Toss secret key), the scheduled PG reconciler, an example consumer, and
 * the alarms (each notifying the alarm topic on ALARM and on OK) and dashboard.
 * Composition only; the constructs own the resources.
 * Environment-agnostic: synthesizes without credentials.
 */
export class PaymentOutboxStack extends Stack {
  /** The tables. */
  public readonly tables: PaymentTables;
  /** The payment gateway the API functions call. */
  public readonly paymentGateway: PaymentGatewayKind;
  /** The sandbox PG's ledger, when the payment gateway is the sandbox. */
  public readonly sandboxPaymentGateway: SandboxPaymentGateway | undefined;
  /** Toss Payments' secret key and settings, when the payment gateway is Toss. */
  public readonly tossPaymentGateway: TossPaymentGateway | undefined;
  /** The subscribers, as parsed (defaults applied). */
  public readonly subscribers: readonly Subscriber[];
  /** The SNS FIFO topic payment-events.fifo. */
  public readonly paymentEventsTopic: PaymentEventTopic;
  /** Each subscriber's queue, DLQ and subscription, by subscriber name. */
  public readonly subscriberQueues: Readonly<Record<string, SubscriberQueue>>;
  /** Each webhook subscriber's dispatcher and signing secret, by subscriber name. */
  public readonly webhookDispatchers: Readonly<Record<string, WebhookDispatcher>>;
  /** The Outbox stream relay. */
  public readonly relay: OutboxRelay;
  /** The REST API. */
  public readonly api: PaymentApi;
  /** The scheduled outbox sweeper. */
  public readonly sweeper: OutboxSweeper;
  /** The scheduled PG reconciler. */
  public readonly reconciler: PgReconciler;
  /** The example consumer, when its subscriber exists. */
  public readonly exampleConsumer: ExampleConsumer | undefined;
  /** The SNS topic every alarm notifies (created, or the one of `alarmTopicArn`). */
  public readonly alarmTopic: AlarmTopic;
  /** Alarms and dashboard. */
  public readonly observability: OutboxObservability;
  /** The stage whose prefix the physical names carry (props.stage), if any. */
  public readonly stage: string | undefined;

  constructor(scope: Construct, id: string, props: PaymentOutboxStackProps = {}) {
    super(scope, id, props);
    if (props.stage !== undefined) {
      this.stage = validateStage(props.stage);
      // Before any child exists: each construct that names a resource reads it (lib/constructs/stage.ts).
      this.node.setContext(STAGE_CONTEXT_KEY, this.stage);
    }

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.subscribers = parseSubscribers(props.subscribers ?? DEFAULT_SUBSCRIBERS);
    const consumerSubscriber = exampleConsumerSubscriber(this.subscribers, props.exampleConsumerSubscriber);
    const ids = subscriberLogicalIds(this.subscribers);

    this.tables = new PaymentTables(this, 'Tables', { retentionDays: props.retentionDays, removalPolicy });

    const paymentGateway: unknown = props.paymentGateway ?? DEFAULT_PAYMENT_GATEWAY;
    if (!isPaymentGatewayKind(paymentGateway)) {
      throw new Error(`paymentGateway: ${String(paymentGateway)} is not a payment gateway of this stack (known: ${PAYMENT_GATEWAY_KINDS.join(', ')})`);
    }
    this.paymentGateway = paymentGateway;
    if (props.toss !== undefined && this.paymentGateway !== 'toss') {
      throw new Error(`toss: Toss Payments settings are given, but paymentGateway is ${this.paymentGateway}; set paymentGateway: 'toss' or drop them`);
    }
    this.sandboxPaymentGateway =
      this.paymentGateway === 'sandbox' ? new SandboxPaymentGateway(this, 'SandboxPaymentGateway', { removalPolicy }) : undefined;
    this.tossPaymentGateway =
      this.paymentGateway === 'toss' ? new TossPaymentGateway(this, 'TossPaymentGateway', { ...props.toss, removalPolicy }) : undefined;
    const gateway: IPaymentGateway = (this.sandboxPaymentGateway ?? this.tossPaymentGateway)!;

    this.paymentEventsTopic = new PaymentEventTopic(this, 'PaymentEventsTopic');

    const subscriberQueues: Record<string, SubscriberQueue> = {};
    for (const subscriber of this.subscribers) {
      subscriberQueues[subscriber.name] = new SubscriberQueue(this, `${subscriberIdPart(subscriber.name)}Subscriber`, {
        subscriber,
        topic: this.paymentEventsTopic.topic,
        ...(isWebhookSubscriber(subscriber)
          ? { consumerTimeout: webhookDispatcherTimeout(subscriber) }
          : { maxReceiveCount: props.maxReceiveCount, consumerTimeout: CONSUMER_TIMEOUT }),
      });
    }
    this.subscriberQueues = subscriberQueues;

    const webhookDispatchers: Record<string, WebhookDispatcher> = {};
    for (const subscriber of this.subscribers.filter(isWebhookSubscriber)) {
      webhookDispatchers[subscriber.name] = new WebhookDispatcher(this, `${subscriberIdPart(subscriber.name)}WebhookDispatcher`, {
        subscriber,
        subscriberQueue: subscriberQueues[subscriber.name]!,
        deliveriesTable: this.tables.deliveries,
        retentionDays: this.tables.retentionDays,
        secretRemovalPolicy: removalPolicy,
      });
    }
    this.webhookDispatchers = webhookDispatchers;

    this.relay = new OutboxRelay(this, 'Relay', {
      ...props.relay,
      outboxTable: this.tables.outbox,
      eventTopic: this.paymentEventsTopic.topic,
    });

    this.sweeper = new OutboxSweeper(this, 'Sweeper', {
      ...props.sweeper,
      outboxTable: this.tables.outbox,
      eventTopic: this.paymentEventsTopic.topic,
    });

    this.reconciler = new PgReconciler(this, 'Reconciler', {
      ...props.reconciler,
      paymentsTable: this.tables.payments,
      outboxTable: this.tables.outbox,
      idempotencyTable: this.tables.idempotency,
      pgAttemptsTable: this.tables.pgAttempts,
      paymentGateway: gateway,
      retentionDays: this.tables.retentionDays,
    });

    this.api = new PaymentApi(this, 'Api', {
      paymentsTable: this.tables.payments,
      outboxTable: this.tables.outbox,
      idempotencyTable: this.tables.idempotency,
      deliveriesTable: this.tables.deliveries,
      pgAttemptsTable: this.tables.pgAttempts,
      paymentGateway: gateway,
      subscribers: this.subscribers,
      retentionDays: this.tables.retentionDays,
      throttlingRateLimit: props.apiThrottling?.rateLimit,
      throttlingBurstLimit: props.apiThrottling?.burstLimit,
      cloudWatchRole: props.apiGatewayCloudWatchRole,
      pgWebAcl: props.pgWebAcl,
      secretRemovalPolicy: removalPolicy,
    });
    // A confirm or cancel may still be talking to the PG until its function times out; the reconciler
    // must not close its attempt as unseen before then (a late charge would then go unrecorded).
    if (this.reconciler.gracePeriod.toSeconds() <= this.api.functionTimeout.toSeconds()) {
      throw new Error(
        `${this.node.path}: reconciler.gracePeriod (${this.reconciler.gracePeriod.toHumanString()}) must be longer than the API functions' ` +
          `timeout (${this.api.functionTimeout.toHumanString()}), or the reconciler could close an attempt whose PG call is still in flight`,
      );
    }

    const consumerQueue = consumerSubscriber && subscriberQueues[consumerSubscriber.name];
    this.exampleConsumer =
      consumerQueue &&
      new ExampleConsumer(this, 'ExampleConsumer', {
        queue: consumerQueue.queue,
        inboxTable: this.tables.inbox,
        timeout: consumerQueue.consumerTimeout,
      });

    this.alarmTopic = new AlarmTopic(this, 'Alarms', { topicArn: props.alarmTopicArn, email: props.alarmEmail });

    this.observability = new OutboxObservability(this, 'Observability', {
      ...props.alarmThresholds,
      relayFunction: this.relay.relayFunction,
      relayFailureQueue: this.relay.failureQueue,
      sweeperFunction: this.sweeper.sweeperFunction,
      sweeperInterval: this.sweeper.interval,
      sweeperGracePeriod: this.sweeper.gracePeriod,
      reconcilerFunction: this.reconciler.reconcilerFunction,
      reconcilerInterval: this.reconciler.interval,
      reconcilerGracePeriod: this.reconciler.gracePeriod,
      pgFunctions: { ...this.api.pgFunctions, Reconciler: this.reconciler.reconcilerFunction },
      eventTopic: this.paymentEventsTopic.topic,
      subscriberQueues: this.subscribers.map((subscriber) => ({
        subscriber: subscriber.name,
        queue: subscriberQueues[subscriber.name]!.queue,
        deadLetterQueue: subscriberQueues[subscriber.name]!.deadLetterQueue,
        subscriptionDeadLetterQueue: subscriberQueues[subscriber.name]!.subscriptionDeadLetterQueue,
      })),
      consumerFunction: this.exampleConsumer?.consumerFunction,
      webhookDispatchers: Object.entries(webhookDispatchers).map(([subscriber, dispatcher]) => ({
        subscriber,
        dispatcherFunction: dispatcher.dispatcherFunction,
      })),
      apiFunctions: this.api.functions,
      apiStage: this.api.api.deploymentStage,
      alarmActions: [this.alarmTopic.action, ...(props.alarmActions ?? [])],
    });
    // Every function of the stack has its Errors and Throttles alarms: one added without them (here or later) fails synthesis.
    this.node.addValidation({
      validate: () => {
        const watched = new Set(Object.values(this.observability.functions).map((observed) => observed.function));
        const unwatched = this.node.findAll().filter((construct) => construct instanceof PaymentFunction && !watched.has(construct));
        return unwatched.length === 0
          ? []
          : [
              `functions without Errors and Throttles alarms: ${unwatched.map((construct) => construct.node.path).join(', ')}; ` +
                'give them to OutboxObservability',
            ];
      },
    });

    // Stateful resources keep short, fixed logical ids: readable in the template (the local runner names
    // its tables after them), and moving a construct in the tree can never replace a table or a queue.
    pinLogicalIds({
      PaymentsTable: this.tables.payments,
      OutboxTable: this.tables.outbox,
      IdempotencyTable: this.tables.idempotency,
      InboxTable: this.tables.inbox,
      DeliveriesTable: this.tables.deliveries,
      PgAttemptsTable: this.tables.pgAttempts,
      ...(this.sandboxPaymentGateway && { SandboxPgLedgerTable: this.sandboxPaymentGateway.ledger }),
      RelayFailuresQueue: this.relay.failureQueue,
      ...(this.api.pgCallbackSecret && { PgWebhookSecret: this.api.pgCallbackSecret }),
      ...(this.tossPaymentGateway?.createdSecretKey && { TossSecretKey: this.tossPaymentGateway.createdSecretKey }),
      PaymentEventsTopic: this.paymentEventsTopic.topic,
      // A replaced alarm topic would lose its confirmed email subscription.
      ...(this.alarmTopic.key && { AlarmTopic: this.alarmTopic.topic, AlarmTopicKey: this.alarmTopic.key }),
      ...(this.alarmTopic.emailSubscription && { AlarmEmailSubscription: this.alarmTopic.emailSubscription }),
      ...Object.fromEntries(
        this.subscribers.flatMap((subscriber) => {
          const queues = subscriberQueues[subscriber.name]!;
          const own = ids.get(subscriber.name)!;
          return [
            [own.queue, queues.queue],
            [own.dlq, queues.deadLetterQueue],
            [own.snsDlq, queues.subscriptionDeadLetterQueue],
            [own.subscription, queues.subscription],
            ...(webhookDispatchers[subscriber.name] ? [[own.webhookSecret, webhookDispatchers[subscriber.name]!.secret]] : []),
          ];
        }),
      ),
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the payment API (stage included)' });
    new CfnOutput(this, 'OutboxTableName', {
      value: this.tables.outbox.tableName,
      description: 'Outbox table (replay reads it; the sweeper republishes from its PendingEvents index)',
    });
    new CfnOutput(this, 'InboxTableName', { value: this.tables.inbox.tableName, description: "The example consumer's inbox table" });
    new CfnOutput(this, 'DeliveriesTableName', {
      value: this.tables.deliveries.tableName,
      description: 'Webhook delivery records (GET /payments/{paymentId}/deliveries reads them)',
    });
    // The rest of the store's tables, as `<logical id>Name`: `npm run outbox -- --stack NAME` finds them here.
    const storeTables: Record<string, ITable | undefined> = {
      PaymentsTable: this.tables.payments,
      IdempotencyTable: this.tables.idempotency,
      PgAttemptsTable: this.tables.pgAttempts,
      SandboxPgLedgerTable: this.sandboxPaymentGateway?.ledger,
    };
    for (const [logicalId, table] of Object.entries(storeTables)) {
      if (table) new CfnOutput(this, `${logicalId}Name`, { value: table.tableName, description: `The ${logicalId} table's name` });
    }
    new CfnOutput(this, 'OutboxRetentionDays', {
      value: String(this.tables.retentionDays),
      description: 'Days an Outbox item is kept (its expiresAt); events the outbox CLI commits get the same',
    });
    if (this.stage !== undefined) {
      new CfnOutput(this, 'Stage', { value: this.stage, description: 'The stage whose prefix this stack\'s physical names carry' });
    }
    new CfnOutput(this, 'PaymentEventsTopicArn', {
      value: this.paymentEventsTopic.topic.topicArn,
      description: 'SNS FIFO topic the relay and the sweeper publish every payment event to',
    });
    for (const subscriber of this.subscribers) {
      const queues = subscriberQueues[subscriber.name]!;
      const own = ids.get(subscriber.name)!;
      new CfnOutput(this, own.queueUrlOutput, {
        value: queues.queue.queueUrl,
        description: `FIFO queue of subscriber ${subscriber.name} (${subscriber.delivery.kind})`,
      });
      new CfnOutput(this, own.dlqUrlOutput, {
        value: queues.deadLetterQueue.queueUrl,
        description: `FIFO dead-letter queue of subscriber ${subscriber.name}`,
      });
      new CfnOutput(this, own.snsDlqUrlOutput, {
        value: queues.subscriptionDeadLetterQueue.queueUrl,
        description: `FIFO dead-letter queue of the SNS subscription of subscriber ${subscriber.name} (events SNS could not deliver to its queue)`,
      });
      const dispatcher = webhookDispatchers[subscriber.name];
      if (dispatcher) {
        new CfnOutput(this, own.webhookSecretOutput, {
          value: dispatcher.secret.secretArn,
          description: `Secret holding the HMAC key the ${subscriber.name} webhook requests are signed with; share its value with the receiver`,
        });
      }
    }
    new CfnOutput(this, 'RelayFailuresQueueUrl', {
      value: this.relay.failureQueue.queueUrl,
      description: 'Standard queue of the stream records the relay gave up on (their events are recovered by gap fill or the sweeper)',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarmTopic.topic.topicArn,
      description: 'SNS topic every alarm notifies (ALARM and OK): subscribe on-call to it (or deploy with -c alarmEmail=...)',
    });
    if (this.api.pgCallbackSecret) {
      new CfnOutput(this, 'PgCallbackSecretArn', {
        value: this.api.pgCallbackSecret.secretArn,
        description: 'Secret holding the PG callback HMAC key; share its value with the PG',
      });
    }
    if (this.tossPaymentGateway) {
      new CfnOutput(this, 'TossSecretKeyArn', {
        value: this.tossPaymentGateway.secretKey.secretArn,
        description:
          'Secret the payment functions read the Toss secret key from: aws secretsmanager put-secret-value --secret-id <this> ' +
          '--secret-string <test_sk_... or live_sk_...>',
      });
      new CfnOutput(this, 'TossApiBaseUrl', { value: this.tossPaymentGateway.apiBaseUrl, description: 'The Toss API the payment functions call' });
      new CfnOutput(this, 'TossDepositCallbackUrl', {
        value: this.api.api.urlForPath(TOSS_DEPOSIT_CALLBACK_PATH),
        description: "Register this as the webhook URL in Toss's developer center: Toss posts virtual account deposits to it",
      });
    }
    new CfnOutput(this, 'PaymentGateway', {
      value: this.paymentGateway,
      description: PAYMENT_GATEWAY_DESCRIPTIONS[this.paymentGateway],
    });
  }
}

/** The subscriber the example consumer reads, or undefined when it has none. */
function exampleConsumerSubscriber(subscribers: readonly Subscriber[], requested: string | undefined): Subscriber | undefined {
  const name = requested ?? DEFAULT_EXAMPLE_CONSUMER_SUBSCRIBER;
  const subscriber = subscribers.find((candidate) => candidate.name === name && candidate.delivery.kind === 'queue');
  if (requested !== undefined && subscriber === undefined) {
    throw new Error(`exampleConsumerSubscriber: ${requested} is not a queue subscriber (subscribers: ${subscribers.map((s) => s.name).join(', ')})`);
  }
  return subscriber;
}

/** The CloudFormation ids of one subscriber's resources and outputs. */
interface SubscriberIds {
  readonly queue: string;
  readonly dlq: string;
  /** The SNS subscription's dead-letter queue (`<name>-sns-dlq.fifo`). */
  readonly snsDlq: string;
  readonly subscription: string;
  readonly webhookSecret: string;
  readonly queueUrlOutput: string;
  readonly dlqUrlOutput: string;
  readonly snsDlqUrlOutput: string;
  readonly webhookSecretOutput: string;
}

/** Description of the `PaymentGateway` output, per payment gateway. */
const PAYMENT_GATEWAY_DESCRIPTIONS: Readonly<Record<PaymentGatewayKind, string>> = {
  sandbox: SANDBOX_PG_NOTICE,
  toss: TOSS_PG_NOTICE,
};

/** Logical ids and outputs of the stack that are not derived from a subscriber name. */
const FIXED_IDS = [
  'PaymentsTable',
  'OutboxTable',
  'IdempotencyTable',
  'InboxTable',
  'DeliveriesTable',
  'PgAttemptsTable',
  'SandboxPgLedgerTable',
  'RelayFailuresQueue',
  'PgWebhookSecret',
  'TossSecretKey',
  'PaymentEventsTopic',
  'ApiUrl',
  'OutboxTableName',
  'InboxTableName',
  'DeliveriesTableName',
  'PaymentsTableName',
  'IdempotencyTableName',
  'PgAttemptsTableName',
  'SandboxPgLedgerTableName',
  'Stage',
  'OutboxRetentionDays',
  'TossApiBaseUrl',
  'RelayFailuresQueueUrl',
  'PgCallbackSecretArn',
  'TossSecretKeyArn',
  'TossDepositCallbackUrl',
  'PaymentEventsTopicArn',
  'PaymentGateway',
  'AlarmTopic',
  'AlarmTopicKey',
  'AlarmEmailSubscription',
  'AlarmTopicArn',
];

/**
 * Each subscriber's ids (`<PascalName>Queue`, `<PascalName>Dlq`, `<PascalName>Subscription`,
 * `<PascalName>WebhookSecret`, outputs `<PascalName>QueueUrl`, `<PascalName>DlqUrl`, `<PascalName>WebhookSecretArn`;
 * the webhook ids are reserved for queue subscribers too, so turning one into a webhook cannot clash). Names that map to the same id (`ab-1` and `ab1`), or
 * to an id of the stack itself (`relay-failures`), fail synthesis here, naming both.
 */
function subscriberLogicalIds(subscribers: readonly Subscriber[]): Map<string, SubscriberIds> {
  const owners = new Map<string, string>(FIXED_IDS.map((id) => [id, 'the stack']));
  const result = new Map<string, SubscriberIds>();
  for (const { name } of subscribers) {
    const part = subscriberIdPart(name);
    const ids: SubscriberIds = {
      queue: `${part}Queue`,
      dlq: `${part}Dlq`,
      snsDlq: `${part}SnsDlq`,
      subscription: `${part}Subscription`,
      webhookSecret: `${part}WebhookSecret`,
      queueUrlOutput: `${part}QueueUrl`,
      dlqUrlOutput: `${part}DlqUrl`,
      snsDlqUrlOutput: `${part}SnsDlqUrl`,
      webhookSecretOutput: `${part}WebhookSecretArn`,
    };
    for (const id of Object.values(ids)) {
      const owner = owners.get(id);
      if (owner !== undefined) {
        throw new Error(
          `subscribers: ${name} would use the CloudFormation id ${id}, already used by ${owner === 'the stack' ? owner : `subscriber ${owner}`}; rename the subscriber`,
        );
      }
      owners.set(id, name);
    }
    result.set(name, ids);
  }
  return result;
}

function pinLogicalIds(resources: Record<string, IConstruct>): void {
  for (const [logicalId, construct] of Object.entries(resources)) {
    (construct.node.defaultChild as CfnResource).overrideLogicalId(logicalId);
  }
}
