/**
 * The local runner's pure parts, on the real synthesized template where one is involved: how the
 * template is read, how CloudFormation values resolve locally, event filtering, API routing, the
 * merged handler environment and the Java version check. No emulator is started.
 */
import { describe, expect, it, inject } from 'vitest';
import { Router } from '../../local/api/router';
import { parseJavaMajor } from '../../local/emulators/java';
import { LocalStartupError } from '../../local/errors';
import { compileFilters } from '../../local/pollers/event-filter';
import { mergeEnvironments, resolveFunctionEnvironment } from '../../local/runtime/function-environment';
import { resolveString, type LocalRegistry } from '../../local/template/intrinsics';
import { readTemplate, type RouteSpec } from '../../local/template/resolve';

const template = inject('localTemplate');
const model = readTemplate(template);

const registry: LocalRegistry = {
  region: 'us-east-1',
  stackName: 'PaymentOutbox',
  tables: new Map([['OutboxTable', { tableName: 'OutboxTable', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/OutboxTable', streamArn: 'arn:stream' }]]),
  queues: new Map([['Q', { queueName: 'q.fifo', url: 'http://sqs.us-east-1.localhost:4566/000000000000/q.fifo', arn: 'arn:aws:sqs:us-east-1:000000000000:q.fifo' }]]),
  functions: new Map([['Fn', { functionName: 'Fn', arn: 'arn:aws:lambda:us-east-1:000000000000:function:Fn' }]]),
  resourceTypes: { OutboxTable: 'AWS::DynamoDB::Table', Q: 'AWS::SQS::Queue', Fn: 'AWS::Lambda::Function', Key: 'AWS::KMS::Key', Secret: 'AWS::SecretsManager::Secret' },
};

describe('reading the synthesized template', () => {
  it('finds a function with its entry for every function of the stack, and every API method as a route', () => {
    const functionCount = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').length;
    expect(model.functions.length + model.skippedFunctions.length).toBe(functionCount);
    expect(model.functions.map((f) => f.entry)).toEqual(expect.arrayContaining(['lambdas/handlers/relay.ts', 'lambdas/handlers/example-consumer.ts']));
    expect(model.routes.map((r) => `${r.httpMethod} ${r.path}`)).toEqual(
      expect.arrayContaining(['POST /payments', 'GET /payments/{paymentId}', 'POST /payments/{paymentId}/confirm', 'POST /pg/webhooks/deposits']),
    );
  });

  it('reads the relay mapping settings as the template sets them', () => {
    const relay = model.functions.find((f) => f.shortName === 'relay');
    const mapping = model.streamMappings.find((m) => m.functionLogicalId === relay?.logicalId);
    const cfn = template.Resources[mapping?.logicalId as string]?.Properties ?? {};
    expect(mapping).toMatchObject({
      batchSize: cfn.BatchSize,
      startingPosition: 'TRIM_HORIZON',
      filterPatterns: ['{"eventName":["INSERT"]}'],
      bisectBatchOnFunctionError: cfn.BisectBatchOnFunctionError,
      maximumRetryAttempts: cfn.MaximumRetryAttempts,
      maximumRecordAgeInSeconds: cfn.MaximumRecordAgeInSeconds,
      reportBatchItemFailures: true,
      onFailureQueueLogicalId: expect.any(String),
    });
  });

  it('reads rate(...) schedule rules with their period and target function', () => {
    const rules = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties?.ScheduleExpression);
    expect(model.schedules.map((s) => s.logicalId).sort()).toEqual(rules.map(([id]) => id).sort());
    for (const schedule of model.schedules) {
      const minutes = /^rate\((\d+) minutes?\)$/.exec(schedule.expression)?.[1];
      if (minutes) expect(schedule.rateSeconds).toBe(Number(minutes) * 60);
      expect(model.functions.map((f) => f.logicalId)).toContain(schedule.functionLogicalId);
    }
  });

  it('lists every dead-letter queue before the queue that redrives to it', () => {
    const order = model.queues.map((q) => q.logicalId);
    for (const queue of model.queues.filter((q) => q.redrive)) {
      expect(order.indexOf(queue.redrive?.deadLetterQueueLogicalId as string)).toBeLessThan(order.indexOf(queue.logicalId));
    }
  });

  it('refuses an event source it cannot play, naming the resource', () => {
    const broken = {
      Resources: {
        ...template.Resources,
        Kinesis: { Type: 'AWS::Kinesis::Stream', Properties: {} },
        KinesisMapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: { FunctionName: { Ref: model.functions[0]?.logicalId as string }, EventSourceArn: { 'Fn::GetAtt': ['Kinesis', 'Arn'] } },
        },
      },
    };
    expect(() => readTemplate(broken)).toThrow(new LocalStartupError('template resource KinesisMapping: only DynamoDB stream and SQS event sources of this template can be played locally'));
  });
});

describe('resolving CloudFormation values locally', () => {
  it('resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and pseudo parameters', () => {
    expect(resolveString({ Ref: 'Q' }, registry, 'test')).toBe('http://sqs.us-east-1.localhost:4566/000000000000/q.fifo');
    expect(resolveString({ Ref: 'OutboxTable' }, registry, 'test')).toBe('OutboxTable');
    expect(resolveString({ 'Fn::GetAtt': ['Q', 'Arn'] }, registry, 'test')).toBe('arn:aws:sqs:us-east-1:000000000000:q.fifo');
    expect(resolveString({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':x:', { Ref: 'AWS::Region' }]] }, registry, 'test')).toBe('arn:aws:x:us-east-1');
    expect(resolveString({ 'Fn::Sub': '${OutboxTable}/${Q.QueueName}@${AWS::AccountId}' }, registry, 'test')).toBe('OutboxTable/q.fifo@000000000000');
    expect(resolveString({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] }, registry, 'test')).toBe('b');
  });

  it('gives a resource that is not emulated a placeholder ARN and reports it', () => {
    const reported: string[] = [];
    const value = resolveString({ 'Fn::GetAtt': ['Key', 'Arn'] }, registry, 'Fn environment KEY', (id, type) => reported.push(`${id} ${type}`));
    expect(value).toBe('arn:aws:kms:us-east-1:000000000000:local/Key');
    expect(reported).toEqual(['Key AWS::KMS::Key']);
  });

  it('replaces the PG webhook secret reference with the local key and resolves the rest', () => {
    const env = resolveFunctionEnvironment(
      {
        logicalId: 'Fn',
        entry: 'x.ts',
        exportName: 'handler',
        shortName: 'x',
        timeoutSeconds: 3,
        memoryMb: 128,
        environment: { PG_WEBHOOK_SECRET_ARN: { Ref: 'Secret' }, OUTBOX_TABLE_NAME: { Ref: 'OutboxTable' }, NODE_OPTIONS: '--enable-source-maps' },
      },
      registry,
      { pgWebhookSecret: 'k3y' },
    );
    expect(env).toEqual({ PG_WEBHOOK_SECRET: 'k3y', OUTBOX_TABLE_NAME: 'OutboxTable' });
  });

  it('merges the functions’ environments, keeping service names per function and refusing two values for one setting', () => {
    const merged = mergeEnvironments(
      new Map<string, Record<string, string>>([
        ['A', { POWERTOOLS_SERVICE_NAME: 'api', TABLE: 't' }],
        ['B', { POWERTOOLS_SERVICE_NAME: 'relay', TABLE: 't', QUEUE: 'q' }],
      ]),
    );
    expect(merged.shared).toEqual({ TABLE: 't', QUEUE: 'q' });
    expect(merged.perFunction.get('B')).toEqual({ POWERTOOLS_SERVICE_NAME: 'relay' });
    expect(() => mergeEnvironments(new Map([['A', { TABLE: 't1' }], ['B', { TABLE: 't2' }]]))).toThrow(/functions A and B set TABLE to different values/);
  });
});

describe('event filtering (FilterCriteria)', () => {
  it('matches literal values, nested keys and the documented operators', () => {
    const insertOnly = compileFilters(['{"eventName":["INSERT"]}']);
    expect([insertOnly({ eventName: 'INSERT' }), insertOnly({ eventName: 'REMOVE' }), insertOnly({ eventName: 'UNKNOWN_TO_SDK_VERSION' })]).toEqual([true, false, false]);

    const nested = compileFilters(['{"dynamodb":{"NewImage":{"type":{"S":[{"prefix":"payment."}]},"amount":{"N":[{"exists":true}]}}}}']);
    expect(nested({ dynamodb: { NewImage: { type: { S: 'payment.approved' }, amount: { N: '5' } } } })).toBe(true);
    expect(nested({ dynamodb: { NewImage: { type: { S: 'refund.created' }, amount: { N: '5' } } } })).toBe(false);
    expect(nested({ dynamodb: { NewImage: { type: { S: 'payment.approved' } } } })).toBe(false);

    const operators = compileFilters(['{"a":[{"anything-but":["x"]}],"n":[{"numeric":[">",1,"<=",3]}],"s":[{"suffix":".fifo"}]}']);
    expect(operators({ a: 'y', n: 3, s: 'q.fifo' })).toBe(true);
    expect(operators({ a: 'x', n: 3, s: 'q.fifo' })).toBe(false);
    expect(operators({ a: 'y', n: 4, s: 'q.fifo' })).toBe(false);
  });

  it('passes a record that matches any of several filters, and everything without filters', () => {
    const either = compileFilters(['{"eventName":["INSERT"]}', '{"eventName":["MODIFY"]}']);
    expect([either({ eventName: 'INSERT' }), either({ eventName: 'MODIFY' }), either({ eventName: 'REMOVE' })]).toEqual([true, true, false]);
    expect(compileFilters([])({ anything: 1 })).toBe(true);
  });

  it('refuses an operator it does not know instead of silently dropping records', () => {
    expect(() => compileFilters(['{"a":[{"wildcard":"x*"}]}'])).toThrow(/filter operator wildcard is not supported locally/);
  });
});

describe('API routing', () => {
  const route = (httpMethod: string, path: string): RouteSpec => ({ methodLogicalId: `${httpMethod}${path}`, httpMethod, path, authorizationType: 'NONE', functionLogicalId: 'Fn' });
  const router = new Router([
    route('GET', '/payments/{paymentId}'),
    route('GET', '/payments/search'),
    route('POST', '/payments/{paymentId}/confirm'),
    route('ANY', '/files/{proxy+}'),
  ]);

  it('prefers a literal segment over a parameter, decodes parameters and supports greedy paths', () => {
    expect(router.match('GET', '/payments/search')).toMatchObject({ kind: 'match', match: { route: { path: '/payments/search' }, pathParameters: {} } });
    expect(router.match('GET', '/payments/p%201')).toMatchObject({ kind: 'match', match: { pathParameters: { paymentId: 'p 1' } } });
    expect(router.match('PUT', '/files/a/b.txt')).toMatchObject({ kind: 'match', match: { pathParameters: { proxy: 'a/b.txt' } } });
  });

  it('tells an unknown path from a known path with another method', () => {
    expect(router.match('GET', '/nothing')).toEqual({ kind: 'not-found' });
    expect(router.match('DELETE', '/payments/p1')).toEqual({ kind: 'method-not-allowed', allowed: ['GET'] });
    expect(router.match('GET', '/payments/p1/confirm')).toEqual({ kind: 'method-not-allowed', allowed: ['POST'] });
  });
});

describe('Java version check', () => {
  it('reads the major version from `java -version` in its old and new formats', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('no version here')).toBeUndefined();
  });
});
