/**
 * The local runner itself, on its real emulators: resources created as the synthesized template
 * defines them, the queue-URL host problem solved, API routing and limits, the relay playing its
 * event source mapping (with an injected crash), and the TTL sweeper.
 */
import { lookup } from 'node:dns/promises';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CfnResource } from '../../local/template/types';
import {
  callApi,
  drainQueue,
  PAYMENT_EVENTS_DLQ,
  PAYMENT_EVENTS_QUEUE,
  PAYMENT_EVENTS_TOPIC,
  receiveMessages,
  startTestStack,
  type LocalStack,
} from '../support/local-stack-harness';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ consumers: false });
});

afterAll(async () => {
  await stack?.stop();
});

// Each test starts from an empty events queue: everything published so far is read and deleted.
beforeEach(async () => {
  await stack.pollers.stream('outbox-relay').waitForIdle();
  await drainQueue(stack, PAYMENT_EVENTS_QUEUE);
});

const resourcesOfType = (type: string): [string, CfnResource][] =>
  Object.entries(stack.template.Resources).filter(([, r]) => r.Type === type);

async function createPayment(orderId: string): Promise<string> {
  const created = await callApi(stack, 'POST', '/payments', { body: { orderId, amount: 15_000, currency: 'KRW', method: 'CARD' } });
  expect(created.status).toBe(201);
  return (created.body as { paymentId: string }).paymentId;
}

async function itemCount(tableFragment: string): Promise<number> {
  const { Count } = await stack.clients.documents.send(new ScanCommand({ TableName: stack.tableName(tableFragment), Select: 'COUNT' }));
  return Count ?? 0;
}

describe('resources from the synthesized template', () => {
  it('creates exactly the tables the template defines, with their keys, stream and TTL attribute', async () => {
    const templateTables = resourcesOfType('AWS::DynamoDB::Table');
    const { TableNames = [] } = await stack.clients.dynamodb.send(new ListTablesCommand({}));

    expect(TableNames).toHaveLength(templateTables.length);
    for (const [logicalId, resource] of templateTables) {
      const props = resource.Properties ?? {};
      const { Table } = await stack.clients.dynamodb.send(new DescribeTableCommand({ TableName: logicalId }));
      expect(Table?.KeySchema).toEqual(props.KeySchema);
      expect(Table?.StreamSpecification?.StreamViewType).toEqual((props.StreamSpecification as { StreamViewType?: string } | undefined)?.StreamViewType);
      expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(
        ((props.GlobalSecondaryIndexes as { IndexName: string }[] | undefined) ?? []).map((i) => i.IndexName).sort(),
      );
      const ttl = props.TimeToLiveSpecification as { AttributeName: string } | undefined;
      const { TimeToLiveDescription } = await stack.clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: logicalId }));
      expect(TimeToLiveDescription?.AttributeName).toBe(ttl?.AttributeName);
    }
  });

  it('creates exactly the queues the template defines; the FIFO queue redrives to its FIFO DLQ after maxReceiveCount', async () => {
    const templateQueues = resourcesOfType('AWS::SQS::Queue');
    const { QueueUrls = [] } = await stack.clients.sqs.send(new ListQueuesCommand({}));
    expect(QueueUrls).toHaveLength(templateQueues.length);

    const [, eventsQueue] = templateQueues.find(([, r]) => r.Properties?.QueueName === PAYMENT_EVENTS_QUEUE) ?? [];
    const { Attributes = {} } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl(PAYMENT_EVENTS_QUEUE), AttributeNames: ['All'] }),
    );
    expect(Attributes.FifoQueue).toBe('true');
    expect(Attributes.VisibilityTimeout).toBe(String(eventsQueue?.Properties?.VisibilityTimeout));
    const redrive = JSON.parse(Attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string; maxReceiveCount?: number };
    expect(redrive.deadLetterTargetArn).toBe(stack.queues.get(PAYMENT_EVENTS_DLQ)?.arn);
    expect(Number(redrive.maxReceiveCount)).toBe((eventsQueue?.Properties?.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount);
  });

  it('writes endpoints with queue URLs whose host does not resolve, and its SQS client reaches them through the endpoint', async () => {
    const url = new URL(stack.queueUrl(PAYMENT_EVENTS_DLQ));
    expect(url.hostname).toBe(`sqs.${stack.endpoints.region}.localhost`);
    expect(stack.endpoints.queues[PAYMENT_EVENTS_DLQ]).toBe(url.href);
    await expect(lookup(url.hostname)).rejects.toThrow(/ENOTFOUND|EAI_AGAIN/);

    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: url.href, MessageBody: 'via endpoint', MessageGroupId: 'g', MessageDeduplicationId: 'd1' }),
    );
    const received = await receiveMessages(stack, PAYMENT_EVENTS_DLQ, { count: 1 });
    expect(received.map((m) => m.Body)).toEqual(['via endpoint']);
  });

  it('gives each function its own resolved environment, with the PG secret reference replaced by a local secret', () => {
    const environmentOf = (name: string) => [...stack.functions.values()].find((fn) => fn.spec.shortName === name)?.environment;
    expect(stack.endpoints.snsEndpoint).toBe(stack.endpoints.sqsEndpoint);
    expect(environmentOf('outbox-relay')?.PAYMENT_EVENTS_TOPIC_ARN).toBe(stack.endpoints.topics[PAYMENT_EVENTS_TOPIC]);
    expect(environmentOf('outbox-relay')?.PAYMENT_EVENTS_QUEUE_URL).toBeUndefined();
    expect(environmentOf('pg-deposit-callback')?.PG_CALLBACK_SECRET).toBe(stack.endpoints.pgCallbackSecret);
    expect(environmentOf('pg-deposit-callback')?.PG_CALLBACK_SECRET_ARN).toBeUndefined();
    // Nothing of a stack goes into the runner's process: several stacks can share it.
    expect(process.env.PAYMENT_EVENTS_TOPIC_ARN).toBeUndefined();
    expect(process.env.PG_CALLBACK_SECRET).toBeUndefined();
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBeUndefined();
  });

  it('keeps each webhook dispatcher’s own settings to that function (URL, queue and signing key)', () => {
    const dispatchers = [...stack.functions.values()].filter((fn) => fn.environment.WEBHOOK_URL !== undefined);
    expect(dispatchers.length).toBeGreaterThan(0);
    for (const fn of dispatchers) {
      const subscriber = fn.environment.SUBSCRIBER_NAME as string;
      expect(fn.environment.WEBHOOK_SECRET).toBe(stack.endpoints.webhookSecrets[subscriber]);
      expect(fn.environment.SUBSCRIBER_QUEUE_URL).toBe(stack.endpoints.queues[`${subscriber}.fifo`]);
    }
    const others = [...stack.functions.values()].filter((fn) => fn.environment.WEBHOOK_URL === undefined);
    for (const fn of others) expect(fn.environment.WEBHOOK_SECRET, fn.spec.logicalId).toBeUndefined();
  });
});

describe('local API Gateway', () => {
  it('routes every method of the template to its function (no route is missing)', async () => {
    const methods = resourcesOfType('AWS::ApiGateway::Method');
    expect(stack.model.routes).toHaveLength(methods.length);
    for (const route of stack.model.routes) {
      const path = route.path.replace(/\{[^}]+\}/g, 'not-a-payment');
      const response = await callApi(stack, route.httpMethod, path, { body: route.httpMethod === 'GET' ? undefined : '{}' });
      const code = (response.body as { error?: { code?: string } } | undefined)?.error?.code;
      expect(code, `${route.httpMethod} ${route.path}`).not.toBe('ROUTE_NOT_FOUND');
      expect(response.status, `${route.httpMethod} ${route.path}`).not.toBe(405);
      expect(response.status, `${route.httpMethod} ${route.path}`).toBeLessThan(500);
    }
  });

  it('answers an unknown path with 404 ROUTE_NOT_FOUND and a known path with another method with 405', async () => {
    const unknown = await callApi(stack, 'GET', '/nothing/here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'No route for GET /nothing/here' } });

    const wrongMethod = await callApi(stack, 'DELETE', '/payments');
    expect(wrongMethod.status).toBe(405);
    expect((wrongMethod.body as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('refuses a body above API Gateway’s 10 MB with 413 PAYLOAD_TOO_LARGE before any handler runs', async () => {
    const before = await itemCount('Payments');
    const response = await callApi(stack, 'POST', '/payments', { body: `{"orderId":"${'x'.repeat(10 * 1024 * 1024)}"}` });
    expect(response.status).toBe(413);
    expect((response.body as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await itemCount('Payments')).toBe(before);
  });

  it('builds REST v1 proxy events: path parameters, query string, headers as sent', async () => {
    const paymentId = await createPayment('order-proxy-event');
    const response = await callApi(stack, 'GET', `/payments/${paymentId}?verbose=1`, { headers: { 'X-Trace-Me': 'yes' } });
    expect(response.status).toBe(200);
    expect((response.body as { paymentId: string }).paymentId).toBe(paymentId);
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('the relay’s event source mapping', () => {
  it('turns POST /payments and confirm into two FIFO messages: group = payment, dedup = event id, contiguous sequence', async () => {
    const paymentId = await createPayment('order-e2e-smoke');
    const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken: 'tok_visa' } });
    expect(confirmed.status).toBe(200);

    const messages = await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 2 });
    const { Items = [] } = await stack.clients.documents.send(
      new QueryCommand({ TableName: stack.tableName('Outbox'), KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: { ':id': paymentId } }),
    );
    expect(messages.map((m) => m.Attributes?.MessageGroupId)).toEqual([paymentId, paymentId]);
    expect(messages.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual(Items.map((i) => i.eventId));
    expect(messages.map((m) => m.MessageAttributes?.eventType?.StringValue)).toEqual(['payment.created', 'payment.approved']);
    expect(messages.map((m) => (JSON.parse(m.Body as string) as { sequence: number }).sequence)).toEqual([1, 2]);
  });

  it('retries a batch whose invocation crashed after sending; FIFO deduplication leaves one message per event', async () => {
    const relay = stack.pollers.stream('outbox-relay');
    let crashes = 0;
    relay.invokeWrapper = async (event, invoke) => {
      const result = await invoke(event);
      const inserts = (event as DynamoDBStreamEvent).Records.length;
      if (crashes === 0 && inserts > 0) {
        crashes += 1;
        throw new Error('relay process died after SendMessageBatch');
      }
      return result;
    };
    const retriesBefore = relay.stats.retries + relay.stats.bisections;
    try {
      const paymentId = await createPayment('order-crash-after-send');
      const messages = await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 1 });
      await relay.waitForIdle();
      const late = await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { timeoutMs: 1_500 });

      expect(crashes).toBe(1);
      expect(relay.stats.retries + relay.stats.bisections).toBeGreaterThan(retriesBefore);
      expect([...messages, ...late].map((m) => m.Attributes?.MessageGroupId)).toEqual([paymentId]);
    } finally {
      relay.invokeWrapper = undefined;
    }
  });

  it('holds events while paused and delivers them in order on resume', async () => {
    const relay = stack.pollers.stream('outbox-relay');
    await relay.pause();
    let paymentId: string;
    try {
      paymentId = await createPayment('order-paused');
      await callApi(stack, 'POST', `/payments/${paymentId}/cancel`, { body: { reason: 'changed my mind' } });
      expect(await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { timeoutMs: 1_000 })).toEqual([]);
    } finally {
      relay.resume();
    }
    const messages = await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 2 });
    expect(messages.map((m) => m.MessageAttributes?.eventType?.StringValue)).toEqual(['payment.created', 'payment.cancelled']);
    expect(messages.every((m) => m.Attributes?.MessageGroupId === paymentId)).toBe(true);
  });
});

describe('schedule rules', () => {
  it('invokes the scheduled function of each rate(...) rule with a Scheduled Event and returns its result', async () => {
    const rules = resourcesOfType('AWS::Events::Rule').filter(([, r]) => typeof r.Properties?.ScheduleExpression === 'string');
    expect(stack.model.schedules).toHaveLength(rules.length);
    for (const schedule of stack.model.schedules) {
      const fn = stack.functions.get(schedule.functionLogicalId);
      const result = await stack.scheduler.runNow(fn?.spec.shortName as string);
      expect(result, schedule.logicalId).toBeDefined();
    }
    expect(Object.values(stack.scheduler.stats).every((s) => s.runs >= 1 && s.failures === 0)).toBe(true);
  });
});

describe('TTL sweeper', () => {
  it('deletes an outbox item past expiresAt, and its removal publishes nothing', async () => {
    const relay = stack.pollers.stream('outbox-relay');
    const paymentId = await createPayment('order-ttl');
    expect(await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 1 })).toHaveLength(1);
    await relay.waitForIdle();
    const invocationsBefore = relay.stats.invocations;
    const filteredBefore = relay.stats.filteredOut;

    const key = { aggregateId: paymentId, sequence: 1 };
    await stack.clients.documents.send(
      new UpdateCommand({
        TableName: stack.tableName('Outbox'),
        Key: key,
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 60 },
      }),
    );
    const deadline = Date.now() + 10_000;
    let item: unknown = {};
    while (item && Date.now() < deadline) {
      ({ Item: item } = await stack.clients.documents.send(new GetCommand({ TableName: stack.tableName('Outbox'), Key: key })));
      if (item) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await relay.waitForIdle();

    expect(item).toBeUndefined();
    expect(relay.stats.invocations).toBe(invocationsBefore);
    // The MODIFY (expiresAt) and the sweeper's REMOVE reached the stream and were filtered out.
    expect(relay.stats.filteredOut).toBeGreaterThanOrEqual(filteredBefore + 2);
    expect(await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { timeoutMs: 1_000 })).toEqual([]);
  });
});
