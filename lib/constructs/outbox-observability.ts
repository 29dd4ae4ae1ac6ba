import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PG_MISCONFIGURED_LOG_FIELD } from '../../lambdas/platform/payment-gateways';
import { subscriberQueueName } from '../../lambdas/domain/subscribers';
import { METRIC_DIMENSIONS, OUTBOX_METRICS } from '../../lambdas/platform/metric-names';
import type { PaymentFunction } from './payment-function';
import { subscriberIdPart } from './subscriber-queue';
import { validateDurationInRange } from './validation';

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
   * The webhook dispatchers, for their delivered / retried / dead-lettered counts and delivery latency on the dashboard.
   *
   * @default - no webhook widgets
   */
  readonly webhookDispatchers?: readonly WebhookDispatcherMetricsSource[];

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
   * Actions (e.g. an SNS topic) of every alarm.
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

/**
 * Alarms and the dashboard of the outbox pipeline.
 *
 * Alarms: DLQ depth > 0, one per subscriber; the age of a subscriber queue's oldest message above its
 * threshold, one per subscriber (its consumer stopped or its webhook endpoint is down: the subscriber falls
 * behind, and events older than the queue's retention are dropped); SNS NumberOfNotificationsFailed > 0 on the
 * topic (SNS could not deliver to a subscriber queue: a deleted queue or a broken queue policy; those events
 * never reach that queue and are replayed from the Outbox table); relay IteratorAge above its threshold; a
 * record in relay-failures; OldestPendingAgeSeconds above its threshold for 3 sweeper intervals;
 * OldestOpenPgAttemptAgeSeconds (maximum over 5 minutes) above its threshold; PgMisconfigured, a log line
 * `{"pgMisconfigured": true}` of a function that calls the PG in 5 minutes (the PG refused our own secret key
 * or request: every payment fails until the configuration is fixed; on the sandbox only a code bug can do it).
 * OldestPendingEventTooOld and OldestOpenPgAttemptTooOld treat missing data as breaching: the sweeper and the
 * reconciler emit their metric on every run (0 when nothing is pending or open), so no data means the recovery
 * path itself is not running. All the others treat it as not breaching (SQS and SNS publish nothing for an idle
 * queue or topic, a metric filter nothing while no line matches).
 *
 * Dashboard: events published and publish failures, relay lag p50/p99, oldest pending age, sweeper
 * republishes and failures, gap-filled events, mark-published failures, oldest open PG attempt age,
 * reconciler reconciled and failures, DLQ and relay-failures depth,
 * subscriber queue oldest message age, SNS notifications failed, relay IteratorAge, consumer applied /
 * skipped / gaps, webhook deliveries per subscriber (delivered, retries, dead-lettered, latency p50/p99),
 * and the alarms' states.
 */
export class OutboxObservability extends Construct {
  /** Alarms, by subscriber name: the subscriber's DLQ holds a message. */
  public readonly deadLetterQueueAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
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
          `The ${subscriber} DLQ holds events its consumer or webhook dispatcher kept failing on: ` +
          'inspect and redrive them (npm run outbox -- dlq).',
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.deadLetterQueueAlarms = dlqAlarms;

    const backlogAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const { subscriber, metric } of backlogAges) {
      backlogAlarms[subscriber] = new cloudwatch.Alarm(this, `${subscriberIdPart(subscriber)}SubscriberBacklog`, {
        alarmDescription:
          `The oldest message in the ${subscriber} queue is older than ${backlogThreshold.toHumanString()}: the subscriber falls ` +
          'behind (its consumer stopped or fails on every event, or its webhook endpoint is down). Fix it; events the queue drops at its retention ' +
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
        'those events never reach it. Repair the queue or its subscription, then replay the window into that ' +
        "subscriber's queue from the Outbox table (npm run outbox -- replay --from <ISO> --to <ISO> --queue <name>.fifo).",
      metric: notificationsFailed,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'RelayIteratorAgeHigh', {
      alarmDescription: 'The relay lags behind the Outbox stream: events reach subscribers late.',
      metric: iteratorAge,
      threshold: iteratorAgeThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.relayFailureQueueAlarm = new cloudwatch.Alarm(this, 'RelayFailureQueueNotEmpty', {
      alarmDescription:
        'The relay gave up on Outbox stream records (their metadata is in relay-failures); the sweeper republishes the events from the Outbox table.',
      metric: relayFailuresDepth,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.oldestPendingAgeAlarm = new cloudwatch.Alarm(this, 'OldestPendingEventTooOld', {
      alarmDescription:
        `An outbox event committed more than ${oldestPendingThreshold.toHumanString()} ago is still not confirmed published, ` +
        'or the sweeper reported no age (it is not running): subscribers are missing events.',
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
        "Read the reconciler's logs (its PgReconcileFailures warnings say why an attempt stays open) and check the payment at the PG.",
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
        `a test key against live payments, a bad API base URL): payments that reach the PG fail. Find the ERROR lines with ${PG_MISCONFIGURED_LOG_FIELD}=true ` +
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

    this.alarms = [
      ...Object.values(dlqAlarms),
      ...Object.values(backlogAlarms),
      this.fanOutDeliveryFailureAlarm,
      this.iteratorAgeAlarm,
      this.relayFailureQueueAlarm,
      this.oldestPendingAgeAlarm,
      this.oldestOpenPgAttemptAgeAlarm,
      this.pgMisconfiguredAlarm,
    ];
    for (const alarm of this.alarms) alarm.addAlarmAction(...(props.alarmActions ?? []));

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
        title: 'Queue depth: subscriber DLQs / relay-failures',
        width,
        height,
        left: [
          ...dlqDepths.map(({ subscriber, metric }) => metric.with({ label: `${subscriber} DLQ messages` })),
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
