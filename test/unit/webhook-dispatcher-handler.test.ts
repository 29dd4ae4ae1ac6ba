import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import { ATTEMPT_OVERHEAD_MS, webhookDispatcher, webhookDispatcherFunction } from '../../lambdas/functions/webhook-dispatcher/webhook-dispatcher';
import type { DeliveryRecord } from '../../lambdas/domain/delivery-state';
import type { DeliveryLog } from '../../lambdas/ports/delivery-log';
import type { DeadLetter, QueueMessageRef, SubscriberQueue } from '../../lambdas/ports/subscriber-queue';
import type { WebhookClient, WebhookRequest } from '../../lambdas/ports/webhook-client';
import type { DispatchWebhookDeps } from '../../lambdas/use-cases/dispatch-webhook';
import type { WebhookAttemptResult } from '../../lambdas/domain/webhook-delivery-policy';
import { verifyWebhook } from '../../lambdas/domain/webhook-signature';
import { lambdaContext } from '../support/api-events';
import { testRuntime } from '../support/function-runtime';
import { sqsEvent, sqsRecord } from '../support/sqs-events';
import { envelope } from '../support/stream-events';

/** Stands in for the runtime's `fetch` (the dispatcher's HTTP client takes it when it is built). */
const stub = {
  original: globalThis.fetch,
  respond: async (): Promise<Response> => new Response(null, { status: 200 }),
  calls: [] as Array<{ url: string; init: RequestInit | undefined }>,
};
globalThis.fetch = (async (url: string | URL | Request, init?: RequestInit) => {
  stub.calls.push({ url: String(url), init });
  return stub.respond();
}) as typeof fetch;
afterAll(() => {
  globalThis.fetch = stub.original;
});

const silent = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const context = (remainingMs = 60_000): Context => ({ ...lambdaContext, getRemainingTimeInMillis: () => remainingMs });

/** Answers by event id; records which events were POSTed, in order. */
class ByEventClient implements WebhookClient {
  readonly posted: string[] = [];
  constructor(private readonly answers: Record<string, WebhookAttemptResult>) {}
  async post(request: WebhookRequest): Promise<WebhookAttemptResult> {
    const eventId = request.headers['X-Event-Id'] ?? '';
    this.posted.push(eventId);
    return this.answers[eventId] ?? { kind: 'response', status: 200 };
  }
}

class FakeQueue implements SubscriberQueue {
  readonly delayed: Array<[string, number]> = [];
  readonly released: string[] = [];
  readonly deadLetters: DeadLetter[] = [];
  failRelease = false;
  async retryAfter(message: QueueMessageRef, seconds: number) {
    this.delayed.push([message.messageId, seconds]);
  }
  async release(messages: readonly QueueMessageRef[]) {
    if (this.failRelease) throw new Error('throttled');
    this.released.push(...messages.map((m) => m.messageId));
  }
  async deadLetter(letter: DeadLetter) {
    this.deadLetters.push(letter);
  }
}

class FakeLog implements DeliveryLog {
  readonly records: DeliveryRecord[] = [];
  failGetsFor = new Set<number>();
  async get(_subscriber: string, _paymentId: string, sequence: number) {
    if (this.failGetsFor.has(sequence)) throw new Error('DynamoDB unavailable');
    return undefined;
  }
  async put(record: DeliveryRecord) {
    this.records.push(record);
  }
  async listForPayment() {
    return this.records;
  }
}

function build(answers: Record<string, WebhookAttemptResult> = {}) {
  const client = new ByEventClient(answers);
  const queue = new FakeQueue();
  const log = new FakeLog();
  const deps: DispatchWebhookDeps = {
    settings: { subscriber: 'shop', url: 'https://shop.example.com/h', timeoutSeconds: 5, policy: { maxAttempts: 3, backoff: { baseSeconds: 2, maxSeconds: 60 } } },
    client,
    queue,
    log,
    clock: { now: () => new Date('2026-11-25T00:00:10.000Z') },
    secret: async () => 'whsec_c2VjcmV0',
    random: () => 0.999,
  };
  return { handle: webhookDispatcher({ deps, queue, logger: silent }), client, queue, log };
}

const record = (aggregateId: string, sequence: number): SQSRecord =>
  sqsRecord(envelope(aggregateId, sequence), { messageId: `${aggregateId}-${sequence}` });

describe('webhookDispatcher', () => {
  it('sends the message\'s traceparent attribute on as the request\'s header, in a span of its own', async () => {
    const headers: Array<Readonly<Record<string, string>>> = [];
    const client: WebhookClient = {
      post: async (request) => {
        headers.push(request.headers);
        return { kind: 'response', status: 200 };
      },
    };
    const queue = new FakeQueue();
    const deps: DispatchWebhookDeps = {
      settings: { subscriber: 'shop', url: 'https://shop.example.com/h', timeoutSeconds: 5, policy: { maxAttempts: 3, backoff: { baseSeconds: 2, maxSeconds: 60 } } },
      client,
      queue,
      log: new FakeLog(),
      clock: { now: () => new Date('2026-11-25T00:00:10.000Z') },
      secret: async () => 'whsec_c2VjcmV0',
      newSpanId: () => 'b7ad6b7169203331',
    };
    const traced = record('A', 1);
    traced.messageAttributes.traceparent = { dataType: 'String', stringValue: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };

    const response = await webhookDispatcher({ deps, queue, logger: silent })(sqsEvent([traced, record('B', 1)]), context());

    expect(response.batchItemFailures).toEqual([]);
    expect(headers.map((h) => h.traceparent)).toEqual(['00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01', undefined]);
  });

  it('acknowledges delivered and dead-lettered messages and fails only the retried one', async () => {
    const { handle, queue } = build({ 'evt-B-1': { kind: 'response', status: 400 }, 'evt-C-1': { kind: 'response', status: 503 } });

    const response = await handle(sqsEvent([record('A', 1), record('B', 1), record('C', 1)]), context());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'C-1' }] });
    expect(queue.deadLetters.map((letter) => letter.deduplicationId)).toEqual(['evt-B-1:dead:1']);
    expect(queue.delayed).toEqual([['C-1', 2]]);
    expect(queue.released).toEqual([]);
  });

  it('never sends a payment’s next event before the previous one is settled; other payments go on', async () => {
    const { handle, client, queue } = build({ 'evt-A-1': { kind: 'response', status: 503 } });

    const response = await handle(sqsEvent([record('A', 1), record('B', 1), record('A', 2), record('A', 3), record('B', 2)]), context());

    expect(client.posted).toEqual(['evt-A-1', 'evt-B-1', 'evt-B-2']);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['A-1', 'A-2', 'A-3']);
    expect(queue.delayed).toEqual([['A-1', 2]]);
    // The later events of A were not attempted: visible again at once, so A-1 alone holds the group.
    expect(queue.released).toEqual(['A-2', 'A-3']);
  });

  it('sends the next event of a payment once the previous one was dead-lettered', async () => {
    const { handle, client } = build({ 'evt-A-1': { kind: 'response', status: 422 } });

    const response = await handle(sqsEvent([record('A', 1), record('A', 2)]), context());

    expect(client.posted).toEqual(['evt-A-1', 'evt-A-2']);
    expect(response.batchItemFailures).toEqual([]);
  });

  it('leaves a message whose attempt could not be made (delivery log down) for the visibility timeout; its group waits', async () => {
    const { handle, client, queue, log } = build();
    log.failGetsFor.add(1);

    const response = await handle(sqsEvent([record('A', 1), record('A', 2)]), context());

    expect(client.posted).toEqual([]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['A-1', 'A-2']);
    expect(queue.delayed).toEqual([]);
    expect(queue.released).toEqual(['A-2']);
  });

  it('releases untouched the messages it has no time left to attempt', async () => {
    const { handle, client, queue } = build();

    const response = await handle(sqsEvent([record('A', 1), record('B', 1)]), context(5_000 + ATTEMPT_OVERHEAD_MS - 1));

    expect(client.posted).toEqual([]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['A-1', 'B-1']);
    expect(queue.released).toEqual(['A-1', 'B-1']);
  });

  it('answers the partial batch response even when releasing fails', async () => {
    const { handle, queue } = build({ 'evt-A-1': { kind: 'timeout', timeoutMs: 5000 } });
    queue.failRelease = true;

    const response = await handle(sqsEvent([record('A', 1), record('A', 2)]), context());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['A-1', 'A-2']);
  });

  it('dead-letters a message that is not an event and goes on with the batch', async () => {
    const { handle, queue, client } = build();
    const garbage = sqsRecord('not json', { groupId: 'A', messageId: 'bad' });

    const response = await handle(sqsEvent([garbage, record('B', 1)]), context());

    expect(response.batchItemFailures).toEqual([]);
    expect(queue.deadLetters.map((l) => l.details.reason)).toEqual(['invalid-message']);
    expect(client.posted).toEqual(['evt-B-1']);
  });
});

describe('webhook-dispatcher handler (from the environment)', () => {
  const ENVIRONMENT = {
    SUBSCRIBER_NAME: 'shop',
    WEBHOOK_URL: 'https://shop.example.com/hooks',
    WEBHOOK_SECRET: 'whsec_aGFuZGxlcg==',
    WEBHOOK_MAX_ATTEMPTS: '3',
    SUBSCRIBER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/shop.fifo',
    SUBSCRIBER_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/shop-dlq.fifo',
    DELIVERIES_TABLE_NAME: 'Deliveries',
  };
  /** The dispatcher's configuration, read the way its Lambda entry reads it. */
  const config = webhookDispatcherFunction.configFromEnv(ENVIRONMENT);
  const sqs = mockClient(SQSClient);
  const dynamo = mockClient(DynamoDBDocumentClient);
  let handler: ReturnType<typeof webhookDispatcherFunction.createHandler>;

  beforeEach(() => {
    handler = webhookDispatcherFunction.createHandler(config, testRuntime());
    sqs.reset();
    dynamo.reset();
    stub.calls.length = 0;
    dynamo.on(GetCommand).resolves({});
    dynamo.on(PutCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dead' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('POSTs the signed event to WEBHOOK_URL and records the delivery in DELIVERIES_TABLE_NAME', async () => {
    stub.respond = async () => new Response('ok', { status: 200 });
    const event = envelope('pay-1', 1);

    const response = await handler(sqsEvent([sqsRecord(event, { messageId: 'm1' })]), context());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(stub.calls).toHaveLength(1);
    const call = stub.calls[0];
    expect(call?.url).toBe('https://shop.example.com/hooks');
    expect(call?.init?.method).toBe('POST');
    expect(call?.init?.body).toBe(JSON.stringify(event));
    const headers = call?.init?.headers as Record<string, string>;
    expect(verifyWebhook({ rawBody: String(call?.init?.body), headers, secret: 'whsec_aGFuZGxlcg==' })).toMatchObject({ ok: true });
    const put = dynamo.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.TableName).toBe('Deliveries');
    expect(put?.Item).toMatchObject({ paymentId: 'pay-1', sk: 'shop#0000000001', state: 'delivered', statusCode: 200, attempts: 1 });
  });

  it('changes the visibility of a message answered 503 to its backoff and reports it failed', async () => {
    stub.respond = async () => new Response('busy', { status: 503, headers: { 'Retry-After': '7' } });

    const response = await handler(sqsEvent([sqsRecord(envelope('pay-2', 1), { messageId: 'm2' })]), context());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: ENVIRONMENT.SUBSCRIBER_QUEUE_URL,
      VisibilityTimeout: 7,
    });
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ state: 'retrying', lastStatusCode: 503 });
  });

  it('sends a message answered 400 to SUBSCRIBER_DLQ_URL and acknowledges it', async () => {
    stub.respond = async () => new Response('no such order', { status: 400 });

    const response = await handler(sqsEvent([sqsRecord(envelope('pay-3', 1), { messageId: 'm3' })]), context());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: ENVIRONMENT.SUBSCRIBER_DLQ_URL,
      MessageGroupId: 'pay-3',
      MessageDeduplicationId: 'evt-pay-3-1:dead:1',
    });
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      state: 'dead-lettered',
      reason: 'rejected',
      lastError: 'HTTP 400: no such order',
    });
  });
});

describe('webhookDispatcher under concurrent invocations (local runner)', () => {
  it('keeps each invocation’s batch response to its own messages', async () => {
    const slowClient: WebhookClient = {
      post: async (request) => {
        // A is delivered slowly; B fails fast, while A's invocation is still under way.
        await new Promise((resolve) => setTimeout(resolve, request.headers['X-Aggregate-Id'] === 'A' ? 50 : 5));
        return request.headers['X-Aggregate-Id'] === 'A' ? { kind: 'response', status: 200 } : { kind: 'response', status: 503 };
      },
    };
    const queue = new FakeQueue();
    const handle = webhookDispatcher({
      queue,
      logger: silent,
      deps: {
        settings: { subscriber: 'shop', url: 'https://x.example/h', timeoutSeconds: 5, policy: { maxAttempts: 3, backoff: { baseSeconds: 1, maxSeconds: 5 } } },
        client: slowClient,
        queue,
        log: new FakeLog(),
        clock: { now: () => new Date() },
        secret: async () => 'whsec_cw==',
      },
    });

    const [a, b] = await Promise.all([
      handle(sqsEvent([record('A', 1), record('A', 2)]), context()),
      handle(sqsEvent([record('B', 1), record('B', 2)]), context()),
    ]);

    expect(a.batchItemFailures).toEqual([]);
    expect(b.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['B-1', 'B-2']);
  });
});
