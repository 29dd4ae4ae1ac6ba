import * as fs from 'node:fs';
import * as path from 'node:path';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Duration } from 'aws-cdk-lib';
import type { CfnAlarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import {
  OUTBOX_METRICS,
  OutboxObservability,
  type OutboxObservabilityProps,
  PG_MISCONFIGURED_LOG_FIELD,
  PG_MISCONFIGURED_METRIC,
} from '../../lib/constructs/outbox-observability';
import { RELAY_ENTRY } from '../../lib/constructs/outbox-relay';
import { SWEEPER_ENTRY } from '../../lib/constructs/outbox-sweeper';
import { PaymentFunction } from '../../lib/constructs/payment-function';
import { PG_RECONCILER_ENTRY } from '../../lib/constructs/pg-reconciler';
import { EXAMPLE_CONSUMER_ENTRY } from '../../lib/constructs/example-consumer';
import { REPO_ROOT } from '../../lib/repo-root';
import { appSubscribers } from '../../bin/app-subscribers';
import { PAYMENT_EVENTS_TOPIC_NAME } from '../../lib/constructs/payment-event-topic';
import { PaymentOutboxStack } from '../../lib/payment-outbox-stack';
import { type CfnResourceJson, functionIdByEntry, newTestApp, newTestStack, resourcesOfType, synthAppStack, synthStack } from '../support/cdk-stack';

/** A dashboard metric line: [namespace, metricName, dimName, dimValue, ..., { stat, label, period }]. */
type MetricLine = [...string[], { stat?: string; label?: string; period?: number }];
interface Widget {
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly properties: {
    title?: string;
    metrics?: MetricLine[];
    alarms?: string[];
    annotations?: { horizontal?: { value: number; label?: string; yAxis?: string }[] };
  };
}

/**
 * The dashboard body as JSON: the template holds it as an Fn::Join of string fragments and
 * tokens; tokens become `<Ref Id>` / `<GetAtt Id.Attr>` placeholders inside the JSON strings.
 */
function dashboardBody(template: Template): { widgets: Widget[] } {
  const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const parts = dashboards[0]?.Properties?.DashboardBody['Fn::Join'][1] as unknown[];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref !== undefined) return `<Ref ${ref}>`;
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt !== undefined) return `<GetAtt ${getAtt[0]}.${getAtt[1]}>`;
      throw new Error(`unexpected token in the dashboard body: ${JSON.stringify(part)}`);
    })
    .join('');
  return JSON.parse(text) as { widgets: Widget[] };
}

/** Every metric line of the dashboard, as `namespace/metric/dims... stat`. */
function metricLines(body: { widgets: Widget[] }): string[] {
  return body.widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).map((line) => {
      const options = line[line.length - 1] as { stat?: string };
      return `${(line.slice(0, -1) as string[]).join('/')} ${options.stat}`;
    }),
  );
}

describe('observability: alarms', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();
  const relayId = functionIdByEntry(template, RELAY_ENTRY);
  const sweeperId = functionIdByEntry(template, SWEEPER_ENTRY);
  const reconcilerId = functionIdByEntry(template, PG_RECONCILER_ENTRY);

  it('alarms as soon as the payment-events DLQ holds one visible message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['PaymentEventsDlq', 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when the relay IteratorAge exceeds 60 s', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: relayId } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 60_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms when a record reaches relay-failures', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['RelayFailuresQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms when the oldest pending event is older than 600 s for 3 sweeps, or the sweeper reports nothing', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'PaymentOutbox',
      MetricName: 'OldestPendingAgeSeconds',
      Dimensions: [{ Name: 'service', Value: 'payment-outbox' }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 600,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
    });
  });

  it('alarms when the oldest open PG attempt is older than 600 s (maximum over 5 minutes), or the reconciler reports nothing', () => {
    const alarms = alarmsOn(template, 'OldestOpenPgAttemptAgeSeconds');
    expect(alarms).toHaveLength(1);
    const [id, alarm] = alarms[0]!;
    expect(id).toMatch(/^ObservabilityOldestOpenPgAttemptTooOld[0-9A-F]{8}$/);
    expect(alarm.Properties).toMatchObject({
      Namespace: 'PaymentOutbox',
      MetricName: 'OldestOpenPgAttemptAgeSeconds',
      Dimensions: [{ Name: 'service', Value: 'payment-outbox' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 600,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'breaching',
    });
    expect(alarm.Properties?.AlarmDescription).toContain('PG attempt started more than 10 minutes ago is still open');
  });

  it.each([
    ['the PG reconciler', PG_RECONCILER_ENTRY, OUTBOX_METRICS.reconciler.oldestOpenAttemptAgeSeconds],
  ])('reads the oldest-age metric of %s with exactly the namespace and dimensions Powertools emits it with', (_who, entry, metricName) => {
    // GIVEN the function's Powertools settings as deployed
    const variables = resourcesOfType(template, 'AWS::Lambda::Function')[functionIdByEntry(template, entry)]?.Properties?.Environment
      .Variables as Record<string, string>;
    const metrics = new Metrics({ serviceName: variables.POWERTOOLS_SERVICE_NAME, namespace: variables.POWERTOOLS_METRICS_NAMESPACE });
    // WHEN the metric is serialized as Powertools writes it (EMF)
    metrics.addMetric(metricName, MetricUnit.Seconds, 42);
    const emf = metrics.serializeMetrics() as unknown as {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      [key: string]: unknown;
    };
    // THEN the alarm reads that exact metric: namespace, name, and every dimension with its value
    const directive = emf._aws.CloudWatchMetrics[0];
    const emitted = {
      Namespace: directive?.Namespace,
      MetricName: directive?.Metrics[0]?.Name,
      Dimensions: (directive?.Dimensions[0] ?? []).map((name) => ({ Name: name, Value: emf[name] })),
    };
    const alarm = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).find(
      (candidate) => candidate.Properties?.MetricName === metricName,
    );
    expect({
      Namespace: alarm?.Properties?.Namespace,
      MetricName: alarm?.Properties?.MetricName,
      Dimensions: alarm?.Properties?.Dimensions,
    }).toEqual(emitted);
  });

  it('reads the reconciler metrics from the reconciler function (its Powertools settings are the stack defaults)', () => {
    const variables = resourcesOfType(template, 'AWS::Lambda::Function')[reconcilerId]?.Properties?.Environment.Variables;
    expect(variables).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'payment-outbox', POWERTOOLS_METRICS_NAMESPACE: 'PaymentOutbox' });
  });

  it('reads OldestPendingAgeSeconds with exactly the namespace and dimensions Powertools emits it with from the sweeper', () => {
    // GIVEN the sweeper's Powertools settings as deployed
    const variables = resourcesOfType(template, 'AWS::Lambda::Function')[sweeperId]?.Properties?.Environment.Variables as Record<
      string,
      string
    >;
    const metrics = new Metrics({ serviceName: variables.POWERTOOLS_SERVICE_NAME, namespace: variables.POWERTOOLS_METRICS_NAMESPACE });
    // WHEN the sweeper's metric is serialized as Powertools writes it (EMF)
    metrics.addMetric(OUTBOX_METRICS.sweeper.oldestPendingAgeSeconds, MetricUnit.Seconds, 42);
    const emf = metrics.serializeMetrics() as unknown as {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      [key: string]: unknown;
    };
    // THEN the alarm reads that exact metric: namespace, name, and every dimension with its value
    const directive = emf._aws.CloudWatchMetrics[0];
    const emitted = {
      Namespace: directive?.Namespace,
      MetricName: directive?.Metrics[0]?.Name,
      Dimensions: (directive?.Dimensions[0] ?? []).map((name) => ({ Name: name, Value: emf[name] })),
    };
    const alarm = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).find(
      (candidate) => candidate.Properties?.MetricName === OUTBOX_METRICS.sweeper.oldestPendingAgeSeconds,
    );
    expect({
      Namespace: alarm?.Properties?.Namespace,
      MetricName: alarm?.Properties?.MetricName,
      Dimensions: alarm?.Properties?.Dimensions,
    }).toEqual(emitted);
  });

  it('gives every alarm the actions from the stack props after the alarm topic, on ALARM and on OK', () => {
    // GIVEN an alarm action (an SNS topic, say)
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:payments-oncall';
    const action: IAlarmAction = { bind: () => ({ alarmActionArn: topicArn }) };
    // WHEN
    const { template: withActions } = synthStack({ alarmActions: [action] });
    // THEN
    const alarms = Object.values(resourcesOfType(withActions, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(32);
    expect(alarms.filter((alarm) => alarm.Properties?.MetricName === 'OldestOpenPgAttemptAgeSeconds')).toHaveLength(1);
    expect(alarms.filter((alarm) => alarm.Properties?.MetricName === PG_MISCONFIGURED_METRIC)).toHaveLength(1);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }, topicArn]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: 'AlarmTopic' }, topicArn]);
    }
  });

  it('notifies the alarm topic only by default, on ALARM and on OK', () => {
    for (const alarm of Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: 'AlarmTopic' }]);
    }
  });

  it('applies alarm thresholds and the sweeper interval from the stack props', () => {
    // GIVEN / WHEN
    const { template: custom } = synthStack({
      sweeper: { interval: Duration.minutes(2) },
      alarmThresholds: { iteratorAgeAlarmThreshold: Duration.minutes(2), oldestPendingAgeAlarmThreshold: Duration.minutes(30) },
    });
    // THEN
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 120_000 });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestPendingAgeSeconds', Threshold: 1800, Period: 120 });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestOpenPgAttemptAgeSeconds', Threshold: 600, Period: 300 });
  });

  it('applies the oldest open PG attempt threshold from the stack props, and keeps every period of the alarm holding a reconciler run', () => {
    // GIVEN / WHEN a 30-minute threshold, and a reconciler that runs every 10 minutes
    const { template: custom } = synthStack({
      reconciler: { interval: Duration.minutes(10), gracePeriod: Duration.minutes(15) },
      alarmThresholds: { oldestOpenPgAttemptAgeAlarmThreshold: Duration.minutes(30) },
    });
    // THEN
    const [[, alarm]] = alarmsOn(custom, 'OldestOpenPgAttemptAgeSeconds') as [[string, CfnResourceJson]];
    expect(alarm.Properties).toMatchObject({ Threshold: 1800, Period: 600, EvaluationPeriods: 1, TreatMissingData: 'breaching' });
    expect(alarm.Properties?.AlarmDescription).toContain('more than 30 minutes ago');
    // ... and the sweeper's alarm keeps its own threshold
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestPendingAgeSeconds', Threshold: 600 });
  });

  it.each([
    ['an oldest open PG attempt age below 1 minute', {}, { oldestOpenPgAttemptAgeAlarmThreshold: Duration.seconds(30) }, 'oldestOpenPgAttemptAgeAlarmThreshold must be between 1 minute and 7 days (got 30 seconds)'],
    ['an oldest open PG attempt age above 7 days', {}, { oldestOpenPgAttemptAgeAlarmThreshold: Duration.days(8) }, 'oldestOpenPgAttemptAgeAlarmThreshold must be between 1 minute and 7 days (got 8 days)'],
    ['an oldest open PG attempt age not above the grace period', {}, { oldestOpenPgAttemptAgeAlarmThreshold: Duration.minutes(2) }, "oldestOpenPgAttemptAgeAlarmThreshold must be longer than the reconciler's grace period (got 2 minutes, grace 2 minutes)"],
    ['a reconciler grace period not below the default threshold', { gracePeriod: Duration.minutes(10) }, {}, "oldestOpenPgAttemptAgeAlarmThreshold must be longer than the reconciler's grace period (got 10 minutes, grace 10 minutes)"],
  ])('rejects %s', (_case, reconciler, alarmThresholds, message) => {
    expect(() => synthStack({ reconciler, alarmThresholds })).toThrow(`TestStack/Observability: ${message}`);
  });

  it.each([
    ['an oldest pending age below 1 minute', { oldestPendingAgeAlarmThreshold: Duration.seconds(30) }, 'oldestPendingAgeAlarmThreshold must be between 1 minute and 7 days (got 30 seconds)'],
    ['an oldest pending age not above the grace period', { oldestPendingAgeAlarmThreshold: Duration.minutes(2) }, "oldestPendingAgeAlarmThreshold must be longer than the sweeper's grace period (got 2 minutes, grace 2 minutes)"],
    ['an IteratorAge above 24 hours', { iteratorAgeAlarmThreshold: Duration.hours(25) }, 'iteratorAgeAlarmThreshold must be between 1 second and 1 day (got 1 day 1 hour)'],
  ])('rejects %s', (_case, alarmThresholds, message) => {
    expect(() => synthStack({ alarmThresholds })).toThrow(`TestStack/Observability: ${message}`);
  });
});

describe('observability: dashboard', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();
  const relayId = functionIdByEntry(template, RELAY_ENTRY);
  const body = dashboardBody(template);
  const lines = metricLines(body);
  const custom = (name: string, stat: string) => `PaymentOutbox/${name}/service/payment-outbox ${stat}`;

  it('shows events published and publish failures', () => {
    expect(lines).toEqual(expect.arrayContaining([custom('EventsPublished', 'Sum'), custom('PublishFailures', 'Sum')]));
  });

  it('shows relay lag p50 and p99', () => {
    expect(lines).toEqual(expect.arrayContaining([custom('RelayLagMs', 'p50'), custom('RelayLagMs', 'p99')]));
  });

  it('shows oldest pending age, sweeper republishes and failures, gap-filled events, mark failures', () => {
    expect(lines).toEqual(
      expect.arrayContaining([
        custom('OldestPendingAgeSeconds', 'Maximum'),
        custom('SweeperRepublished', 'Sum'),
        custom('SweeperFailures', 'Sum'),
        custom('GapFilledEvents', 'Sum'),
        custom('MarkPublishedFailures', 'Sum'),
      ]),
    );
  });

  it('shows mark failures once when the relay and the sweeper share a service (one metric covers both)', () => {
    expect(lines.filter((line) => line === custom('MarkPublishedFailures', 'Sum'))).toHaveLength(1);
  });

  it('shows DLQ depth, relay-failures depth and the relay IteratorAge', () => {
    expect(lines).toEqual(
      expect.arrayContaining([
        'AWS/SQS/ApproximateNumberOfMessagesVisible/QueueName/<GetAtt PaymentEventsDlq.QueueName> Maximum',
        'AWS/SQS/ApproximateNumberOfMessagesVisible/QueueName/<GetAtt RelayFailuresQueue.QueueName> Maximum',
        `AWS/Lambda/IteratorAge/FunctionName/<Ref ${relayId}> Maximum`,
      ]),
    );
  });

  it('shows the consumer applied, skipped and gap counts', () => {
    expect(lines).toEqual(
      expect.arrayContaining([custom('EventsApplied', 'Sum'), custom('EventsSkipped', 'Sum'), custom('SequenceGaps', 'Sum')]),
    );
  });

  it('shows the oldest open PG attempt age (with the alarm threshold) and the reconciler counts in the row below the sweeper', () => {
    const widget = (title: string): Widget => {
      const found = body.widgets.find((candidate) => candidate.properties.title === title);
      if (!found) throw new Error(`no widget ${title}`);
      return found;
    };
    const oldestPending = widget('Oldest pending event age (s)');
    const oldestOpen = widget('Oldest open PG attempt age (s)');
    const counts = widget('Reconciler: PG attempts reconciled / failures');
    expect(metricLines({ widgets: [oldestOpen] })).toEqual([custom('OldestOpenPgAttemptAgeSeconds', 'Maximum')]);
    expect(oldestOpen.properties.annotations?.horizontal).toEqual([{ value: 600, label: 'alarm', yAxis: 'left' }]);
    expect(metricLines({ widgets: [counts] })).toEqual([custom('PgAttemptsReconciled', 'Sum'), custom('PgReconcileFailures', 'Sum')]);
    expect([oldestOpen.x, oldestOpen.y]).toEqual([oldestPending.x, oldestPending.y + 6]);
    expect([counts.x, counts.y]).toEqual([oldestOpen.x + 8, oldestOpen.y]);
  });

  it('shows the state of all 32 alarms', () => {
    const alarmIds = Object.keys(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).sort();
    expect(alarmIds).toHaveLength(32);
    const shown = body.widgets
      .filter((widget) => widget.type === 'alarm')
      .flatMap((widget) => widget.properties.alarms ?? [])
      .map((arn) => /<GetAtt (\w+)\.Arn>/.exec(arn)?.[1])
      .sort();
    expect(shown).toEqual(alarmIds);
  });

  it('shows the API 5xx and 4xx responses with the 5xx alarm threshold', () => {
    const widget = body.widgets.find((candidate) => candidate.properties.title === 'API: 5xx / 4xx responses');
    const lines = metricLines({ widgets: widget ? [widget] : [] });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^AWS\/ApiGateway\/5XXError\/ApiName\/[^/]+\/Stage\/<Ref ApiRestApiDeploymentStage\w+> Sum$/);
    expect(lines[1]).toMatch(/^AWS\/ApiGateway\/4XXError\/ApiName\/[^/]+\/Stage\/<Ref ApiRestApiDeploymentStage\w+> Sum$/);
    expect(widget?.properties.annotations?.horizontal).toEqual([{ value: 5, label: '5xx alarm', yAxis: 'left' }]);
  });

  it.each([
    ['Functions: errors', 'Errors'],
    ['Functions: throttles', 'Throttles'],
  ])('shows %s, one line per function of the stack', (title, metric) => {
    const widget = body.widgets.find((candidate) => candidate.properties.title === title);
    const functions = Object.keys(resourcesOfType(template, 'AWS::Lambda::Function'));
    expect(metricLines({ widgets: widget ? [widget] : [] }).sort()).toEqual(
      functions.map((id) => `AWS/Lambda/${metric}/FunctionName/<Ref ${id}> Sum`).sort(),
    );
  });

  it('reads every custom metric with the service dimension only (as Powertools emits them)', () => {
    const customLines = lines.filter((line) => line.startsWith('PaymentOutbox/'));
    expect(customLines.length).toBeGreaterThanOrEqual(14);
    for (const line of customLines) expect(line).toMatch(/^PaymentOutbox\/\w+\/service\/payment-outbox \S+$/);
  });
});

/** The alarms of `template` on metric `metricName`, as [logical id, resource] pairs. */
function alarmsOn(template: Template, metricName: string): [string, CfnResourceJson][] {
  return Object.entries(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).filter(([, alarm]) => alarm.Properties?.MetricName === metricName);
}

/** The logical id of the queue a queue alarm's QueueName dimension points at. */
function alarmedQueue(alarm: CfnResourceJson): string {
  return (alarm.Properties?.Dimensions[0].Value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

describe('observability: subscriber backlog and fan-out delivery alarms', () => {
  // GIVEN the app's subscribers: the payment-events queue and the notifications webhook
  const { stack, template } = synthAppStack();

  it.each([
    ['payment-events', 'PaymentEventsQueue'],
    ['notifications', 'NotificationsQueue'],
  ])('alarms when the oldest message of the %s queue is older than 15 minutes (maximum over 5 minutes, one period)', (_subscriber, queueId) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('has one backlog alarm per subscriber queue, <PascalName>SubscriberBacklog, and none on the DLQs', () => {
    const byQueue = Object.fromEntries(alarmsOn(template, 'ApproximateAgeOfOldestMessage').map(([id, alarm]) => [alarmedQueue(alarm), id]));
    expect(Object.keys(byQueue).sort()).toEqual(['NotificationsQueue', 'PaymentEventsQueue']);
    expect(byQueue.PaymentEventsQueue).toMatch(/^ObservabilityPaymentEventsSubscriberBacklog[0-9A-F]{8}$/);
    expect(byQueue.NotificationsQueue).toMatch(/^ObservabilityNotificationsSubscriberBacklog[0-9A-F]{8}$/);
    const alarms = stack.observability.subscriberBacklogAlarms;
    expect(Object.keys(alarms).sort()).toEqual(['notifications', 'payment-events']);
    expect(alarms['payment-events']?.node.id).toBe('PaymentEventsSubscriberBacklog');
    expect(alarms.notifications?.node.id).toBe('NotificationsSubscriberBacklog');
  });

  it('names each DLQ alarm <PascalName>DeadLetterQueueNotEmpty', () => {
    const dlqAlarms = stack.observability.deadLetterQueueAlarms;
    expect(dlqAlarms['payment-events']?.node.id).toBe('PaymentEventsDeadLetterQueueNotEmpty');
    expect(dlqAlarms.notifications?.node.id).toBe('NotificationsDeadLetterQueueNotEmpty');
  });

  it('alarms when SNS fails to deliver any notification of payment-events.fifo (sum over 5 minutes > 0)', () => {
    const failures = alarmsOn(template, 'NumberOfNotificationsFailed');
    expect(failures).toHaveLength(1);
    const [id, alarm] = failures[0]!;
    expect(id).toMatch(/^ObservabilityFanOutDeliveryFailures[0-9A-F]{8}$/);
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SNS',
      MetricName: 'NumberOfNotificationsFailed',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.Properties?.Dimensions).toEqual([{ Name: 'TopicName', Value: { 'Fn::GetAtt': ['PaymentEventsTopic', 'TopicName'] } }]);
    // the TopicName dimension is the name of the fan-out topic, payment-events.fifo
    expect(resourcesOfType(template, 'AWS::SNS::Topic').PaymentEventsTopic?.Properties?.TopicName).toBe(PAYMENT_EVENTS_TOPIC_NAME);
    expect(PAYMENT_EVENTS_TOPIC_NAME).toBe('payment-events.fifo');
    expect(stack.observability.fanOutDeliveryFailureAlarm.node.id).toBe('FanOutDeliveryFailures');
  });

  it('says in the alarm descriptions which queue is behind and how to recover (replay from the Outbox table)', () => {
    const [, paymentEvents] = alarmsOn(template, 'ApproximateAgeOfOldestMessage').find(([, alarm]) => alarmedQueue(alarm) === 'PaymentEventsQueue')!;
    expect(paymentEvents.Properties?.AlarmDescription).toContain('payment-events queue is older than 15 minutes');
    expect(paymentEvents.Properties?.AlarmDescription).toContain('npm run outbox -- replay --queue payment-events.fifo');
    const [[, failures]] = alarmsOn(template, 'NumberOfNotificationsFailed') as [[string, CfnResourceJson]];
    expect(failures.Properties?.AlarmDescription).toContain('npm run outbox -- replay');
  });

  it("lists both kinds in the construct's alarms, each alarm once", () => {
    const observability = stack.observability;
    expect(observability.alarms).toEqual(
      expect.arrayContaining([observability.fanOutDeliveryFailureAlarm, ...Object.values(observability.subscriberBacklogAlarms)]),
    );
    // 2 DLQs + 2 SNS DLQs + 2 backlogs + fan-out + IteratorAge + relay-failures + oldest pending + oldest open PG attempt
    // + PG misconfigured + API 5xx + Errors and Throttles of 12 functions (7 routes, relay, sweeper, reconciler, consumer, notifications dispatcher)
    expect(observability.alarms).toContain(observability.oldestOpenPgAttemptAgeAlarm);
    expect(observability.alarms).toContain(observability.pgMisconfiguredAlarm);
    expect(observability.alarms).toContain(observability.apiServerErrorAlarm);
    expect(observability.alarms).toEqual(expect.arrayContaining(Object.values(observability.subscriptionDeadLetterQueueAlarms)));
    expect(observability.alarms).toHaveLength(12 + 1 + 2 * 12);
    expect(new Set(observability.alarms).size).toBe(37);
    expect(Object.keys(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))).toHaveLength(37);
  });

  it('gives the backlog and fan-out alarms the actions from the stack props', () => {
    // GIVEN an alarm action
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:payments-oncall';
    const action: IAlarmAction = { bind: () => ({ alarmActionArn: topicArn }) };
    // WHEN
    const { template: withActions } = synthAppStack({ alarmActions: [action] });
    // THEN
    const alarms = [...alarmsOn(withActions, 'ApproximateAgeOfOldestMessage'), ...alarmsOn(withActions, 'NumberOfNotificationsFailed')];
    expect(alarms).toHaveLength(3);
    for (const [id, alarm] of alarms) expect(alarm.Properties?.AlarmActions, id).toEqual([{ Ref: 'AlarmTopic' }, topicArn]);
  });

  it('shows the backlog ages (with the alarm threshold) and the failed notifications next to the DLQ depths on the dashboard', () => {
    const body = dashboardBody(template);
    const widget = (title: string): Widget => {
      const found = body.widgets.find((candidate) => candidate.properties.title === title);
      if (!found) throw new Error(`no widget ${title}`);
      return found;
    };
    const dlq = widget('Queue depth: subscriber DLQs / SNS DLQs / relay-failures');
    const backlog = widget('Subscriber queues: oldest message age (s)');
    const fanOut = widget('Fan-out: SNS notifications failed');
    expect(metricLines({ widgets: [backlog] })).toEqual([
      'AWS/SQS/ApproximateAgeOfOldestMessage/QueueName/<GetAtt PaymentEventsQueue.QueueName> Maximum',
      'AWS/SQS/ApproximateAgeOfOldestMessage/QueueName/<GetAtt NotificationsQueue.QueueName> Maximum',
    ]);
    expect(backlog.properties.annotations?.horizontal).toEqual([{ value: 900, label: 'alarm', yAxis: 'left' }]);
    expect(metricLines({ widgets: [fanOut] })).toEqual(['AWS/SNS/NumberOfNotificationsFailed/TopicName/<GetAtt PaymentEventsTopic.TopicName> Sum']);
    // 5-minute periods: CDK leaves out a metric's period when it is 300 s, CloudWatch's default
    for (const line of [...(backlog.properties.metrics ?? []), ...(fanOut.properties.metrics ?? [])]) {
      expect((line[line.length - 1] as { period?: number }).period ?? 300).toBe(300);
    }
    // same row, right after the DLQ depths
    expect([backlog.y, fanOut.y]).toEqual([dlq.y, dlq.y]);
    expect([backlog.x, fanOut.x]).toEqual([dlq.x + 8, dlq.x + 16]);
  });
});

describe('observability: subscriber backlog threshold', () => {
  /** The threshold (seconds) of each subscriber's backlog alarm, built without synthesizing. */
  const backlogThresholds = (subscriberBacklogAgeAlarmThreshold: Duration): Record<string, unknown> => {
    const stack = new PaymentOutboxStack(newTestApp(), 'TestStack', {
      subscribers: appSubscribers(),
      alarmThresholds: { subscriberBacklogAgeAlarmThreshold },
    });
    return Object.fromEntries(
      Object.entries(stack.observability.subscriberBacklogAlarms).map(([name, alarm]) => [
        name,
        stack.resolve((alarm.node.defaultChild as CfnAlarm).threshold),
      ]),
    );
  };

  it('applies subscriberBacklogAgeAlarmThreshold from the stack props to every backlog alarm and its dashboard line, nothing else', () => {
    // GIVEN / WHEN
    const { template } = synthAppStack({ alarmThresholds: { subscriberBacklogAgeAlarmThreshold: Duration.hours(2) } });
    // THEN
    const backlogs = alarmsOn(template, 'ApproximateAgeOfOldestMessage');
    expect(backlogs).toHaveLength(2);
    for (const [id, alarm] of backlogs) {
      expect(alarm.Properties?.Threshold, id).toBe(7200);
      expect(alarm.Properties?.AlarmDescription, id).toContain('older than 2 hours');
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'NumberOfNotificationsFailed', Threshold: 0 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60_000 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestPendingAgeSeconds', Threshold: 600 });
    const backlogWidget = dashboardBody(template).widgets.find((widget) => widget.properties.title === 'Subscriber queues: oldest message age (s)');
    expect(backlogWidget?.properties.annotations?.horizontal).toEqual([{ value: 7200, label: 'alarm', yAxis: 'left' }]);
  });

  it.each([
    ['1 minute', Duration.minutes(1), 60],
    ['14 days', Duration.days(14), 1_209_600],
  ])('accepts the bound %s, independent of the other thresholds and the sweeper grace period', (_bound, threshold, seconds) => {
    expect(backlogThresholds(threshold)).toEqual({ 'payment-events': seconds, notifications: seconds });
  });

  it.each([
    ['59 seconds', Duration.seconds(59)],
    ['15 days', Duration.days(15)],
  ])('rejects %s', (got, subscriberBacklogAgeAlarmThreshold) => {
    expect(() => synthStack({ alarmThresholds: { subscriberBacklogAgeAlarmThreshold } })).toThrow(
      `TestStack/Observability: subscriberBacklogAgeAlarmThreshold must be between 1 minute and 14 days (got ${got})`,
    );
  });
});

describe('observability: metric names', () => {
  const emitters: Record<keyof typeof OUTBOX_METRICS, string> = {
    relay: 'lambdas/functions/outbox-relay/outbox-relay.ts',
    sweeper: 'lambdas/functions/outbox-sweeper/outbox-sweeper.ts',
    reconciler: 'lambdas/functions/pg-reconciler/pg-reconciler.ts',
    consumer: 'lambdas/consumer-guard/guarded-fifo-consumer.ts',
    webhook: 'lambdas/functions/webhook-dispatcher/webhook-dispatcher.ts',
  };

  it('names entries that exist', () => {
    for (const entry of [RELAY_ENTRY, SWEEPER_ENTRY, PG_RECONCILER_ENTRY, EXAMPLE_CONSUMER_ENTRY]) {
      expect(fs.existsSync(path.join(REPO_ROOT, entry)), entry).toBe(true);
    }
  });

  it.each(Object.entries(OUTBOX_METRICS))('every %s metric the dashboard and alarms read is one its handler emits', (group, names) => {
    const source = fs.readFileSync(path.join(REPO_ROOT, emitters[group as keyof typeof OUTBOX_METRICS]), 'utf8');
    for (const key of Object.keys(names)) {
      // The handler emits the shared name (lambdas/platform/metric-names.ts), never a literal of its own.
      expect(source, `OUTBOX_METRICS.${group}.${key} in ${emitters[group as keyof typeof OUTBOX_METRICS]}`).toMatch(
        new RegExp(`(addMetric|count)\\(\\s*OUTBOX_METRICS\\.${group}\\.${key}\\b`),
      );
    }
  });

  it('handlers name no metric with a string literal of their own', () => {
    for (const file of Object.values(emitters)) {
      expect(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'), file).not.toMatch(/(addMetric|count)\(\s*'/);
    }
  });
});

/** The functions that call the PG on a sandbox stack: each one's log group carries a PgMisconfigured metric filter. */
const SANDBOX_PG_CALLERS: Readonly<Record<string, string>> = {
  CreatePayment: 'lambdas/functions/create-payment/entry.ts',
  ConfirmPayment: 'lambdas/functions/confirm-payment/entry.ts',
  CancelPayment: 'lambdas/functions/cancel-payment/entry.ts',
  Reconciler: PG_RECONCILER_ENTRY,
};

/** The log group (logical id) of function `functionId`. */
function logGroupOf(template: Template, functionId: string): string {
  return (resourcesOfType(template, 'AWS::Lambda::Function')[functionId]?.Properties?.LoggingConfig.LogGroup as { Ref: string }).Ref;
}

describe('observability: PgMisconfigured', () => {
  // GIVEN the stack as the app builds it, on the sandbox PG
  const { stack, template } = synthAppStack();
  const filters = resourcesOfType(template, 'AWS::Logs::MetricFilter');

  it('counts pgMisconfigured log lines of every function that calls the PG, one metric filter per log group', () => {
    const expected = Object.values(SANDBOX_PG_CALLERS).map((entry) => logGroupOf(template, functionIdByEntry(template, entry)));
    expect(Object.values(filters).map((filter) => filter.Properties?.LogGroupName.Ref).sort()).toEqual(expected.sort());
    expect(Object.keys(stack.observability.pgMisconfiguredFilters).sort()).toEqual(Object.keys(SANDBOX_PG_CALLERS).sort());
  });

  it('matches the JSON field pgMisconfigured = true into PaymentOutbox/PgMisconfigured, 1 per line, without dimensions', () => {
    for (const [id, filter] of Object.entries(filters)) {
      expect(filter.Properties, id).toEqual({
        LogGroupName: expect.any(Object),
        FilterPattern: '{ $.pgMisconfigured IS TRUE }',
        MetricTransformations: [{ MetricNamespace: 'PaymentOutbox', MetricName: PG_MISCONFIGURED_METRIC, MetricValue: '1' }],
      });
    }
    expect(PG_MISCONFIGURED_LOG_FIELD).toBe('pgMisconfigured');
  });

  it('alarms on one such line in 5 minutes (Sum >= 1), treating missing data as not breaching', () => {
    const alarms = alarmsOn(template, PG_MISCONFIGURED_METRIC);
    expect(alarms).toHaveLength(1);
    const [id, alarm] = alarms[0]!;
    expect(id).toMatch(/^ObservabilityPgMisconfigured[0-9A-F]{8}$/);
    expect(alarm.Properties).toMatchObject({
      Namespace: 'PaymentOutbox',
      MetricName: PG_MISCONFIGURED_METRIC,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    // The metric filters publish without dimensions: so does the alarm read it.
    expect(alarm.Properties?.Dimensions).toBeUndefined();
    expect(alarm.Properties?.AlarmDescription).toContain('secret key');
    expect(stack.observability.pgMisconfiguredAlarm.node.id).toBe('PgMisconfigured');
  });

  it('reads the namespace the metric filters write to', () => {
    const [[, alarm]] = alarmsOn(template, PG_MISCONFIGURED_METRIC) as [[string, CfnResourceJson]];
    for (const filter of Object.values(filters)) {
      const [transformation] = filter.Properties?.MetricTransformations as { MetricNamespace: string; MetricName: string }[];
      expect([transformation?.MetricNamespace, transformation?.MetricName]).toEqual([alarm.Properties?.Namespace, alarm.Properties?.MetricName]);
    }
  });

  it('is a top-level JSON boolean in the line Powertools Logger writes, as the filter selector $.pgMisconfigured needs', async () => {
    // GIVEN the logger the handlers use, writing to a captured stdout and stderr (Lambda sends both to the log group)
    const { Logger } = await import('@aws-lambda-powertools/logger');
    const lines: string[] = [];
    const capture = (stream: NodeJS.WriteStream) => {
      const write = stream.write;
      stream.write = ((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      }) as typeof stream.write;
      return () => {
        stream.write = write;
      };
    };
    const restore = [capture(process.stdout), capture(process.stderr)];
    try {
      // WHEN a handler logs a refused credential as lambdas/http-api/api-handler.ts does
      new Logger({ serviceName: 'payment-outbox' }).error('The payment gateway refused our request', { [PG_MISCONFIGURED_LOG_FIELD]: true, detail: 'UNAUTHORIZED_KEY' });
    } finally {
      for (const undo of restore) undo();
    }
    // THEN the line is one JSON object with the field at its top level, true
    const line = JSON.parse(lines.join('')) as Record<string, unknown>;
    expect(line[PG_MISCONFIGURED_LOG_FIELD]).toBe(true);
    expect(line.level).toBe('ERROR');
  });

  it.each(['lambdas/http-api/api-handler.ts', 'lambdas/functions/pg-reconciler/pg-reconciler.ts'])('is the field %s logs when the PG refuses our credentials', (file) => {
    expect(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')).toMatch(new RegExp(`\\b${PG_MISCONFIGURED_LOG_FIELD}: true\\b`));
  });
});

describe('OutboxObservability: pgFunctions', () => {
  function arrange(): { stack: ReturnType<typeof newTestStack>; props: OutboxObservabilityProps } {
    const stack = newTestStack();
    const fn = (id: string) => new PaymentFunction(stack, id, { entry: PG_RECONCILER_ENTRY });
    const queue = (id: string) => new sqs.Queue(stack, id);
    return {
      stack,
      props: {
        relayFunction: fn('Relay'),
        relayFailureQueue: queue('RelayFailures'),
        sweeperFunction: fn('Sweeper'),
        sweeperInterval: Duration.minutes(1),
        sweeperGracePeriod: Duration.minutes(2),
        reconcilerFunction: fn('Reconciler'),
        reconcilerInterval: Duration.minutes(1),
        reconcilerGracePeriod: Duration.minutes(2),
        pgFunctions: {},
        eventTopic: new sns.Topic(stack, 'Topic'),
        subscriberQueues: [{ subscriber: 'payment-events', queue: queue('Queue'), deadLetterQueue: queue('Dlq') }],
      },
    };
  }

  it('puts one filter on each function it is given, named <name>PgMisconfigured', () => {
    // GIVEN
    const { stack, props } = arrange();
    // WHEN
    const observability = new OutboxObservability(stack, 'Observability', { ...props, pgFunctions: { Reconciler: props.reconcilerFunction } });
    // THEN
    expect(observability.pgMisconfiguredFilters.Reconciler?.node.id).toBe('ReconcilerPgMisconfigured');
    Template.fromStack(stack).resourceCountIs('AWS::Logs::MetricFilter', 1);
  });

  it.each([
    ['no function', {}, 'pgFunctions must name at least one function that calls the PG'],
    ['a name that is not PascalCase', { 'create-payment': 'fn' }, 'pgFunctions names must be PascalCase letters and digits, at most 64 (got create-payment)'],
  ])('rejects %s', (_case, names, message) => {
    const { stack, props } = arrange();
    const pgFunctions = Object.fromEntries(Object.keys(names).map((name) => [name, props.reconcilerFunction]));
    expect(() => new OutboxObservability(stack, 'Observability', { ...props, pgFunctions })).toThrow(`ConstructTestStack/Observability: ${message}`);
  });

  it('rejects functions in different metrics namespaces (the alarm reads one metric)', () => {
    const { stack, props } = arrange();
    const other = new PaymentFunction(stack, 'Other', { entry: PG_RECONCILER_ENTRY, metricsNamespace: 'Elsewhere' });
    expect(() => new OutboxObservability(stack, 'Observability', { ...props, pgFunctions: { Reconciler: props.reconcilerFunction, Other: other } })).toThrow(
      'ConstructTestStack/Observability: pgFunctions must share one metrics namespace (Other uses Elsewhere, Reconciler PaymentOutbox)',
    );
  });
});
