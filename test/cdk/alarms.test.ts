import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALARM_EMAIL_CONTEXT, ALARM_TOPIC_ARN_CONTEXT, alarmSettings } from '../../bin/app-alarms';
import { FIRST_STEP } from '../../lib/constructs/outbox-observability';
import { PaymentFunction } from '../../lib/constructs/payment-function';
import { PG_RECONCILER_ENTRY } from '../../lib/constructs/pg-reconciler';
import { PaymentOutboxStack } from '../../lib/payment-outbox-stack';
import { type CfnResourceJson, newTestApp, resourcesOfType, synthAppStack, synthStack } from '../support/cdk-stack';

const ONCALL_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:payments-oncall';

/** CloudFormation's limit on AlarmDescription. */
const MAX_ALARM_DESCRIPTION = 1024;

/** Every alarm of `template`, as [logical id, resource] pairs. */
function alarmsOf(template: Template): [string, CfnResourceJson][] {
  return Object.entries(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
}

/** The alarms of `template` on Lambda metric `metricName`, by the logical id of the function in their FunctionName dimension. */
function lambdaAlarmsByFunction(template: Template, metricName: string): Record<string, [string, CfnResourceJson][]> {
  const byFunction: Record<string, [string, CfnResourceJson][]> = {};
  for (const [id, alarm] of alarmsOf(template)) {
    if (alarm.Properties?.Namespace !== 'AWS/Lambda' || alarm.Properties.MetricName !== metricName) continue;
    const fn = (alarm.Properties.Dimensions as { Name: string; Value: { Ref: string } }[]).find((d) => d.Name === 'FunctionName')?.Value.Ref;
    (byFunction[fn ?? '?'] ??= []).push([id, alarm]);
  }
  return byFunction;
}

describe.each([
  ['the app stack on the sandbox PG (queue + webhook subscribers)', () => synthAppStack()],
  ['the app stack on Toss Payments', () => synthAppStack({ paymentGateway: 'toss' })],
])('every alarm of %s', (_stack, synth) => {
  // GIVEN the stack, with the alarm topic it creates
  const { template } = synth();
  const alarms = alarmsOf(template);
  const topic = { Ref: 'AlarmTopic' };

  it('notifies the alarm topic when it goes into ALARM', () => {
    expect(alarms.length).toBeGreaterThan(20);
    for (const [id, alarm] of alarms) expect(alarm.Properties?.AlarmActions, id).toEqual([topic]);
  });

  it('notifies the alarm topic when it returns to OK, so a recovery is seen', () => {
    for (const [id, alarm] of alarms) expect(alarm.Properties?.OKActions, id).toEqual([topic]);
  });

  it('says what it means, then what to do first, within CloudFormation\'s 1024 characters', () => {
    for (const [id, alarm] of alarms) {
      const description = alarm.Properties?.AlarmDescription as unknown;
      expect(typeof description, id).toBe('string');
      const [meaning, firstStep] = (description as string).split(FIRST_STEP);
      expect(meaning?.trim().length, `${id}: what it means`).toBeGreaterThan(40);
      expect(firstStep?.trim().length, `${id}: the first step`).toBeGreaterThan(20);
      expect((description as string).length, id).toBeLessThanOrEqual(MAX_ALARM_DESCRIPTION);
    }
  });

  it('has an Errors and a Throttles alarm on every function of the stack, one each', () => {
    const functions = Object.keys(resourcesOfType(template, 'AWS::Lambda::Function')).sort();
    expect(functions.length).toBeGreaterThanOrEqual(10);
    for (const metric of ['Errors', 'Throttles']) {
      const byFunction = lambdaAlarmsByFunction(template, metric);
      expect(Object.keys(byFunction).sort(), metric).toEqual(functions);
      for (const [fn, found] of Object.entries(byFunction)) expect(found, `${metric} of ${fn}`).toHaveLength(1);
    }
  });

  it('has one alarm on the API stage 5XXError', () => {
    expect(alarms.filter(([, alarm]) => alarm.Properties?.MetricName === '5XXError')).toHaveLength(1);
  });
});

describe('the alarm topic the stack creates', () => {
  // GIVEN the stack with default props
  const { stack, template } = synthStack();

  it('is one standard topic, AlarmTopic, encrypted with its own customer managed key (CloudWatch cannot use alias/aws/sns)', () => {
    template.hasResource('AWS::SNS::Topic', {});
    const topic = resourcesOfType(template, 'AWS::SNS::Topic').AlarmTopic;
    expect(topic?.Properties?.FifoTopic).toBeUndefined();
    expect(topic?.Properties?.TopicName).toBeUndefined();
    expect(topic?.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['AlarmTopicKey', 'Arn'] });
    expect(stack.alarmTopic.key).toBeDefined();
  });

  it('rotates the key and lets CloudWatch use it for the notifications', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
          }),
        ]),
      },
    });
    expect(Object.keys(resourcesOfType(template, 'AWS::KMS::Key'))).toEqual(['AlarmTopicKey']);
  });

  it('denies publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: 'AlarmTopic' }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it("lets CloudWatch publish for this account's alarms in this region only (the topic policy replaces SNS's default one)", () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: 'AlarmTopic' }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowThisAccountsAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: 'AlarmTopic' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']],
                },
              },
            },
          },
        ]),
      },
    });
  });

  it('has no subscription without alarmEmail', () => {
    expect(Object.values(resourcesOfType(template, 'AWS::SNS::Subscription')).filter((sub) => sub.Properties?.Protocol === 'email')).toEqual([]);
  });

  it('is the AlarmTopicArn output', () => {
    template.hasOutput('AlarmTopicArn', { Value: { Ref: 'AlarmTopic' } });
  });

  it('subscribes alarmEmail to it, as AlarmEmailSubscription', () => {
    // WHEN
    const { template: withEmail } = synthStack({ alarmEmail: 'oncall@example.com' });
    // THEN
    expect(resourcesOfType(withEmail, 'AWS::SNS::Subscription').AlarmEmailSubscription?.Properties).toEqual({
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: 'AlarmTopic' },
    });
  });
});

describe('an existing alarm topic (alarmTopicArn)', () => {
  // GIVEN / WHEN the on-call team's topic and an address
  const { template } = synthStack({ alarmTopicArn: ONCALL_TOPIC_ARN, alarmEmail: 'oncall@example.com' });

  it('creates no topic and no key of its own', () => {
    expect(Object.keys(resourcesOfType(template, 'AWS::SNS::Topic'))).toEqual(['PaymentEventsTopic']);
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  it('is the ALARM and the OK action of every alarm', () => {
    const alarms = alarmsOf(template);
    expect(alarms.length).toBeGreaterThan(20);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([ONCALL_TOPIC_ARN]);
      expect(alarm.Properties?.OKActions, id).toEqual([ONCALL_TOPIC_ARN]);
    }
  });

  it('gets the alarmEmail subscription and is the AlarmTopicArn output', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: ONCALL_TOPIC_ARN });
    template.hasOutput('AlarmTopicArn', { Value: ONCALL_TOPIC_ARN });
  });

  it.each([
    ['a FIFO topic', { alarmTopicArn: `${ONCALL_TOPIC_ARN}.fifo` }, 'topicArn must be a standard SNS topic; CloudWatch alarms cannot notify a FIFO topic'],
    ['a queue ARN', { alarmTopicArn: 'arn:aws:sqs:eu-west-1:123456789012:oncall' }, 'topicArn must be an SNS topic ARN, arn:<partition>:sns:<region>:<account>:<name>'],
    ['a topic name', { alarmTopicArn: 'payments-oncall' }, 'topicArn must be an SNS topic ARN'],
    ['two addresses', { alarmEmail: 'a@example.com,b@example.com' }, 'email must be one email address, name@domain (got a@example.com,b@example.com)'],
    ['no domain', { alarmEmail: 'oncall' }, 'email must be one email address'],
  ])('rejects %s, naming the setting', (_case, props, message) => {
    expect(() => synthStack(props)).toThrow(`TestStack/Alarms: ${message}`);
  });

  it('adds further alarmActions after the topic', () => {
    const { template: withMore } = synthStack({ alarmActions: [{ bind: () => ({ alarmActionArn: ONCALL_TOPIC_ARN }) }] });
    for (const [id, alarm] of alarmsOf(withMore)) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([{ Ref: 'AlarmTopic' }, ONCALL_TOPIC_ARN]);
      expect(alarm.Properties?.OKActions, id).toEqual([{ Ref: 'AlarmTopic' }, ONCALL_TOPIC_ARN]);
    }
  });
});

describe('the API 5xx alarm', () => {
  // GIVEN the stack with default props
  const { stack, template } = synthStack();

  it("alarms on 5 or more 5XXError of the REST API's stage in 5 minutes (sum), treating no data as fine", () => {
    const alarms = alarmsOf(template).filter(([, alarm]) => alarm.Properties?.MetricName === '5XXError');
    expect(alarms).toHaveLength(1);
    const [id, alarm] = alarms[0]!;
    expect(id).toMatch(/^ObservabilityApiServerErrors[0-9A-F]{8}$/);
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    // The stage's own metric: API Gateway publishes 5XXError per ApiName and Stage.
    expect(alarm.Properties?.Dimensions).toEqual([
      { Name: 'ApiName', Value: stack.resolve(stack.api.api.restApiName) },
      { Name: 'Stage', Value: stack.resolve(stack.api.api.deploymentStage.stageName) },
    ]);
    expect(stack.observability.apiServerErrorAlarm?.node.id).toBe('ApiServerErrors');
    expect(alarm.Properties?.AlarmDescription).toContain('503 PG_UNAVAILABLE');
  });

  it('takes its threshold from alarmThresholds', () => {
    const { template: custom } = synthStack({ alarmThresholds: { apiServerErrorAlarmThreshold: 20 } });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Threshold: 20 });
  });
});

describe('the function Errors and Throttles alarms', () => {
  // GIVEN the stack with default props
  const { stack, template } = synthStack();

  it.each(['Errors', 'Throttles'])('alarm on 1 or more %s of a function in 5 minutes (sum), treating no data as fine', (metric) => {
    const byFunction = lambdaAlarmsByFunction(template, metric);
    expect(Object.keys(byFunction)).toHaveLength(Object.keys(resourcesOfType(template, 'AWS::Lambda::Function')).length);
    for (const [[id, alarm]] of Object.values(byFunction) as [[string, CfnResourceJson]][]) {
      expect(alarm.Properties, id).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(id).toMatch(new RegExp(`^Observability\\w+Function${metric}[0-9A-F]{8}$`));
    }
  });

  it('names the alarms after the function: route ids, Relay, Sweeper, Reconciler, ExampleConsumer', () => {
    expect(Object.keys(stack.observability.functionErrorAlarms).sort()).toEqual([
      'CancelPayment',
      'ConfirmPayment',
      'CreatePayment',
      'ExampleConsumer',
      'GetPayment',
      'ListPaymentDeliveries',
      'ListPaymentEvents',
      'PgDepositCallback',
      'Reconciler',
      'Relay',
      'Sweeper',
    ]);
    expect(Object.keys(stack.observability.functionThrottleAlarms).sort()).toEqual(Object.keys(stack.observability.functionErrorAlarms).sort());
    expect(stack.observability.functionErrorAlarms.Relay?.node.id).toBe('RelayFunctionErrors');
    expect(stack.observability.functionThrottleAlarms.CreatePayment?.node.id).toBe('CreatePaymentFunctionThrottles');
  });

  it("says in each description which function it is and what its failure does", () => {
    const description = (alarm: { node: { defaultChild?: unknown } } | undefined) =>
      stack.resolve((alarm?.node.defaultChild as { alarmDescription?: string } | undefined)?.alarmDescription) as string;
    expect(description(stack.observability.functionErrorAlarms.CreatePayment)).toContain('The CreatePayment API function failed 1 or more invocations');
    expect(description(stack.observability.functionErrorAlarms.Relay)).toContain('relay-failures');
    expect(description(stack.observability.functionErrorAlarms.Reconciler)).toContain('npm run outbox -- attempts list');
    expect(description(stack.observability.functionThrottleAlarms.Sweeper)).toContain('Lambda throttled 1 or more invocations of the outbox sweeper');
  });

  it('watches the webhook dispatchers too, as <PascalName>WebhookDispatcher', () => {
    const { stack: app } = synthAppStack();
    expect(app.observability.functionErrorAlarms.NotificationsWebhookDispatcher?.node.id).toBe('NotificationsWebhookDispatcherFunctionErrors');
    expect(app.observability.functionThrottleAlarms.NotificationsWebhookDispatcher).toBeDefined();
  });

  it('takes the thresholds from alarmThresholds', () => {
    const { template: custom } = synthStack({ alarmThresholds: { functionErrorAlarmThreshold: 3, functionThrottleAlarmThreshold: 10 } });
    for (const [id, alarm] of Object.values(lambdaAlarmsByFunction(custom, 'Errors')).flat()) expect(alarm.Properties?.Threshold, id).toBe(3);
    for (const [id, alarm] of Object.values(lambdaAlarmsByFunction(custom, 'Throttles')).flat()) expect(alarm.Properties?.Threshold, id).toBe(10);
  });

  it.each([
    ['an API 5xx threshold of 0', { apiServerErrorAlarmThreshold: 0 }, 'apiServerErrorAlarmThreshold must be an integer between 1 and 100000 (got 0)'],
    ['a fractional error threshold', { functionErrorAlarmThreshold: 1.5 }, 'functionErrorAlarmThreshold must be an integer between 1 and 100000 (got 1.5)'],
    ['a throttle threshold of 0', { functionThrottleAlarmThreshold: 0 }, 'functionThrottleAlarmThreshold must be an integer between 1 and 100000 (got 0)'],
  ])('rejects %s', (_case, alarmThresholds, message) => {
    expect(() => synthStack({ alarmThresholds })).toThrow(`TestStack/Observability: ${message}`);
  });

  it('fails synthesis when a function of the stack has no Errors and Throttles alarms', () => {
    // GIVEN the stack, and a function added to it without alarms
    const app = newTestApp();
    const withExtra = new PaymentOutboxStack(app, 'TestStack');
    new PaymentFunction(withExtra, 'Unwatched', { entry: PG_RECONCILER_ENTRY });
    // WHEN / THEN
    expect(() => app.synth()).toThrow('functions without Errors and Throttles alarms: TestStack/Unwatched');
  });
});

describe('the app alarm settings (bin/app-alarms.ts)', () => {
  it('reads the context keys alarmTopicArn and alarmEmail', () => {
    expect([ALARM_TOPIC_ARN_CONTEXT, ALARM_EMAIL_CONTEXT]).toEqual(['alarmTopicArn', 'alarmEmail']);
    expect(alarmSettings(newTestApp({ alarmTopicArn: ONCALL_TOPIC_ARN, alarmEmail: ' oncall@example.com ' }))).toEqual({
      alarmTopicArn: ONCALL_TOPIC_ARN,
      alarmEmail: 'oncall@example.com',
    });
  });

  it('gives neither without context, or with empty values (the stack then creates the topic, nobody subscribed)', () => {
    expect(alarmSettings(newTestApp())).toEqual({});
    expect(alarmSettings(newTestApp({ alarmTopicArn: '', alarmEmail: '  ' }))).toEqual({});
  });

  it('rejects a value that is not a string, naming the key', () => {
    expect(() => alarmSettings(newTestApp({ alarmEmail: 42 }))).toThrow('-c alarmEmail must be a string (got 42)');
  });
});
