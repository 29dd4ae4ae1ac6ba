import { type CfnElement, Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { OPEN_ATTEMPTS_INDEX, OPEN_SHARD_ATTRIBUTE } from '../../lambdas/domain/pg-attempt-keys';
import { PG_RECONCILER_ENTRY, PgReconciler, type PgReconcilerProps } from '../../lib/constructs/pg-reconciler';
import { SWEEPER_ENTRY } from '../../lib/constructs/outbox-sweeper';
import { SandboxPaymentGateway } from '../../lib/constructs/sandbox-payment-gateway';
import { TossPaymentGateway } from '../../lib/constructs/toss-payment-gateway';
import {
  actionsOf,
  actionsOnResource,
  type CfnResourceJson,
  functionIdByEntry,
  newTestStack,
  resourcesOf,
  resourcesOfType,
  statementsOfFunction,
  synthStack,
} from '../support/cdk-stack';

const INDEX_ARN = { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['PgAttemptsTable', 'Arn'] }, `/index/${OPEN_ATTEMPTS_INDEX}`]] };

/** Every (action, resource) the function's role is allowed, as `action on resource`, for the services named, sorted. */
function grants(template: Template, functionId: string, services: RegExp): string[] {
  return statementsOfFunction(template, functionId)
    .flatMap((statement) =>
      actionsOf(statement)
        .filter((action) => services.test(action))
        .flatMap((action) => resourcesOf(statement).map((resource) => `${action} on ${JSON.stringify(resource)}`)),
    )
    .sort();
}

const arn = (id: string) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });

/** The rules of `template` that target function `functionId`, by logical id. */
function rulesTargeting(template: Template, functionId: string): [string, CfnResourceJson][] {
  return Object.entries(resourcesOfType(template, 'AWS::Events::Rule')).filter(([, rule]) =>
    (rule.Properties?.Targets as { Arn: unknown }[]).some((target) => JSON.stringify(target.Arn) === JSON.stringify({ 'Fn::GetAtt': [functionId, 'Arn'] })),
  );
}

describe('PG reconciler', () => {
  // GIVEN the stack with default props (the sandbox PG)
  const { stack, template } = synthStack();
  const reconcilerId = functionIdByEntry(template, PG_RECONCILER_ENTRY);
  const reconciler = resourcesOfType(template, 'AWS::Lambda::Function')[reconcilerId];

  it('is the Function of the stack construct Reconciler, run by its rule Schedule', () => {
    expect(stack.reconciler.node.id).toBe('Reconciler');
    expect(stack.reconciler.reconcilerFunction.node.id).toBe('Function');
    expect(stack.reconciler.schedule.node.id).toBe('Schedule');
    expect(reconcilerId).toMatch(/^ReconcilerFunction/);
  });

  it('runs with a 60 s timeout and no reserved concurrency (overlapping runs lose the attempt condition, nothing else)', () => {
    expect(reconciler?.Properties?.Timeout).toBe(60);
    expect(reconciler?.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('gets the payment tables, the PG attempts table, the sandbox PG and its ledger, a 120 s grace period and 200 attempts per run from its environment', () => {
    expect(reconciler?.Properties?.Environment.Variables).toMatchObject({
      PAYMENT_GATEWAY: 'sandbox',
      PAYMENTS_TABLE_NAME: { Ref: 'PaymentsTable' },
      OUTBOX_TABLE_NAME: { Ref: 'OutboxTable' },
      IDEMPOTENCY_TABLE_NAME: { Ref: 'IdempotencyTable' },
      PG_ATTEMPTS_TABLE_NAME: { Ref: 'PgAttemptsTable' },
      SANDBOX_PG_LEDGER_TABLE_NAME: { Ref: 'SandboxPgLedgerTable' },
      OUTBOX_RETENTION_DAYS: '30',
      RECONCILER_GRACE_SECONDS: '120',
      RECONCILER_MAX_ATTEMPTS: '200',
    });
  });

  it('gets no queue, topic, subscriber list or secret', () => {
    const variables = reconciler?.Properties?.Environment.Variables as Record<string, unknown>;
    for (const name of ['PAYMENT_EVENTS_TOPIC_ARN', 'PAYMENT_EVENTS_QUEUE_URL', 'SUBSCRIBERS_JSON', 'PG_CALLBACK_SECRET_ARN', 'DELIVERIES_TABLE_NAME', 'INBOX_TABLE_NAME']) {
      expect(variables[name], name).toBeUndefined();
    }
  });

  it('is run every minute by one EventBridge rule with a plain rate() schedule targeting the function directly', () => {
    const rules = rulesTargeting(template, reconcilerId);
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect(rule.Properties?.EventPattern).toBeUndefined();
    expect(rule.Properties?.Targets).toEqual([
      { Id: 'Target0', Arn: { 'Fn::GetAtt': [reconcilerId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } },
    ]);
  });

  it('has its own rule, separate from the sweeper', () => {
    const sweeperRules = rulesTargeting(template, functionIdByEntry(template, SWEEPER_ENTRY)).map(([id]) => id);
    const reconcilerRules = rulesTargeting(template, reconcilerId).map(([id]) => id);
    expect(sweeperRules).toHaveLength(1);
    expect(reconcilerRules).toHaveLength(1);
    expect(reconcilerRules[0]).not.toBe(sweeperRules[0]);
    expect(reconcilerRules[0]).toMatch(/^ReconcilerSchedule/);
  });

  it('lets only that rule invoke the reconciler', () => {
    const [[ruleId]] = rulesTargeting(template, reconcilerId) as [[string, CfnResourceJson]];
    const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter((permission) =>
      JSON.stringify(permission.Properties?.FunctionName).includes(reconcilerId),
    );
    expect(permissions.map((permission) => permission.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [reconcilerId, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
  });

  it('drops a run that waited a whole interval and does not retry a failed one (the next run does the work)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: reconcilerId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('has no event source mapping (it reads the OpenAttempts index, not a stream or a queue)', () => {
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.filter((mapping) => mapping.Properties?.FunctionName.Ref === reconcilerId)).toEqual([]);
  });

  it.each([
    ['PaymentsTable', ['dynamodb:GetItem', 'dynamodb:PutItem']],
    ['OutboxTable', ['dynamodb:PutItem']],
    ['PgAttemptsTable', ['dynamodb:PutItem']],
    ['SandboxPgLedgerTable', ['dynamodb:GetItem']],
    ['IdempotencyTable', []],
  ])('grants exactly the actions it needs on the %s ARN', (tableId, actions) => {
    expect(actionsOnResource(template, reconcilerId, tableId)).toEqual(actions);
  });

  it('grants Query on the OpenAttempts index ARN only, and on no other index', () => {
    const onIndex = statementsOfFunction(template, reconcilerId).filter((statement) => JSON.stringify(statement.Resource).includes('/index/'));
    expect(onIndex).toEqual([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: INDEX_ARN }]);
  });

  it('grants nothing on a stream, the other tables, any queue or topic', () => {
    for (const id of ['OutboxTable', 'PaymentsTable', 'PgAttemptsTable']) {
      expect(actionsOnResource(template, reconcilerId, id, 'StreamArn'), `${id} stream`).toEqual([]);
    }
    for (const id of ['InboxTable', 'DeliveriesTable', 'PaymentEventsQueue', 'PaymentEventsDlq', 'RelayFailuresQueue', 'PaymentEventsTopic', 'PgWebhookSecret']) {
      expect(actionsOnResource(template, reconcilerId, id), id).toEqual([]);
    }
  });

  it('has no other DynamoDB, SNS, SQS, KMS or secret permission', () => {
    expect(grants(template, reconcilerId, /^(dynamodb|sns|sqs|secretsmanager|kms):/)).toEqual(
      [
        `dynamodb:GetItem on ${arn('PaymentsTable')}`,
        `dynamodb:GetItem on ${arn('SandboxPgLedgerTable')}`,
        `dynamodb:PutItem on ${arn('OutboxTable')}`,
        `dynamodb:PutItem on ${arn('PaymentsTable')}`,
        `dynamodb:PutItem on ${arn('PgAttemptsTable')}`,
        `dynamodb:Query on ${JSON.stringify(INDEX_ARN)}`,
      ].sort(),
    );
  });

  it('applies reconciler settings from the stack props', () => {
    // GIVEN / WHEN
    const { template: custom } = synthStack({
      reconciler: { interval: Duration.minutes(5), gracePeriod: Duration.minutes(5), maxAttemptsPerRun: 50, timeout: Duration.minutes(2) },
      alarmThresholds: { oldestOpenPgAttemptAgeAlarmThreshold: Duration.minutes(15) },
      retentionDays: 7,
    });
    // THEN
    const id = functionIdByEntry(custom, PG_RECONCILER_ENTRY);
    const fn = resourcesOfType(custom, 'AWS::Lambda::Function')[id];
    expect(fn?.Properties?.Timeout).toBe(120);
    expect(fn?.Properties?.Environment.Variables).toMatchObject({
      RECONCILER_GRACE_SECONDS: '300',
      RECONCILER_MAX_ATTEMPTS: '50',
      OUTBOX_RETENTION_DAYS: '7',
    });
    expect(rulesTargeting(custom, id).map(([, rule]) => rule.Properties?.ScheduleExpression)).toEqual(['rate(5 minutes)']);
    custom.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id }, MaximumEventAgeInSeconds: 300 });
    // ... and leaves the sweeper's schedule alone
    expect(rulesTargeting(custom, functionIdByEntry(custom, SWEEPER_ENTRY)).map(([, rule]) => rule.Properties?.ScheduleExpression)).toEqual([
      'rate(1 minute)',
    ]);
  });
});

describe('PgReconciler', () => {
  function arrange(options: { index?: boolean } = {}) {
    const stack = newTestStack();
    const table = (id: string) => new dynamodb.Table(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const pgAttemptsTable = new dynamodb.Table(stack, 'PgAttempts', {
      partitionKey: { name: 'paymentId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'operation', type: dynamodb.AttributeType.STRING },
    });
    if (options.index !== false) {
      pgAttemptsTable.addGlobalSecondaryIndex({
        indexName: OPEN_ATTEMPTS_INDEX,
        partitionKey: { name: OPEN_SHARD_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'startedAt', type: dynamodb.AttributeType.STRING },
      });
    }
    const props: PgReconcilerProps = {
      paymentsTable: table('Payments'),
      outboxTable: table('Outbox'),
      idempotencyTable: table('Idempotency'),
      pgAttemptsTable,
      paymentGateway: new TossPaymentGateway(stack, 'Toss'),
    };
    return { stack, props };
  }

  it('builds with defaults on a PG attempts table that has the index', () => {
    const { stack, props } = arrange();
    const reconciler = new PgReconciler(stack, 'Reconciler', props);
    expect(reconciler.interval.toMinutes()).toBe(1);
    expect(reconciler.gracePeriod.toSeconds()).toBe(120);
  });

  it('is bound to Toss: its settings and read access to the secret key, no ledger, and nothing more', () => {
    // GIVEN
    const { stack, props } = arrange();
    // WHEN
    const reconciler = new PgReconciler(stack, 'Reconciler', props);
    // THEN
    const template = Template.fromStack(stack);
    const id = stack.getLogicalId(reconciler.reconcilerFunction.function.node.defaultChild as CfnElement);
    const fn = resourcesOfType(template, 'AWS::Lambda::Function')[id];
    const secretId = stack.getLogicalId((props.paymentGateway as TossPaymentGateway).createdSecretKey!.node.defaultChild as CfnElement);
    expect(fn?.Properties?.Environment.Variables).toMatchObject({
      PAYMENT_GATEWAY: 'toss',
      TOSS_API_BASE_URL: 'https://api.tosspayments.com',
      TOSS_SECRET_KEY_ARN: { Ref: secretId },
      TOSS_VIRTUAL_ACCOUNT_BANK: '20',
      TOSS_VIRTUAL_ACCOUNT_VALID_HOURS: '72',
    });
    expect(fn?.Properties?.Environment.Variables.SANDBOX_PG_LEDGER_TABLE_NAME).toBeUndefined();
    expect(fn?.Properties?.Environment.Variables.TOSS_TIMEOUT_MS).toBeUndefined();
    const ids = ['Payments', 'Outbox', 'PgAttempts'].map((tableId) =>
      stack.getLogicalId(stack.node.findChild(tableId).node.defaultChild as CfnElement),
    );
    const [payments, outbox, attempts] = ids as [string, string, string];
    const index = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [attempts, 'Arn'] }, `/index/${OPEN_ATTEMPTS_INDEX}`]] };
    expect(grants(template, id, /^(dynamodb|sns|sqs|secretsmanager|kms):/)).toEqual(
      [
        `dynamodb:GetItem on ${arn(payments)}`,
        `dynamodb:PutItem on ${arn(outbox)}`,
        `dynamodb:PutItem on ${arn(payments)}`,
        `dynamodb:PutItem on ${arn(attempts)}`,
        `dynamodb:Query on ${JSON.stringify(index)}`,
        `secretsmanager:DescribeSecret on ${JSON.stringify({ Ref: secretId })}`,
        `secretsmanager:GetSecretValue on ${JSON.stringify({ Ref: secretId })}`,
      ].sort(),
    );
  });

  it('is bound to the sandbox: PAYMENT_GATEWAY=sandbox and GetItem only on its ledger', () => {
    // GIVEN
    const { stack, props } = arrange();
    const sandbox = new SandboxPaymentGateway(stack, 'Sandbox');
    // WHEN
    const reconciler = new PgReconciler(stack, 'Reconciler', { ...props, paymentGateway: sandbox });
    // THEN
    const template = Template.fromStack(stack);
    const id = stack.getLogicalId(reconciler.reconcilerFunction.function.node.defaultChild as CfnElement);
    const ledgerId = stack.getLogicalId(sandbox.ledger.node.defaultChild as dynamodb.CfnTable);
    expect(resourcesOfType(template, 'AWS::Lambda::Function')[id]?.Properties?.Environment.Variables).toMatchObject({
      PAYMENT_GATEWAY: 'sandbox',
      SANDBOX_PG_LEDGER_TABLE_NAME: { Ref: ledgerId },
    });
    expect(grants(template, id, /^secretsmanager:/)).toEqual([]);
    expect(actionsOnResource(template, id, ledgerId)).toEqual(['dynamodb:GetItem']);
    const onLedger = statementsOfFunction(template, id).filter((statement) =>
      resourcesOf(statement).some((resource) => JSON.stringify(resource).includes(ledgerId)),
    );
    expect(onLedger).toEqual([{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': [ledgerId, 'Arn'] } }]);
  });

  it.each([
    ['gracePeriod', { gracePeriod: Duration.seconds(0) }, 'gracePeriod must be between 1 second and 1 day (got 0 seconds)'],
    ['gracePeriod', { gracePeriod: Duration.hours(25) }, 'gracePeriod must be between 1 second and 1 day (got 1 day 1 hour)'],
    ['maxAttemptsPerRun', { maxAttemptsPerRun: 0 }, 'maxAttemptsPerRun must be an integer between 1 and 1000 (got 0)'],
    ['maxAttemptsPerRun', { maxAttemptsPerRun: 1001 }, 'maxAttemptsPerRun must be an integer between 1 and 1000 (got 1001)'],
    ['maxAttemptsPerRun', { maxAttemptsPerRun: 2.5 }, 'maxAttemptsPerRun must be an integer between 1 and 1000 (got 2.5)'],
    ['interval', { interval: Duration.seconds(30) }, 'interval must be between 1 minute and 1 hour (got 30 seconds)'],
    ['interval', { interval: Duration.hours(2) }, 'interval must be between 1 minute and 1 hour (got 2 hours)'],
    ['interval', { interval: Duration.seconds(90) }, 'interval must be a whole number of minutes (got 1 minute 30 seconds)'],
    ['timeout', { timeout: Duration.seconds(61) }, 'timeout must be between 1 second and 1 minute (got 1 minute 1 second)'],
    ['timeout', { interval: Duration.minutes(2), timeout: Duration.seconds(121) }, 'timeout must be between 1 second and 2 minutes (got 2 minutes 1 second)'],
    ['retentionDays', { retentionDays: 1 }, 'retentionDays must be an integer between 2 and 365 (got 1)'],
  ])('rejects an out-of-range %s', (_prop, settings, message) => {
    const { stack, props } = arrange();
    expect(() => new PgReconciler(stack, 'Reconciler', { ...props, ...settings })).toThrow(`ConstructTestStack/Reconciler: ${message}`);
  });

  it.each([
    ['the bounds', { gracePeriod: Duration.seconds(1), maxAttemptsPerRun: 1, interval: Duration.minutes(1), timeout: Duration.minutes(1) }],
    ['the upper bounds', { gracePeriod: Duration.hours(24), maxAttemptsPerRun: 1000, interval: Duration.hours(1), timeout: Duration.minutes(15) }],
  ])('accepts %s', (_case, settings) => {
    const { stack, props } = arrange();
    expect(() => new PgReconciler(stack, 'Reconciler', { ...props, ...settings })).not.toThrow();
  });

  it('rejects a PG attempts table without the OpenAttempts index', () => {
    const { stack, props } = arrange({ index: false });
    expect(() => new PgReconciler(stack, 'Reconciler', props)).toThrow(
      'ConstructTestStack/Reconciler: pgAttemptsTable must have the OpenAttempts index (see PaymentTables)',
    );
  });
});

describe('PG reconciler and the API functions', () => {
  it('refuses a grace period that a confirm or cancel still in flight could outlast', () => {
    // GIVEN a grace period no longer than the API functions' timeout (10 s)
    // WHEN the stack is synthesized THEN it fails, naming both durations
    expect(() => synthStack({ reconciler: { gracePeriod: Duration.seconds(10) } })).toThrow(
      "reconciler.gracePeriod (10 seconds) must be longer than the API functions' timeout (10 seconds)",
    );
    expect(() => synthStack({ reconciler: { gracePeriod: Duration.seconds(11) } })).not.toThrow();
  });
});
