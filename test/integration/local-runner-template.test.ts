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
import { resolveFunctionEnvironment } from '../../local/runtime/function-environment';
import { resolveString, type LocalRegistry } from '../../local/template/intrinsics';
import { readTemplate, type RouteSpec } from '../../local/template/resolve';
import type { CfnTemplate, CfnValue } from '../../local/template/types';

const template = inject('localTemplate');
const model = readTemplate(template);

const registry: LocalRegistry = {
  region: 'us-east-1',
  stackName: 'PaymentOutbox',
  tables: new Map([['OutboxTable', { tableName: 'OutboxTable', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/OutboxTable', streamArn: 'arn:stream' }]]),
  queues: new Map([['Q', { queueName: 'q.fifo', url: 'http://sqs.us-east-1.localhost:4566/000000000000/q.fifo', arn: 'arn:aws:sqs:us-east-1:000000000000:q.fifo' }]]),
  topics: new Map([['Topic', { topicName: 't.fifo', arn: 'arn:aws:sns:us-east-1:000000000000:t.fifo' }]]),
  functions: new Map([['Fn', { functionName: 'Fn', arn: 'arn:aws:lambda:us-east-1:000000000000:function:Fn' }]]),
  resourceTypes: {
    OutboxTable: 'AWS::DynamoDB::Table',
    Q: 'AWS::SQS::Queue',
    Topic: 'AWS::SNS::Topic',
    Fn: 'AWS::Lambda::Function',
    Key: 'AWS::KMS::Key',
    Secret: 'AWS::SecretsManager::Secret',
    HookSecret: 'AWS::SecretsManager::Secret',
  },
};

/** A template fragment: a FIFO topic, two FIFO queues, and their subscriptions (one filtered). */
const fanOutFragment: CfnTemplate = {
  Resources: {
    Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'events.fifo', FifoTopic: true, ContentBasedDeduplication: false, KmsMasterKeyId: 'alias/aws/sns' } },
    All: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'all.fifo', FifoQueue: true } },
    Approved: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'approved.fifo', FifoQueue: true } },
    AllSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: { Protocol: 'sqs', TopicArn: { Ref: 'Topic' }, Endpoint: { 'Fn::GetAtt': ['All', 'Arn'] }, RawMessageDelivery: true, FilterPolicyScope: 'MessageAttributes' },
    },
    ApprovedSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sqs',
        TopicArn: { Ref: 'Topic' },
        Endpoint: { 'Fn::GetAtt': ['Approved', 'Arn'] },
        RawMessageDelivery: true,
        FilterPolicyScope: 'MessageAttributes',
        FilterPolicy: { eventType: ['payment.approved'] },
      },
    },
  },
};

describe('reading the synthesized template', () => {
  it('finds a function with its entry for every function of the stack, and every API method as a route', () => {
    const functionCount = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').length;
    expect(model.functions.length + model.skippedFunctions.length).toBe(functionCount);
    expect(model.functions.map((f) => f.entry)).toEqual(expect.arrayContaining(['lambdas/functions/outbox-relay/entry.ts', 'lambdas/functions/example-consumer/entry.ts']));
    expect(model.routes.map((r) => `${r.httpMethod} ${r.path}`)).toEqual(
      expect.arrayContaining(['POST /payments', 'GET /payments/{paymentId}', 'POST /payments/{paymentId}/confirm', 'POST /pg/webhooks/deposits']),
    );
  });

  it('reads the relay mapping settings as the template sets them', () => {
    const relay = model.functions.find((f) => f.shortName === 'outbox-relay');
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

describe('reading SNS topics and subscriptions', () => {
  it('reads a FIFO topic with its attributes and each SQS subscription with raw delivery, filter policy and scope', () => {
    const fragment = readTemplate(fanOutFragment);
    expect(fragment.topics).toEqual([{ logicalId: 'Topic', topicName: 'events.fifo', fifo: true, attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false' } }]);
    expect(fragment.subscriptions).toEqual([
      { logicalId: 'AllSubscription', topicLogicalId: 'Topic', queueLogicalId: 'All', rawMessageDelivery: true, filterPolicyScope: 'MessageAttributes' },
      {
        logicalId: 'ApprovedSubscription',
        topicLogicalId: 'Topic',
        queueLogicalId: 'Approved',
        rawMessageDelivery: true,
        filterPolicy: '{"eventType":["payment.approved"]}',
        filterPolicyScope: 'MessageAttributes',
      },
    ]);
  });

  it('gives the synthesized stack one FIFO topic that every subscriber queue is subscribed to with raw delivery', () => {
    expect(model.topics.map((t) => [t.topicName, t.fifo])).toEqual([['payment-events.fifo', true]]);
    const subscribed = model.subscriptions.map((s) => model.queues.find((q) => q.logicalId === s.queueLogicalId)?.queueName).sort();
    expect(subscribed).toEqual(expect.arrayContaining(['notifications.fifo', 'payment-events.fifo']));
    expect(model.subscriptions.every((s) => s.rawMessageDelivery && s.topicLogicalId === model.topics[0]?.logicalId)).toBe(true);
  });

  it('refuses a subscription it cannot play (not sqs, or an endpoint outside the template), naming the resource', () => {
    const withSubscription = (properties: Record<string, CfnValue>): CfnTemplate => ({
      Resources: { ...fanOutFragment.Resources, Odd: { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: { Ref: 'Topic' }, ...properties } } },
    });
    expect(() => readTemplate(withSubscription({ Protocol: 'https', Endpoint: 'https://example.com/hook' }))).toThrow(
      new LocalStartupError('template resource Odd: only SNS subscriptions with Protocol sqs are played locally, got "https"'),
    );
    expect(() => readTemplate(withSubscription({ Protocol: 'sqs', Endpoint: 'arn:aws:sqs:eu-west-1:123456789012:elsewhere' }))).toThrow(
      new LocalStartupError('template resource Odd: Endpoint must be Fn::GetAtt <queue>.Arn of a queue in this template'),
    );
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

  it('resolves a Ref to a topic to its ARN, as CloudFormation does, and its TopicName attribute', () => {
    expect(resolveString({ Ref: 'Topic' }, registry, 'test')).toBe('arn:aws:sns:us-east-1:000000000000:t.fifo');
    expect(resolveString({ 'Fn::GetAtt': ['Topic', 'TopicName'] }, registry, 'test')).toBe('t.fifo');
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

  it('replaces a dispatcher’s WEBHOOK_SECRET_ARN with the local key of that secret', () => {
    const env = resolveFunctionEnvironment(
      {
        logicalId: 'Fn',
        entry: 'lambdas/functions/webhook-dispatcher/entry.ts',
        exportName: 'handler',
        shortName: 'webhook-dispatcher',
        timeoutSeconds: 30,
        memoryMb: 256,
        environment: { SUBSCRIBER_NAME: 'shop', WEBHOOK_SECRET_ARN: { Ref: 'HookSecret' }, SUBSCRIBER_QUEUE_URL: { Ref: 'Q' } },
      },
      registry,
      { pgWebhookSecret: 'k3y', webhookSecrets: new Map([['HookSecret', 'sh0p']]) },
    );
    expect(env).toEqual({ SUBSCRIBER_NAME: 'shop', WEBHOOK_SECRET: 'sh0p', SUBSCRIBER_QUEUE_URL: 'http://sqs.us-east-1.localhost:4566/000000000000/q.fifo' });
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
