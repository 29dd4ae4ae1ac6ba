import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { paymentApiRoutes } from '../../lib/constructs/payment-api';
import { ENTRY_METADATA_KEY, PaymentFunction } from '../../lib/constructs/payment-function';
import { actionsOf, newTestStack, type PolicyStatementJson, resourcesOf, resourcesOfType, synthAppStack } from '../support/cdk-stack';

const ALL_ENTRIES = [
  'lambdas/functions/cancel-payment/entry.ts',
  'lambdas/functions/confirm-payment/entry.ts',
  'lambdas/functions/create-payment/entry.ts',
  'lambdas/functions/example-consumer/entry.ts',
  'lambdas/functions/get-payment/entry.ts',
  'lambdas/functions/list-payment-deliveries/entry.ts',
  'lambdas/functions/list-payment-events/entry.ts',
  'lambdas/functions/outbox-relay/entry.ts',
  'lambdas/functions/outbox-sweeper/entry.ts',
  'lambdas/functions/pg-deposit-callback/entry.ts',
  'lambdas/functions/pg-reconciler/entry.ts',
  'lambdas/functions/webhook-dispatcher/entry.ts',
];

describe('functions of the stack', () => {
  // GIVEN the stack as the app builds it (one queue subscriber, one webhook subscriber)
  const { template } = synthAppStack();
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');

  it('defines one function per handler entry, each carrying its repo-relative entry as Metadata', () => {
    template.resourceCountIs('AWS::Lambda::Function', ALL_ENTRIES.length);
    const entries = Object.values(functions).map((fn) => fn.Metadata?.[ENTRY_METADATA_KEY] as string);
    expect(entries.sort()).toEqual(ALL_ENTRIES);
  });

  it.each(ALL_ENTRIES)('%s runs nodejs22.x on arm64 with active tracing, handler index.handler', (entry) => {
    template.hasResource('AWS::Lambda::Function', {
      Metadata: Match.objectLike({ [ENTRY_METADATA_KEY]: entry }),
      Properties: Match.objectLike({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Handler: 'index.handler',
      }),
    });
  });

  it('gives every function its own log group with a retention', () => {
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    for (const fn of Object.values(functions)) {
      const logGroupId = (fn.Properties?.LoggingConfig.LogGroup as { Ref: string }).Ref;
      expect(logGroups[logGroupId]?.Properties?.RetentionInDays).toBe(30);
    }
    const used = Object.values(functions).map((fn) => fn.Properties?.LoggingConfig.LogGroup.Ref);
    expect(new Set(used).size).toBe(ALL_ENTRIES.length);
  });

  it('sets the Powertools and source-map defaults on every function', () => {
    for (const fn of Object.values(functions)) {
      expect(fn.Properties?.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'payment-outbox',
        POWERTOOLS_METRICS_NAMESPACE: 'PaymentOutbox',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('gives every function its own role, without AWS managed policies', () => {
    const roleIds = Object.values(functions).map((fn) => fn.Properties?.Role['Fn::GetAtt'][0] as string);
    expect(new Set(roleIds).size).toBe(ALL_ENTRIES.length);
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    for (const roleId of roleIds) {
      expect(roles[roleId]?.Properties?.ManagedPolicyArns).toBeUndefined();
      expect(roles[roleId]?.Properties?.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    }
  });

  it('keeps API function timeouts within the 29 s API Gateway integration limit', () => {
    const routes = paymentApiRoutes('sandbox');
    const apiEntries = routes.map((route) => route.entry);
    const apiFunctions = Object.values(functions).filter((fn) => apiEntries.includes(fn.Metadata?.[ENTRY_METADATA_KEY]));
    expect(apiFunctions).toHaveLength(routes.length);
    for (const fn of apiFunctions) {
      expect(fn.Properties?.Timeout).toBeLessThanOrEqual(29);
    }
  });
});

describe('PaymentFunction', () => {
  const entry = 'lambdas/functions/get-payment/entry.ts';

  it('merges the caller environment over the defaults', () => {
    // GIVEN
    const stack = newTestStack();
    // WHEN
    new PaymentFunction(stack, 'Fn', {
      entry,
      serviceName: 'payments-api',
      environment: { NODE_OPTIONS: '--enable-source-maps --max-old-space-size=200', EXTRA: 'x' },
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'payments-api',
          POWERTOOLS_METRICS_NAMESPACE: 'PaymentOutbox',
          NODE_OPTIONS: '--enable-source-maps --max-old-space-size=200',
          EXTRA: 'x',
        },
      },
    });
  });

  it('records the entry as CloudFormation Metadata on the CfnFunction', () => {
    const stack = newTestStack();
    new PaymentFunction(stack, 'Fn', { entry });
    Template.fromStack(stack).hasResource('AWS::Lambda::Function', {
      Metadata: Match.objectLike({ 'payment-outbox:entry': entry }),
    });
  });

  it('binds a table: sets the variable and grants read only for read access', () => {
    // GIVEN
    const stack = newTestStack();
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const fn = new PaymentFunction(stack, 'Fn', { entry });
    // WHEN
    fn.bindTable('MY_TABLE', table, 'read');
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MY_TABLE: { Ref: stack.getLogicalId(table.node.defaultChild as dynamodb.CfnTable) } }) },
    });
    const statements = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties?.PolicyDocument.Statement as { Action: string[] | string }[],
    );
    const actions = statements.flatMap((statement) => statement.Action);
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).not.toContain('dynamodb:PutItem');
  });

  it('binds a table with narrow access: exactly the named actions, on the table ARN only', () => {
    // GIVEN
    const stack = newTestStack();
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const fn = new PaymentFunction(stack, 'Fn', { entry });
    // WHEN
    fn.bindTable('MY_TABLE', table, { actions: ['UpdateItem', 'Query'] });
    // THEN
    const tableId = stack.getLogicalId(table.node.defaultChild as dynamodb.CfnTable);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } },
        ]),
      },
    });
    const actions = Object.values(resourcesOfType(Template.fromStack(stack), 'AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties?.PolicyDocument.Statement as { Action: string[] | string }[])
      .flatMap((statement) => statement.Action)
      .filter((action) => action.startsWith('dynamodb:'));
    expect(actions.sort()).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  it('binds a table with queryIndexes: Query on each named index ARN, never index/*', () => {
    // GIVEN a table with a GSI (CDK's own grants would cover index/*)
    const stack = newTestStack();
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    table.addGlobalSecondaryIndex({ indexName: 'ByShard', partitionKey: { name: 'shard', type: dynamodb.AttributeType.STRING } });
    const fn = new PaymentFunction(stack, 'Fn', { entry });
    // WHEN
    fn.bindTable('MY_TABLE', table, { actions: ['Query'], queryIndexes: ['ByShard'] });
    // THEN
    const tableId = stack.getLogicalId(table.node.defaultChild as dynamodb.CfnTable);
    const template = Template.fromStack(stack);
    const grants = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties?.PolicyDocument.Statement as PolicyStatementJson[])
      .flatMap((statement) => actionsOf(statement).flatMap((action) => resourcesOf(statement).map((resource) => ({ action, resource }))))
      .filter(({ action }) => action.startsWith('dynamodb:'));
    expect(grants).toEqual(
      expect.arrayContaining([
        { action: 'dynamodb:Query', resource: { 'Fn::GetAtt': [tableId, 'Arn'] } },
        { action: 'dynamodb:Query', resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/ByShard']] } },
      ]),
    );
    expect(grants).toHaveLength(2);
    expect(JSON.stringify(resourcesOfType(template, 'AWS::IAM::Policy'))).not.toContain('index/*');
  });

  it('binds read and readWrite on the table ARN only, even when the table has an index', () => {
    // GIVEN
    const stack = newTestStack();
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    table.addGlobalSecondaryIndex({ indexName: 'ByShard', partitionKey: { name: 'shard', type: dynamodb.AttributeType.STRING } });
    // WHEN
    new PaymentFunction(stack, 'Reader', { entry }).bindTable('MY_TABLE', table, 'read');
    new PaymentFunction(stack, 'Writer', { entry }).bindTable('MY_TABLE', table, 'readWrite');
    // THEN
    const policies = JSON.stringify(resourcesOfType(Template.fromStack(stack), 'AWS::IAM::Policy'));
    expect(policies).not.toContain('/index/');
    expect(policies).toContain('dynamodb:PutItem');
  });

  it('refuses a narrow access naming an index the table does not have, or no action', () => {
    const stack = newTestStack();
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const fn = new PaymentFunction(stack, 'Fn', { entry });
    expect(() => fn.bindTable('MY_TABLE', table, { actions: ['Query'], queryIndexes: ['Missing'] })).toThrow(
      'ConstructTestStack/Fn: table ConstructTestStack/T has no index named Missing',
    );
    expect(() => fn.bindTable('OTHER_TABLE', table, { actions: [] })).toThrow(
      'ConstructTestStack/Fn: a narrow table access needs at least one action',
    );
  });

  it('refuses to bind the same environment variable twice', () => {
    const stack = newTestStack();
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const fn = new PaymentFunction(stack, 'Fn', { entry });
    fn.bindTable('MY_TABLE', table, 'read');
    expect(() => fn.bindTable('MY_TABLE', table, 'readWrite')).toThrow(
      'ConstructTestStack/Fn: environment variable MY_TABLE is already bound',
    );
  });

  it.each([
    ['/abs/lambdas/functions/get-payment/entry.ts', 'entry must be a repo-relative path'],
    ['lambdas/../../etc/passwd.ts', 'entry must be a repo-relative path'],
    ['lambdas/functions/get-payment/entry', 'entry must be a repo-relative path'],
    ['lambdas/functions/does-not-exist.ts', 'entry lambdas/functions/does-not-exist.ts does not exist'],
  ])('rejects entry %s', (badEntry, message) => {
    const stack = newTestStack();
    expect(() => new PaymentFunction(stack, 'Fn', { entry: badEntry })).toThrow(message);
  });

  it('reserves concurrency when asked, and exposes the Powertools service name and namespace it sets', () => {
    const stack = newTestStack();
    const fn = new PaymentFunction(stack, 'Fn', { entry, reservedConcurrentExecutions: 1, serviceName: 'svc', metricsNamespace: 'Ns' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'svc', POWERTOOLS_METRICS_NAMESPACE: 'Ns' }) },
    });
    expect([fn.serviceName, fn.metricsNamespace]).toEqual(['svc', 'Ns']);
  });

  it.each([
    [{ memorySize: 64 }, 'memorySize must be an integer between 128 and 10240 (got 64)'],
    [{ reservedConcurrentExecutions: 0 }, 'reservedConcurrentExecutions must be an integer between 1 and 1000 (got 0)'],
  ])('rejects %o', (overrides, message) => {
    const stack = newTestStack();
    expect(() => new PaymentFunction(stack, 'Fn', { entry, ...overrides })).toThrow(message);
  });
});
