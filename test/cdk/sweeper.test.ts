import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PENDING_EVENTS_INDEX_NAME } from '../../lambdas/domain/pending-shards';
import { OutboxSweeper, SWEEPER_ENTRY } from '../../lib/constructs/outbox-sweeper';
import { actionsOnResource, functionIdByEntry, newTestStack, resourcesOfType, statementsOfFunction, synthStack } from '../support/cdk-stack';

const INDEX_ARN = { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['OutboxTable', 'Arn'] }, `/index/${PENDING_EVENTS_INDEX_NAME}`]] };

describe('outbox sweeper', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();
  const sweeperId = functionIdByEntry(template, SWEEPER_ENTRY);
  const sweeper = resourcesOfType(template, 'AWS::Lambda::Function')[sweeperId];

  it('runs with a 60 s timeout and reserves no concurrency (new accounts cannot; overlapping sweeps are harmless)', () => {
    expect(sweeper?.Properties?.Timeout).toBe(60);
    expect(sweeper?.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SWEEPER_GRACE_SECONDS: Match.anyValue() }) },
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('leaves the stack with no reserved concurrency anywhere, so it deploys on an account whose quota is 10', () => {
    const reserving = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function'))
      .filter(([, fn]) => fn.Properties?.ReservedConcurrentExecutions !== undefined)
      .map(([id]) => id);
    expect(reserving).toEqual([]);
  });

  it('gets the Outbox table, the event topic (not a queue), a 120 s grace period and 1000 events per run from its environment', () => {
    expect(sweeper?.Properties?.Environment.Variables).toMatchObject({
      OUTBOX_TABLE_NAME: { Ref: 'OutboxTable' },
      PAYMENT_EVENTS_TOPIC_ARN: { Ref: 'PaymentEventsTopic' },
      SWEEPER_GRACE_SECONDS: '120',
      SWEEPER_MAX_EVENTS: '1000',
    });
    expect(sweeper?.Properties?.Environment.Variables.PAYMENT_EVENTS_QUEUE_URL).toBeUndefined();
  });

  /** The EventBridge rules that target the sweeper (the stack has another one, the PG reconciler's), by logical id. */
  const sweeperRules = () =>
    Object.entries(resourcesOfType(template, 'AWS::Events::Rule')).filter(([, rule]) =>
      JSON.stringify(rule.Properties?.Targets).includes(JSON.stringify({ 'Fn::GetAtt': [sweeperId, 'Arn'] })),
    );

  it('is run every minute by one EventBridge rule with a plain rate() schedule targeting the function directly', () => {
    const rules = sweeperRules().map(([, rule]) => rule);
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect(rules[0]?.Properties?.EventPattern).toBeUndefined();
    expect(rules[0]?.Properties?.Targets).toEqual([
      { Id: 'Target0', Arn: { 'Fn::GetAtt': [sweeperId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } },
    ]);
  });

  it('lets only that rule invoke the sweeper', () => {
    const ruleIds = sweeperRules().map(([id]) => id);
    expect(ruleIds).toHaveLength(1);
    const ruleId = ruleIds[0] as string;
    const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter(
      (permission) => JSON.stringify(permission.Properties?.FunctionName).includes(sweeperId),
    );
    expect(permissions.map((permission) => permission.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [sweeperId, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
  });

  it('drops a run that waited a whole interval and does not retry a failed one (the next run does the work)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: sweeperId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('has no event source mapping (it reads the table, not the stream)', () => {
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.filter((mapping) => mapping.Properties?.FunctionName.Ref === sweeperId)).toEqual([]);
  });

  it('grants Query and UpdateItem on the Outbox table ARN', () => {
    expect(actionsOnResource(template, sweeperId, 'OutboxTable')).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  it('grants Query on the PendingEvents index ARN and no wildcard index', () => {
    const onIndex = statementsOfFunction(template, sweeperId).filter((statement) =>
      JSON.stringify(statement.Resource).includes('/index/'),
    );
    expect(onIndex).toEqual([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: INDEX_ARN }]);
  });

  it('grants nothing on the Outbox stream, the other tables or any queue', () => {
    expect(actionsOnResource(template, sweeperId, 'OutboxTable', 'StreamArn')).toEqual([]);
    for (const id of ['PaymentsTable', 'IdempotencyTable', 'InboxTable', 'PaymentEventsQueue', 'PaymentEventsDlq', 'RelayFailuresQueue']) {
      expect(actionsOnResource(template, sweeperId, id), id).toEqual([]);
    }
  });

  it('grants sns:Publish on the payment-events.fifo topic and nothing else on it', () => {
    expect(actionsOnResource(template, sweeperId, 'PaymentEventsTopic')).toEqual(['sns:Publish']);
  });

  it('has no other DynamoDB, SNS, SQS, KMS or secret permission', () => {
    const actions = statementsOfFunction(template, sweeperId)
      .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]))
      .filter((action) => /^(dynamodb|sns|sqs|secretsmanager|kms):/.test(action))
      .sort();
    expect(actions).toEqual(['dynamodb:Query', 'dynamodb:Query', 'dynamodb:UpdateItem', 'sns:Publish']);
  });

  it('applies sweeper settings from the stack props', () => {
    // GIVEN / WHEN
    const { template: custom } = synthStack({
      sweeper: { interval: Duration.minutes(5), gracePeriod: Duration.minutes(5), maxEventsPerRun: 50, timeout: Duration.minutes(2) },
      alarmThresholds: { oldestPendingAgeAlarmThreshold: Duration.minutes(15) },
    });
    // THEN
    const id = functionIdByEntry(custom, SWEEPER_ENTRY);
    const fn = resourcesOfType(custom, 'AWS::Lambda::Function')[id];
    expect(fn?.Properties?.Timeout).toBe(120);
    expect(fn?.Properties?.Environment.Variables).toMatchObject({ SWEEPER_GRACE_SECONDS: '300', SWEEPER_MAX_EVENTS: '50' });
    const rules = Object.values(resourcesOfType(custom, 'AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule.Properties?.Targets).includes(JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })),
    );
    expect(rules.map((rule) => rule.Properties?.ScheduleExpression)).toEqual(['rate(5 minutes)']);
    custom.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id }, MaximumEventAgeInSeconds: 300 });
  });
});

describe('OutboxSweeper validation', () => {
  function arrange(options: { index?: boolean } = {}) {
    const stack = newTestStack();
    const outboxTable = new dynamodb.Table(stack, 'Outbox', {
      partitionKey: { name: 'aggregateId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sequence', type: dynamodb.AttributeType.NUMBER },
    });
    if (options.index !== false) {
      outboxTable.addGlobalSecondaryIndex({
        indexName: PENDING_EVENTS_INDEX_NAME,
        partitionKey: { name: 'pendingShard', type: dynamodb.AttributeType.STRING },
      });
    }
    const eventTopic = new sns.Topic(stack, 'Events', { fifo: true });
    return { stack, outboxTable, eventTopic };
  }

  it('builds with defaults on a table that has the index', () => {
    const { stack, outboxTable, eventTopic } = arrange();
    const sweeper = new OutboxSweeper(stack, 'Sweeper', { outboxTable, eventTopic });
    expect(sweeper.interval.toMinutes()).toBe(1);
    expect(sweeper.gracePeriod.toSeconds()).toBe(120);
  });

  it.each([
    ['gracePeriod', { gracePeriod: Duration.seconds(0) }, 'gracePeriod must be between 1 second and 1 day (got 0 seconds)'],
    ['gracePeriod', { gracePeriod: Duration.hours(25) }, 'gracePeriod must be between 1 second and 1 day (got 1 day 1 hour)'],
    ['maxEventsPerRun', { maxEventsPerRun: 0 }, 'maxEventsPerRun must be an integer between 1 and 10000 (got 0)'],
    ['maxEventsPerRun', { maxEventsPerRun: 10_001 }, 'maxEventsPerRun must be an integer between 1 and 10000 (got 10001)'],
    ['interval', { interval: Duration.seconds(30) }, 'interval must be between 1 minute and 1 hour (got 30 seconds)'],
    ['interval', { interval: Duration.hours(2) }, 'interval must be between 1 minute and 1 hour (got 2 hours)'],
    ['interval', { interval: Duration.seconds(90) }, 'interval must be a whole number of minutes (got 1 minute 30 seconds)'],
    ['timeout', { timeout: Duration.seconds(61) }, 'timeout must be between 1 second and 1 minute (got 1 minute 1 second)'],
  ])('rejects an out-of-range %s', (_prop, settings, message) => {
    const { stack, outboxTable, eventTopic } = arrange();
    expect(() => new OutboxSweeper(stack, 'Sweeper', { outboxTable, eventTopic, ...settings })).toThrow(
      `ConstructTestStack/Sweeper: ${message}`,
    );
  });

  it('rejects a standard topic as event topic', () => {
    const { stack, outboxTable } = arrange();
    const standard = new sns.Topic(stack, 'Standard');
    expect(() => new OutboxSweeper(stack, 'Sweeper', { outboxTable, eventTopic: standard })).toThrow(
      'ConstructTestStack/Sweeper: eventTopic must be a FIFO topic',
    );
  });

  it('rejects an Outbox table without the PendingEvents index', () => {
    const { stack, outboxTable, eventTopic } = arrange({ index: false });
    expect(() => new OutboxSweeper(stack, 'Sweeper', { outboxTable, eventTopic })).toThrow(
      'ConstructTestStack/Sweeper: outboxTable must have the PendingEvents index (see PaymentTables)',
    );
  });
});
