import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PG_MISCONFIGURED_LOG_FIELD } from '../../lambdas/platform/payment-gateways';
import { subscriberDlqName, subscriberQueueName } from '../../lambdas/domain/subscribers';
import { METRIC_DIMENSIONS, OUTBOX_METRICS } from '../../lambdas/platform/metric-names';
import type { PaymentFunction } from './payment-function';
import { subscriberIdPart, subscriptionDlqName } from './subscriber-queue';
import { validateDurationInRange, validateIntegerInRange } from './validation';

export { OUTBOX_METRICS };

/** Field of the JSON log line (level ERROR, value `true`) the handlers write when the PG refuses this service's own request. */
export { PG_MISCONFIGURED_LOG_FIELD };

/** The metric the PgMisconfigured metric filters count those lines into (value 1 per line), in the functions' metrics namespace, without dimensions. */
export const PG_MISCONFIGURED_METRIC = 'PgMisconfigured';

/** Period of the PgMisconfigured alarm (sum of matching log lines >= 1). */
export const PG_MISCONFIGURED_ALARM_PERIOD = Duration.minutes(5);

/** A webhook subscriber's dispatcher, for its delivery metrics on the dashboard. */
export interface WebhookDispatcherMetricsSource {
  /** The subscriber's name: the value of the `subscriber` dimension of the dispatcher's metrics. */
  readonly subscriber: string;
  /** The dispatcher function (its Powertools namespace and service name). */
  readonly dispatcherFunction: PaymentFunction;
}

/**
 * A subscriber's FIFO queues: the queue, watched by a backlog (oldest message age) alarm, and the
 * dead-letter queue, watched by a DLQ depth alarm.
 */
export interface ObservedSubscriberQueues {
  /** The subscriber's name (kebab case): names the alarms and the dashboard lines. */
  readonly subscriber: string;
  /** Its FIFO queue (`<name>.fifo`), the one subscribed to the topic. */
  readonly queue: IQueue;
  /** Its FIFO dead-letter queue (`<name>-dlq.fifo`). */
  readonly deadLetterQueue: IQueue;
  /**
   * The dead-letter queue of its SNS subscription (`<name>-sns-dlq.fifo`): events SNS could not deliver to
   * the queue. Watched by a depth alarm of its own when given.
   *
   * @default - no such alarm
   */
  readonly subscriptionDeadLetterQueue?: IQueue;
}

/** Props of {@link OutboxObservability}. */
export interface OutboxObservabilityProps {
  /** The relay function (Outbox stream -> FIFO queue): IteratorAge and its custom metrics. */
  readonly relayFunction: PaymentFunction;

  /** The relay's on-failure queue (`relay-failures`): alarm on its first message. */
  readonly relayFailureQueue: IQueue;

  /** The sweeper function: OldestPendingAgeSeconds and its custom metrics. */
  readonly sweeperFunction: PaymentFunction;

  /** How often the sweeper runs (it emits OldestPendingAgeSeconds once per run). */
  readonly sweeperInterval: Duration;

  /** The sweeper's grace period; the oldest pending age alarm threshold must be longer. */
  readonly sweeperGracePeriod: Duration;

  /** The PG reconciler function: OldestOpenPgAttemptAgeSeconds and its custom metrics. */
  readonly reconcilerFunction: PaymentFunction;

  /**
   * How often the reconciler runs (it emits OldestOpenPgAttemptAgeSeconds once per run): the oldest open
   * attempt alarm's period is the longer of 5 minutes and this, so every period holds at least one run.
   */
  readonly reconcilerInterval: Duration;

  /** The reconciler's grace period; the oldest open PG attempt age alarm threshold must be longer. */
  readonly reconcilerGracePeriod: Duration;

  /**
   * Every function that calls the PG (create, confirm, cancel, a PG callback that looks payments up, the
   * reconciler), by a stable PascalCase name (the route id, `Reconciler`): a metric filter `<name>PgMisconfigured`
   * on each one's log group counts its `pgMisconfigured` lines into {@link PG_MISCONFIGURED_METRIC}, watched by
   * the PgMisconfigured alarm. At least one; all in one metrics namespace.
   */
  readonly pgFunctions: Readonly<Record<string, PaymentFunction>>;

  /**
   * The SNS FIFO topic the relay and the sweeper publish to (`payment-events.fifo`): alarm when SNS fails to
   * deliver a notification to a subscriber queue.
   */
  readonly eventTopic: ITopic;

  /**
   * Every subscriber's FIFO queue and dead-letter queue: one alarm each on the age of the queue's oldest
   * message and one on the DLQ's first message. At least one, names unique.
   */
  readonly subscriberQueues: readonly ObservedSubscriberQueues[];

  /**
   * The subscriber's consumer function, for its applied / skipped / gap metrics on the dashboard.
   *
   * @default - no consumer widget
   */
  readonly consumerFunction?: PaymentFunction;

  /**
   * The webhook dispatchers, for their delivered / retried / dead-lettered counts and delivery latency on the
   * dashboard, and their Errors and Throttles alarms (`<PascalName>WebhookDispatcher`).
   *
   * @default - no webhook widgets
   */
  readonly webhookDispatchers?: readonly WebhookDispatcherMetricsSource[];

  /**
   * The API's route functions, by route id (PascalCase, e.g. `CreatePayment`): an Errors and a Throttles alarm each,
   * like every other function given here (relay, sweeper, reconciler, consumer, webhook dispatchers).
   *
   * @default - no API functions
   */
  readonly apiFunctions?: Readonly<Record<string, PaymentFunction>>;

  /**
   * The REST API's stage: alarm on its `5XXError` count (sum over 5 minutes) reaching `apiServerErrorAlarmThreshold`.
   *
   * @default - no API alarm
   */
  readonly apiStage?: apigateway.Stage;

  /**
   * Alarm when the API stage answers this many 5xx responses (500 our fault, 502/504 a function crashed or timed
   * out, 503 the PG is unavailable) in 5 minutes; an integer between 1 and 100000.
   *
   * @default 5
   */
  readonly apiServerErrorAlarmThreshold?: number;

  /**
   * Alarm when one function fails this many invocations (Lambda `Errors`: a thrown error, a timeout, a crash) in 5
   * minutes; an integer between 1 and 100000. Failures a function reports itself (partial batch responses, API
   * error responses) are not Lambda errors.
   *
   * @default 1
   */
  readonly functionErrorAlarmThreshold?: number;

  /**
   * Alarm when Lambda throttles this many invocations of one function (`Throttles`) in 5 minutes; an integer
   * between 1 and 100000.
   *
   * @default 1
   */
  readonly functionThrottleAlarmThreshold?: number;

  /**
   * Alarm when the relay's IteratorAge (maximum over one minute) exceeds this, between 1 second and 24 hours.
   *
   * @default Duration.seconds(60)
   */
  readonly iteratorAgeAlarmThreshold?: Duration;

  /**
   * Alarm when the oldest pending (committed, not confirmed published) event is older than this, as the
   * sweeper measures it, for 3 runs in a row; between 1 minute and 7 days, and longer than the sweeper's
   * grace period (younger events are still left to the relay).
   *
   * @default Duration.minutes(10)
   */
  readonly oldestPendingAgeAlarmThreshold?: Duration;

  /**
   * Alarm when a subscriber queue's oldest message (ApproximateAgeOfOldestMessage, maximum over 5 minutes)
   * is older than this, between 1 minute and 14 days: its consumer stopped, or its webhook endpoint is down.
   *
   * @default Duration.minutes(15)
   */
  readonly subscriberBacklogAgeAlarmThreshold?: Duration;

  /**
   * Alarm when the oldest open PG attempt, as the reconciler measures it (maximum over 5 minutes, or over the
   * reconciler's interval when longer), is older than this; between 1 minute and 7 days, and longer than the
   * reconciler's grace period (younger attempts may still be in flight). An attempt open that long is one the
   * reconciler cannot close: money may have moved at the PG without the payment knowing.
   *
   * @default Duration.minutes(10)
   */
  readonly oldestOpenPgAttemptAgeAlarmThreshold?: Duration;

  /**
   * Actions (e.g. an SNS topic) of every alarm, both when it goes into ALARM and when it returns to OK (so a
   * recovery is seen too).
   *
   * @default - alarms without actions
   */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];

  /**
   * Name of the dashboard.
   *
   * @default - a name generated by CloudFormation
   */
  readonly dashboardName?: string;
}

/** Sweeper runs in a row (or runs missing) before the oldest pending age alarm fires. */
export const OLDEST_PENDING_EVALUATION_PERIODS = 3;

/** Period of the subscriber backlog (maximum) and fan-out delivery failure (sum) alarms. */
export const FAN_OUT_ALARM_PERIOD = Duration.minutes(5);

/** Shortest period of the oldest open PG attempt alarm (maximum); the reconciler's interval when that is longer. */
export const OLDEST_OPEN_PG_ATTEMPT_ALARM_PERIOD = Duration.minutes(5);

/** Period of the API 5xx alarm and of every function's Errors and Throttles alarms (sums). */
export const ERROR_ALARM_PERIOD = Duration.minutes(5);

/** Words every alarm description uses to introduce the first thing to do (the runbook's second column). */
export const FIRST_STEP = 'First step:';

/** What a function does, for the wording of its Errors and Throttles alarms. */
export type ObservedFunctionRole = 'api' | 'relay' | 'sweeper' | 'reconciler' | 'consumer' | 'webhookDispatcher';

/** A function watched by an Errors and a Throttles alarm. */
export interface ObservedFunction {
  /** The function. */
  readonly function: PaymentFunction;
  /** What it does. */
  readonly role: ObservedFunctionRole;
  /** Who it is, in a description (`the CreatePayment API function`, `the relay`). */
  readonly title: string;
}

/**
 * Alarms and the dashboard of the outbox pipeline.
 *
 * Alarms: DLQ depth > 0, one per subscriber; the age of a subscriber queue's oldest message above its
 * threshold, one per subscriber (its consumer stopped or its webhook endpoint is down: the subscriber falls
 * behind, and events older than the queue's retention are dropped); SNS NumberOfNotificationsFailed > 0 on the
 * topic (SNS could not deliver to a subscriber queue: a deleted queue or a broken queue policy; those events
 * never reach that queue and are replayed from the Outbox table); relay IteratorAge above its threshold; a
 * record in relay-failures; OldestPendingAgeSeconds above its threshold for 3 sweeper intervals;
 * OldestOpenPgAttemptAgeSeconds (maximum over 5 minutes) above its threshold; the API stage's 5XXError count (sum over
 * 5 minutes) at its threshold; for every function (API routes, relay, sweeper, reconciler, consumer, webhook
 * dispatchers) its Lambda Errors and its Throttles (sums over 5 minutes) at their thresholds; PgMisconfigured, a log line
 * `{"pgMisconfigured": true}` of a function that calls the PG in 5 minutes (the PG refused our own secret key
 * or request: every payment fails until the configuration is fixed; on the sandbox only a code bug can do it).
 * OldestPendingEventTooOld and OldestOpenPgAttemptTooOld treat missing data as breaching: the sweeper and the
 * reconciler emit their metric on every run (0 when nothing is pending or open), so no data means the recovery
 * path itself is not running. All the others treat it as not breaching (SQS and SNS publish nothing for an idle
 * queue or topic, a metric filter nothing while no line matches, Lambda and API Gateway nothing while idle).
 * Every alarm's description says what it means and, after {@link FIRST_STEP}, what to do first; every alarm
 * carries `alarmActions` as its ALARM and its OK actions.
 *
 * Dashboard: events published and publish failures, relay lag p50/p99, oldest pending age, sweeper
 * republishes and failures, gap-filled events, mark-published failures, oldest open PG attempt age,
 * reconciler reconciled and failures, DLQ and relay-failures depth,
 * subscriber queue oldest message age, SNS notifications failed, relay IteratorAge, consumer applied /
 * skipped / gaps, the alarms' states, API 5xx and 4xx responses, each function's errors and throttles, webhook
 * deliveries per subscriber (delivered, retries, dead-lettered, latency p50/p99).
 */
export class OutboxObservability extends Construct {
  /** Alarms, by subscriber name: the subscriber's DLQ holds a message. */
  public readonly deadLetterQueueAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Alarms, by subscriber name: the subscriber's SNS subscription DLQ holds an event SNS could not deliver. */
  public readonly subscriptionDeadLetterQueueAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Alarms, by subscriber name: the subscriber queue's oldest message is older than the threshold. */
  public readonly subscriberBacklogAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Alarm: SNS failed to deliver a notification of the topic to a subscriber queue. */
  public readonly fanOutDeliveryFailureAlarm: cloudwatch.Alarm;
  /** Alarm: relay IteratorAge above the threshold. */
  public readonly iteratorAgeAlarm: cloudwatch.Alarm;
  /** Alarm: relay-failures holds a message. */
  public readonly relayFailureQueueAlarm: cloudwatch.Alarm;
  /** Alarm: the oldest pending event is older than the threshold (or the sweeper reports nothing). */
  public readonly oldestPendingAgeAlarm: cloudwatch.Alarm;
  /** Alarm: the oldest open PG attempt is older than the threshold (or the reconciler reports nothing). */
  public readonly oldestOpenPgAttemptAgeAlarm: cloudwatch.Alarm;
  /** Alarm: a function that calls the PG logged that the PG refused this service's own credentials or request. */
  public readonly pgMisconfiguredAlarm: cloudwatch.Alarm;
  /** Alarm: the API stage answered `apiServerErrorAlarmThreshold` 5xx responses in 5 minutes; undefined without `apiStage`. */
  public readonly apiServerErrorAlarm: cloudwatch.Alarm | undefined;
  /** Every function watched by an Errors and a Throttles alarm, by its PascalCase name (`CreatePayment`, `Relay`, ...). */
  public readonly functions: Readonly<Record<string, ObservedFunction>>;
  /** Alarms, by function name: the function failed invocations (Lambda Errors). */
  public readonly functionErrorAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Alarms, by function name: Lambda throttled invocations of the function. */
  public readonly functionThrottleAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The metric filters counting `pgMisconfigured` log lines, by the name given in `pgFunctions`. */
  public readonly pgMisconfiguredFilters: Readonly<Record<string, logs.MetricFilter>>;
  /** Every alarm above. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OutboxObservabilityProps) {
    super(scope, id);

    const iteratorAgeThreshold = props.iteratorAgeAlarmThreshold ?? Duration.seconds(60);
    validateDurationInRange(this, 'iteratorAgeAlarmThreshold', iteratorAgeThreshold, Duration.seconds(1), Duration.hours(24));
    const oldestPendingThreshold = props.oldestPendingAgeAlarmThreshold ?? Duration.minutes(10);
    validateDurationInRange(this, 'oldestPendingAgeAlarmThreshold', oldestPendingThreshold, Duration.minutes(1), Duration.days(7));
    if (oldestPendingThreshold.toSeconds() <= props.sweeperGracePeriod.toSeconds()) {
      throw new Error(
        `${this.node.path}: oldestPendingAgeAlarmThreshold must be longer than the sweeper's grace period ` +
          `(got ${oldestPendingThreshold.toHumanString()}, grace ${props.sweeperGracePeriod.toHumanString()})`,
      );
    }
    const oldestOpenAttemptThreshold = props.oldestOpenPgAttemptAgeAlarmThreshold ?? Duration.minutes(10);
    validateDurationInRange(this, 'oldestOpenPgAttemptAgeAlarmThreshold', oldestOpenAttemptThreshold, Duration.minutes(1), Duration.days(7));
    if (oldestOpenAttemptThreshold.toSeconds() <= props.reconcilerGracePeriod.toSeconds()) {
      throw new Error(
        `${this.node.path}: oldestOpenPgAttemptAgeAlarmThreshold must be longer than the reconciler's grace period ` +
          `(got ${oldestOpenAttemptThreshold.toHumanString()}, grace ${props.reconcilerGracePeriod.toHumanString()})`,
      );
    }
    const backlogThreshold = props.subscriberBacklogAgeAlarmThreshold ?? Duration.minutes(15);
    validateDurationInRange(this, 'subscriberBacklogAgeAlarmThreshold', backlogThreshold, Duration.minutes(1), Duration.days(14));
    if (props.subscriberQueues.length === 0) {
      throw new Error(`${this.node.path}: subscriberQueues must name at least one subscriber's queues`);
    }
    const duplicate = props.subscriberQueues.find(
      (queues, index) => props.subscriberQueues.findIndex((other) => other.subscriber === queues.subscriber) !== index,
    );
    if (duplicate) throw new Error(`${this.node.path}: subscriberQueues names subscriber ${duplicate.subscriber} twice`);
    const pgFunctions = Object.entries(props.pgFunctions);
    if (pgFunctions.length === 0) throw new Error(`${this.node.path}: pgFunctions must name at least one function that calls the PG`);
    for (const [name] of pgFunctions) {
      if (!/^[A-Z][A-Za-z0-9]{0,63}$/.test(name)) {
        throw new Error(`${this.node.path}: pgFunctions names must be PascalCase letters and digits, at most 64 (got ${name})`);
      }
    }
    const pgMetricsNamespace = pgFunctions[0]![1].metricsNamespace;
    const otherNamespace = pgFunctions.find(([, fn]) => fn.metricsNamespace !== pgMetricsNamespace);
    if (otherNamespace) {
      throw new Error(
        `${this.node.path}: pgFunctions must share one metrics namespace (${otherNamespace[0]} uses ${otherNamespace[1].metricsNamespace}, ` +
          `${pgFunctions[0]![0]} ${pgMetricsNamespace})`,
      );
    }
    const apiServerErrorThreshold = props.apiServerErrorAlarmThreshold ?? 5;
    validateIntegerInRange(this, 'apiServerErrorAlarmThreshold', apiServerErrorThreshold, 1, 100_000);
    const functionErrorThreshold = props.functionErrorAlarmThreshold ?? 1;
    validateIntegerInRange(this, 'functionErrorAlarmThreshold', functionErrorThreshold, 1, 100_000);
    const functionThrottleThreshold = props.functionThrottleAlarmThreshold ?? 1;
    validateIntegerInRange(this, 'functionThrottleAlarmThreshold', functionThrottleThreshold, 1, 100_000);
    for (const name of Object.keys(props.apiFunctions ?? {})) {
      if (!/^[A-Z][A-Za-z0-9]{0,63}$/.test(name)) {
        throw new Error(`${this.node.path}: apiFunctions names must be PascalCase letters and digits, at most 64 (got ${name})`);
      }
    }
    this.functions = observedFunctions(this, props);
    if (props.dashboardName !== undefined && !/^[A-Za-z0-9_-]{1,255}$/.test(props.dashboardName)) {
      throw new Error(`${this.node.path}: dashboardName must be 1-255 characters of [A-Za-z0-9_-] (got ${props.dashboardName})`);
    }

    const relay = props.relayFunction;
    const sweeper = props.sweeperFunction;
    const reconciler = props.reconcilerFunction;
    const minute = Duration.minutes(1);

    // --- metrics (unlabelled for the alarms, so each alarm names its metric directly) ----------
    const oldestPendingAge = customMetric(sweeper, OUTBOX_METRICS.sweeper.oldestPendingAgeSeconds, {
      statistic: cloudwatch.Stats.MAXIMUM,
      period: props.sweeperInterval,
    });
    const oldestOpenAttemptAge = customMetric(reconciler, OUTBOX_METRICS.reconciler.oldestOpenAttemptAgeSeconds, {
      statistic: cloudwatch.Stats.MAXIMUM,
      period:
        props.reconcilerInterval.toSeconds() > OLDEST_OPEN_PG_ATTEMPT_ALARM_PERIOD.toSeconds()
          ? props.reconcilerInterval
          : OLDEST_OPEN_PG_ATTEMPT_ALARM_PERIOD,
    });
    const iteratorAge = relay.function.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period: minute });
    const dlqDepths = props.subscriberQueues.map(({ subscriber, deadLetterQueue }) => ({
      subscriber,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: minute }),
    }));
    const snsDlqDepths = props.subscriberQueues.flatMap(({ subscriber, subscriptionDeadLetterQueue }) =>
      subscriptionDeadLetterQueue
        ? [{ subscriber, metric: subscriptionDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: minute }) }]
        : [],
    );
    const backlogAges = props.subscriberQueues.map(({ subscriber, queue }) => ({
      subscriber,
      metric: queue.metricApproximateAgeOfOldestMessage({ statistic: cloudwatch.Stats.MAXIMUM, period: FAN_OUT_ALARM_PERIOD }),
    }));
    const notificationsFailed = props.eventTopic.metricNumberOfNotificationsFailed({
      statistic: cloudwatch.Stats.SUM,
      period: FAN_OUT_ALARM_PERIOD,
    });
    const relayFailuresDepth = props.relayFailureQueue.metricApproximateNumberOfMessagesVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period: minute,
    });
    const sum = (fn: PaymentFunction, name: string, label: string, period: Duration = minute) =>
      customMetric(fn, name, { label, statistic: cloudwatch.Stats.SUM, period });

    // --- alarms ----------------------------------------------------------------------------------
    const dlqAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const { subscriber, metric } of dlqDepths) {
      dlqAlarms[subscriber] = new cloudwatch.Alarm(this, `${subscriberIdPart(subscriber)}DeadLetterQueueNotEmpty`, {
        alarmDescription:
          `The ${subscriber} DLQ holds events its consumer or webhook dispatcher kept failing on: the subscriber misses them until they are redriven. ` +
          `${FIRST_STEP} inspect them (npm run outbox -- dlq list --queue ${subscriberDlqName(subscriber)}, then dlq show), fix the cause, ` +
          'then redrive them (npm run outbox -- dlq redrive).',
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.deadLetterQueueAlarms = dlqAlarms;

    const snsDlqAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const { subscriber, metric } of snsDlqDepths) {
      snsDlqAlarms[subscriber] = new cloudwatch.Alarm(this, `${subscriberIdPart(subscriber)}SnsDeadLetterQueueNotEmpty`, {
        alarmDescription:
          `SNS could not deliver events of the payment events topic to the ${subscriber} queue (deleted, or its policy refuses SNS); ` +
          `they wait in ${subscriptionDlqName(subscriber)} and the subscriber misses them meanwhile. ` +
          `${FIRST_STEP} repair the queue or its policy (redeploy the stack), then move them to it ` +
          `(npm run outbox -- dlq redrive --queue ${subscriptionDlqName(subscriber)} --to ${subscriberQueueName(subscriber)}), ` +
          `or re-send the payments' events from the Outbox (npm run outbox -- replay --payment <id> --queue ${subscriberQueueName(subscriber)}).`,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.subscriptionDeadLetterQueueAlarms = snsDlqAlarms;

    const backlogAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const { subscriber, metric } of backlogAges) {
      backlogAlarms[subscriber] = new cloudwatch.Alarm(this, `${subscriberIdPart(subscriber)}SubscriberBacklog`, {
        alarmDescription:
          `The oldest message in the ${subscriber} queue is older than ${backlogThreshold.toHumanString()}: the subscriber falls ` +
          'behind (its consumer stopped or fails on every event, or its webhook endpoint is down). ' +
          `${FIRST_STEP} check its consumer's or dispatcher's Errors alarm and logs (or the webhook endpoint) and fix it; events the queue drops at its retention ` +
          `are replayed from the Outbox table (npm run outbox -- replay --queue ${subscriberQueueName(subscriber)}) before the outbox retention runs out.`,
        metric,
        threshold: backlogThreshold.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.subscriberBacklogAlarms = backlogAlarms;

    this.fanOutDeliveryFailureAlarm = new cloudwatch.Alarm(this, 'FanOutDeliveryFailures', {
      alarmDescription:
        'SNS could not deliver payment events from the topic to a subscriber queue (deleted queue, broken queue policy): ' +
        `those events never reach it. ${FIRST_STEP} repair the queue or its subscription, then replay the window into that ` +
        "subscriber's queue from the Outbox table (npm run outbox -- replay --from <ISO> --to <ISO> --queue <name>.fifo).",
      metric: notificationsFailed,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'RelayIteratorAgeHigh', {
      alarmDescription:
        `The relay lags more than ${iteratorAgeThreshold.toHumanString()} behind the Outbox stream: events reach subscribers late ` +
        '(stream records older than 24 hours are lost and left to the sweeper). ' +
        `${FIRST_STEP} check the relay's Errors and Throttles alarms and its PublishFailures metric on the dashboard; a failing or throttled relay is the usual cause.`,
      metric: iteratorAge,
      threshold: iteratorAgeThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.relayFailureQueueAlarm = new cloudwatch.Alarm(this, 'RelayFailureQueueNotEmpty', {
      alarmDescription:
        'The relay gave up on Outbox stream records (their metadata is in relay-failures); the sweeper republishes the events from the Outbox table. ' +
        `${FIRST_STEP} check that OldestPendingEventTooOld stays OK (the sweeper caught up), then read the relay's ERROR lines for why it gave up ` +
        'and delete the relay-failures messages once understood (they hold only stream metadata).',
      metric: relayFailuresDepth,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.oldestPendingAgeAlarm = new cloudwatch.Alarm(this, 'OldestPendingEventTooOld', {
      alarmDescription:
        `An outbox event committed more than ${oldestPendingThreshold.toHumanString()} ago is still not confirmed published, ` +
        'or the sweeper reported no age (it is not running): subscribers are missing events. ' +
        `${FIRST_STEP} check the sweeper's Errors alarm, its schedule (enabled?) and its SweeperFailures metric, then the relay's PublishFailures.`,
      metric: oldestPendingAge,
      threshold: oldestPendingThreshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: OLDEST_PENDING_EVALUATION_PERIODS,
      datapointsToAlarm: OLDEST_PENDING_EVALUATION_PERIODS,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    this.oldestOpenPgAttemptAgeAlarm = new cloudwatch.Alarm(this, 'OldestOpenPgAttemptTooOld', {
      alarmDescription:
        `A PG attempt started more than ${oldestOpenAttemptThreshold.toHumanString()} ago is still open, or the reconciler ` +
        'reported no age (it is not running): money may have moved at the PG without the payment or its event. ' +
        `${FIRST_STEP} read the reconciler's logs (its PgReconcileFailures warnings say why an attempt stays open), list the open attempts ` +
        '(npm run outbox -- attempts list) and check each payment at the PG.',
      metric: oldestOpenAttemptAge,
      threshold: oldestOpenAttemptThreshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    // One metric for every PG-calling function: which one refused is in its logs, the alarm only has to wake someone.
    const pgMisconfiguredFilters: Record<string, logs.MetricFilter> = {};
    for (const [name, fn] of pgFunctions) {
      pgMisconfiguredFilters[name] = new logs.MetricFilter(this, `${name}PgMisconfigured`, {
        logGroup: fn.logGroup,
        filterPattern: logs.FilterPattern.booleanValue(`$.${PG_MISCONFIGURED_LOG_FIELD}`, true),
        metricNamespace: pgMetricsNamespace,
        metricName: PG_MISCONFIGURED_METRIC,
        metricValue: '1',
      });
    }
    this.pgMisconfiguredFilters = pgMisconfiguredFilters;
    this.pgMisconfiguredAlarm = new cloudwatch.Alarm(this, 'PgMisconfigured', {
      alarmDescription:
        "The payment gateway refused this service's own credentials or request (a wrong, revoked or placeholder secret key, " +
        `a test key against live payments, a bad API base URL): payments that reach the PG fail. ${FIRST_STEP} find the ERROR lines with ${PG_MISCONFIGURED_LOG_FIELD}=true ` +
        'in the logs of the functions that call the PG, fix the key (put-secret-value on the PG secret) or the configuration; on the sandbox PG this is a bug.',
      metric: new cloudwatch.Metric({
        namespace: pgMetricsNamespace,
        metricName: PG_MISCONFIGURED_METRIC,
        statistic: cloudwatch.Stats.SUM,
        period: PG_MISCONFIGURED_ALARM_PERIOD,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.apiServerErrorAlarm =
      props.apiStage &&
      new cloudwatch.Alarm(this, 'ApiServerErrors', {
        alarmDescription:
          `The payment API answered ${apiServerErrorThreshold} or more 5xx responses in 5 minutes: 500 INTERNAL_ERROR (our fault), ` +
          '503 PG_UNAVAILABLE (the PG is down or slow), 502/504 (a route function crashed or timed out); callers may retry with the same ' +
          `Idempotency-Key. ${FIRST_STEP} query the stage's access log group for status >= 500 to find the route and the code, then read ` +
          "that route function's ERROR lines (a 503 burst: check the PG's status; a 502/504: that function's Errors alarm says which).",
        metric: props.apiStage.metricServerError({ statistic: cloudwatch.Stats.SUM, period: ERROR_ALARM_PERIOD }),
        threshold: apiServerErrorThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    const functionErrorAlarms: Record<string, cloudwatch.Alarm> = {};
    const functionThrottleAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const [name, observed] of Object.entries(this.functions)) {
      functionErrorAlarms[name] = new cloudwatch.Alarm(this, `${name}FunctionErrors`, {
        alarmDescription: functionErrorsDescription(observed, functionErrorThreshold),
        metric: observed.function.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: ERROR_ALARM_PERIOD }),
        threshold: functionErrorThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      functionThrottleAlarms[name] = new cloudwatch.Alarm(this, `${name}FunctionThrottles`, {
        alarmDescription: functionThrottlesDescription(observed, functionThrottleThreshold),
        metric: observed.function.function.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: ERROR_ALARM_PERIOD }),
        threshold: functionThrottleThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.functionErrorAlarms = functionErrorAlarms;
    this.functionThrottleAlarms = functionThrottleAlarms;

    this.alarms = [
      ...Object.values(dlqAlarms),
      ...Object.values(snsDlqAlarms),
      ...Object.values(backlogAlarms),
      this.fanOutDeliveryFailureAlarm,
      this.iteratorAgeAlarm,
      this.relayFailureQueueAlarm,
      this.oldestPendingAgeAlarm,
      this.oldestOpenPgAttemptAgeAlarm,
      this.pgMisconfiguredAlarm,
      ...(this.apiServerErrorAlarm ? [this.apiServerErrorAlarm] : []),
      ...Object.values(functionErrorAlarms),
      ...Object.values(functionThrottleAlarms),
    ];
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(...(props.alarmActions ?? []));
      alarm.addOkAction(...(props.alarmActions ?? []));
    }

    // --- dashboard -------------------------------------------------------------------------------
    const width = 8;
    const height = 6;
    const markFailures = sameMetricSource(relay, sweeper)
      ? [sum(relay, OUTBOX_METRICS.relay.markPublishedFailures, 'Mark-published failures (relay + sweeper)')]
      : [
          sum(relay, OUTBOX_METRICS.relay.markPublishedFailures, 'Mark-published failures (relay)'),
          sum(sweeper, OUTBOX_METRICS.sweeper.markPublishedFailures, 'Mark-published failures (sweeper)'),
        ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Relay: events published / publish failures',
        width,
        height,
        left: [
          sum(relay, OUTBOX_METRICS.relay.eventsPublished, 'Events published'),
          sum(relay, OUTBOX_METRICS.relay.publishFailures, 'Publish failures'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Relay lag: publish time - occurredAt (ms)',
        width,
        height,
        left: [
          customMetric(relay, OUTBOX_METRICS.relay.relayLagMs, { label: 'p50', statistic: cloudwatch.Stats.p(50), period: minute }),
          customMetric(relay, OUTBOX_METRICS.relay.relayLagMs, { label: 'p99', statistic: cloudwatch.Stats.p(99), period: minute }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Relay IteratorAge (ms)',
        width,
        height,
        left: [iteratorAge.with({ label: 'Relay IteratorAge (ms)' })],
        leftAnnotations: [{ value: iteratorAgeThreshold.toMilliseconds(), label: 'alarm' }],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Oldest pending event age (s)',
        width,
        height,
        left: [oldestPendingAge.with({ label: 'Oldest pending event age (s)' })],
        leftAnnotations: [{ value: oldestPendingThreshold.toSeconds(), label: 'alarm' }],
      }),
      new cloudwatch.GraphWidget({
        title: 'Sweeper: republished / failures',
        width,
        height,
        left: [
          sum(sweeper, OUTBOX_METRICS.sweeper.republished, 'Republished by the sweeper'),
          sum(sweeper, OUTBOX_METRICS.sweeper.failures, 'Not republished (retried next run)'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Gap-filled events / mark-published failures',
        width,
        height,
        left: [sum(relay, OUTBOX_METRICS.relay.gapFilledEvents, 'Gap-filled by the relay'), ...markFailures],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Oldest open PG attempt age (s)',
        width,
        height,
        left: [oldestOpenAttemptAge.with({ label: 'Oldest open PG attempt age (s)' })],
        leftAnnotations: [{ value: oldestOpenAttemptThreshold.toSeconds(), label: 'alarm' }],
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciler: PG attempts reconciled / failures',
        width,
        height,
        left: [
          sum(reconciler, OUTBOX_METRICS.reconciler.reconciled, 'PG attempts reconciled'),
          sum(reconciler, OUTBOX_METRICS.reconciler.failures, 'Not reconciled (retried next run)'),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth: subscriber DLQs / SNS DLQs / relay-failures',
        width,
        height,
        left: [
          ...dlqDepths.map(({ subscriber, metric }) => metric.with({ label: `${subscriber} DLQ messages` })),
          ...snsDlqDepths.map(({ subscriber, metric }) => metric.with({ label: `${subscriber} SNS DLQ messages` })),
          relayFailuresDepth.with({ label: 'relay-failures messages' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Subscriber queues: oldest message age (s)',
        width,
        height,
        left: backlogAges.map(({ subscriber, metric }) => metric.with({ label: `${subscriber} oldest message age (s)` })),
        leftAnnotations: [{ value: backlogThreshold.toSeconds(), label: 'alarm' }],
      }),
      new cloudwatch.GraphWidget({
        title: 'Fan-out: SNS notifications failed',
        width,
        height,
        left: [notificationsFailed.with({ label: 'Notifications SNS failed to deliver to a subscriber queue' })],
      }),
    );
    this.dashboard.addWidgets(
      ...(props.consumerFunction
        ? [
            new cloudwatch.GraphWidget({
              title: 'Consumer: applied / skipped / gaps / failures',
              width,
              height,
              left: [
                sum(props.consumerFunction, OUTBOX_METRICS.consumer.applied, 'Applied'),
                sum(props.consumerFunction, OUTBOX_METRICS.consumer.skipped, 'Skipped (already applied)'),
                sum(props.consumerFunction, OUTBOX_METRICS.consumer.sequenceGaps, 'Sequence gaps (retried)'),
                sum(props.consumerFunction, OUTBOX_METRICS.consumer.applyFailures, 'Apply failures'),
                sum(props.consumerFunction, OUTBOX_METRICS.consumer.invalidMessages, 'Invalid messages'),
              ],
            }),
          ]
        : []),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width, height, alarms: [...this.alarms] }),
    );
    const watchedFunctions = Object.entries(this.functions);
    this.dashboard.addWidgets(
      ...(props.apiStage
        ? [
            new cloudwatch.GraphWidget({
              title: 'API: 5xx / 4xx responses',
              width,
              height,
              left: [
                props.apiStage.metricServerError({ label: '5xx responses', statistic: cloudwatch.Stats.SUM, period: ERROR_ALARM_PERIOD }),
                props.apiStage.metricClientError({ label: '4xx responses', statistic: cloudwatch.Stats.SUM, period: ERROR_ALARM_PERIOD }),
              ],
              leftAnnotations: [{ value: apiServerErrorThreshold, label: '5xx alarm' }],
            }),
          ]
        : []),
      new cloudwatch.GraphWidget({
        title: 'Functions: errors',
        width,
        height,
        left: watchedFunctions.map(([name, observed]) =>
          observed.function.function.metricErrors({ label: name, statistic: cloudwatch.Stats.SUM, period: ERROR_ALARM_PERIOD }),
        ),
        leftAnnotations: [{ value: functionErrorThreshold, label: 'alarm' }],
      }),
      new cloudwatch.GraphWidget({
        title: 'Functions: throttles',
        width,
        height,
        left: watchedFunctions.map(([name, observed]) =>
          observed.function.function.metricThrottles({ label: name, statistic: cloudwatch.Stats.SUM, period: ERROR_ALARM_PERIOD }),
        ),
        leftAnnotations: [{ value: functionThrottleThreshold, label: 'alarm' }],
      }),
    );
    const webhooks = props.webhookDispatchers ?? [];
    if (webhooks.length > 0) {
      const webhookMetric = (source: WebhookDispatcherMetricsSource, name: string, options: cloudwatch.MetricOptions) =>
        new cloudwatch.Metric({
          ...options,
          namespace: source.dispatcherFunction.metricsNamespace,
          metricName: name,
          dimensionsMap: { [METRIC_DIMENSIONS.service]: source.dispatcherFunction.serviceName, [METRIC_DIMENSIONS.subscriber]: source.subscriber },
        });
      const count = (source: WebhookDispatcherMetricsSource, name: string, what: string) =>
        webhookMetric(source, name, { label: `${source.subscriber}: ${what}`, statistic: cloudwatch.Stats.SUM, period: minute });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Webhooks: delivered / retries / dead-lettered',
          width,
          height,
          left: webhooks.flatMap((source) => [
            count(source, OUTBOX_METRICS.webhook.delivered, 'delivered'),
            count(source, OUTBOX_METRICS.webhook.retries, 'retries scheduled'),
            count(source, OUTBOX_METRICS.webhook.deadLettered, 'dead-lettered'),
          ]),
        }),
        new cloudwatch.GraphWidget({
          title: 'Webhook delivery latency: occurredAt to 2xx (ms)',
          width,
          height,
          left: webhooks.flatMap((source) =>
            [50, 99].map((p) =>
              webhookMetric(source, OUTBOX_METRICS.webhook.deliveryLatencyMs, {
                label: `${source.subscriber} p${p}`,
                statistic: cloudwatch.Stats.p(p),
                period: minute,
              }),
            ),
          ),
        }),
      );
    }
  }
}

/** A custom metric of `fn`, with the namespace and `service` dimension Powertools Metrics gives it. */
function customMetric(fn: PaymentFunction, metricName: string, options: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    ...options,
    namespace: fn.metricsNamespace,
    metricName,
    dimensionsMap: { [METRIC_DIMENSIONS.service]: fn.serviceName },
  });
}

function sameMetricSource(a: PaymentFunction, b: PaymentFunction): boolean {
  return a.metricsNamespace === b.metricsNamespace && a.serviceName === b.serviceName;
}

/**
 * Every function of `props` by its alarm name: the API's route functions (by route id), `Relay`, `Sweeper`,
 * `Reconciler`, `ExampleConsumer` (the consumer, when given) and `<PascalName>WebhookDispatcher` per webhook
 * subscriber. A function given twice is watched once (under its first name); two functions under one name fail.
 */
function observedFunctions(scope: Construct, props: OutboxObservabilityProps): Record<string, ObservedFunction> {
  const candidates: [string, ObservedFunction][] = [
    ...Object.entries(props.apiFunctions ?? {}).map(
      ([name, fn]): [string, ObservedFunction] => [name, { function: fn, role: 'api', title: `the ${name} API function` }],
    ),
    ['Relay', { function: props.relayFunction, role: 'relay', title: 'the relay' }],
    ['Sweeper', { function: props.sweeperFunction, role: 'sweeper', title: 'the outbox sweeper' }],
    ['Reconciler', { function: props.reconcilerFunction, role: 'reconciler', title: 'the PG reconciler' }],
    ...(props.consumerFunction
      ? [['ExampleConsumer', { function: props.consumerFunction, role: 'consumer', title: 'the example consumer' }] as [string, ObservedFunction]]
      : []),
    ...(props.webhookDispatchers ?? []).map(({ subscriber, dispatcherFunction }): [string, ObservedFunction] => [
      `${subscriberIdPart(subscriber)}WebhookDispatcher`,
      { function: dispatcherFunction, role: 'webhookDispatcher', title: `the ${subscriber} webhook dispatcher` },
    ]),
  ];
  const result: Record<string, ObservedFunction> = {};
  const seen = new Set<PaymentFunction>();
  for (const [name, observed] of candidates) {
    if (seen.has(observed.function)) continue;
    if (result[name]) throw new Error(`${scope.node.path}: two functions would share the alarm name ${name}FunctionErrors; rename one`);
    seen.add(observed.function);
    result[name] = observed;
  }
  return result;
}

/** What a failed invocation of a function in `role` does, and what to read first. */
const ERROR_CONSEQUENCES: Readonly<Record<ObservedFunctionRole, { readonly means: string; readonly first: string }>> = {
  api: {
    means:
      'API Gateway answered 502 (or 504 on a timeout) for those requests, and the caller does not know whether the change was committed; ' +
      'a retry with the same Idempotency-Key is safe',
    first: "read the function's ERROR and \"Task timed out\" lines in its log group (the function is the alarm's FunctionName dimension)",
  },
  relay: {
    means:
      'the Outbox stream batch is retried (bisected) and events reach subscribers late; records that exhaust the retries go to relay-failures ' +
      'and are left to the sweeper',
    first: "read the relay's ERROR lines (a publish the topic policy or KMS denies, a malformed outbox item, a timeout) and check RelayIteratorAgeHigh",
  },
  sweeper: {
    means: 'events the relay missed are not republished until a run succeeds (OldestPendingEventTooOld follows)',
    first:
      "read the sweeper's ERROR and \"Task timed out\" lines; a timeout means more pending events than a run can take (lower maxEventsPerRun or raise its timeout)",
  },
  reconciler: {
    means: 'PG attempts left open (money may have moved at the PG) stay unreconciled until a run succeeds (OldestOpenPgAttemptTooOld follows)',
    first: "read the reconciler's ERROR lines (the PG unreachable, a refused key: see PgMisconfigured); npm run outbox -- attempts list shows the open attempts",
  },
  consumer: {
    means: 'its whole batch of the payment-events queue comes back after the visibility timeout and, after maxReceiveCount receives, moves to the DLQ',
    first: "read the consumer's ERROR lines and fix the cause before redriving anything (npm run outbox -- dlq list)",
  },
  webhookDispatcher: {
    means:
      "its batch comes back after the visibility timeout and, past the queue's redrive limit, moves to the DLQ without a dead-letter reason " +
      '(failed POSTs are not errors: the dispatcher retries those itself)',
    first: "read the dispatcher's ERROR and \"Task timed out\" lines (the Deliveries table, the signing secret, a receiver slower than the timeout)",
  },
};

/** What a throttled invocation of a function in `role` delays. */
const THROTTLE_CONSEQUENCES: Readonly<Record<ObservedFunctionRole, string>> = {
  api: 'those requests failed with a 5xx',
  relay: 'the Outbox stream batch waits and is retried: events reach subscribers late',
  sweeper: 'scheduled sweeps are delayed: missed events wait longer',
  reconciler: 'scheduled reconciliations are delayed: open PG attempts wait longer',
  consumer: 'its queue is read more slowly: the subscriber falls behind',
  webhookDispatcher: 'its queue is read more slowly: webhook deliveries fall behind',
};

function functionErrorsDescription(observed: ObservedFunction, threshold: number): string {
  const { means, first } = ERROR_CONSEQUENCES[observed.role];
  return `${capitalize(observed.title)} failed ${threshold} or more invocations in 5 minutes (a thrown error, a timeout, a crash): ${means}. ${FIRST_STEP} ${first}.`;
}

function functionThrottlesDescription(observed: ObservedFunction, threshold: number): string {
  return (
    `Lambda throttled ${threshold} or more invocations of ${observed.title} in 5 minutes: the account's concurrency in this region is used up ` +
    `(new accounts have 10): ${THROTTLE_CONSEQUENCES[observed.role]}. ${FIRST_STEP} compare the account's Lambda ConcurrentExecutions with its ` +
    "quota (Service Quotas, Lambda concurrent executions), find the function using it, and ask for a higher quota if the load is real."
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
