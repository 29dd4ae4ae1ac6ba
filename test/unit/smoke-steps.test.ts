import { AuthorizationErrorException, SetSubscriptionAttributesCommand, SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiAnswer, ApiCall } from '../../tools/smoke/api-client';
import { EXPECTED_EVENTS, runSmoke } from '../../tools/smoke/steps';
import { SmokeEventQueue, smokeQueueName } from '../../tools/smoke/event-queue';
import type { SmokeTarget } from '../../tools/smoke/target';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:payment-events.fifo';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/smoke-run1.fifo';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:smoke-run1.fifo';
const SUBSCRIPTION_ARN = `${TOPIC_ARN}:sub-1`;

const sqsMock = mockClient(SQSClient);
const snsMock = mockClient(SNSClient);
const clients = () => ({ sqs: new SQSClient({ region: 'eu-west-1' }), sns: new SNSClient({ region: 'eu-west-1' }) });

const target: SmokeTarget = {
  kind: 'stack',
  label: 'stack S (eu-west-1)',
  apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
  region: 'eu-west-1',
  topicArn: TOPIC_ARN,
  paymentGateway: { kind: 'sandbox' },
};

const message = (aggregateId: string, sequence: number, type: string, eventId = `${aggregateId}-${sequence}`) => ({
  MessageId: `m-${eventId}`,
  ReceiptHandle: `r-${eventId}`,
  Body: JSON.stringify({ eventId, type, sequence, aggregateId, occurredAt: '2026-03-02T00:00:00Z', data: {} }),
});

beforeEach(() => {
  sqsMock.on(CreateQueueCommand).resolves({ QueueUrl: QUEUE_URL });
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: QUEUE_ARN } });
  sqsMock.on(SetQueueAttributesCommand).resolves({});
  sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [] });
  sqsMock.on(DeleteQueueCommand).resolves({});
  snsMock.on(SubscribeCommand).resolves({ SubscriptionArn: SUBSCRIPTION_ARN });
  snsMock.on(SetSubscriptionAttributesCommand).resolves({});
  snsMock.on(UnsubscribeCommand).resolves({});
});
afterEach(() => {
  sqsMock.reset();
  snsMock.reset();
});

describe('SmokeEventQueue', () => {
  it('creates a FIFO queue only the topic may send to, subscribes it with raw delivery, and narrows it to one payment', async () => {
    const queue = await SmokeEventQueue.open(clients(), { topicArn: TOPIC_ARN, queueName: smokeQueueName('run1') });
    await queue.narrowTo('pay-1');

    expect(sqsMock.commandCalls(CreateQueueCommand)[0]!.args[0].input).toEqual({
      QueueName: 'smoke-run1.fifo',
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', MessageRetentionPeriod: '3600', VisibilityTimeout: '30' },
    });
    const policy = JSON.parse(sqsMock.commandCalls(SetQueueAttributesCommand)[0]!.args[0].input.Attributes!.Policy!);
    expect(policy.Statement).toEqual([
      {
        Sid: 'PaymentEventsTopicSends',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: QUEUE_ARN,
        Condition: { ArnEquals: { 'aws:SourceArn': TOPIC_ARN } },
      },
    ]);
    expect(snsMock.commandCalls(SubscribeCommand)[0]!.args[0].input).toEqual({
      TopicArn: TOPIC_ARN,
      Protocol: 'sqs',
      Endpoint: QUEUE_ARN,
      Attributes: { RawMessageDelivery: 'true' },
      ReturnSubscriptionArn: true,
    });
    expect(snsMock.commandCalls(SetSubscriptionAttributesCommand)[0]!.args[0].input).toEqual({
      SubscriptionArn: SUBSCRIPTION_ARN,
      AttributeName: 'FilterPolicy',
      AttributeValue: '{"aggregateId":["pay-1"]}',
    });
  });

  it('deletes the queue it created when the subscription fails', async () => {
    snsMock.on(SubscribeCommand).rejects(new Error('topic gone'));

    await expect(SmokeEventQueue.open(clients(), { topicArn: TOPIC_ARN, queueName: 'smoke-run1.fifo' })).rejects.toThrow('topic gone');

    expect(sqsMock.commandCalls(DeleteQueueCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: QUEUE_URL }]);
    expect(snsMock.commandCalls(UnsubscribeCommand)).toHaveLength(0);
  });

  it("waits for the payment's events in order, dropping other payments' messages and repeated copies", async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('other', 1, 'payment.created'), message('pay-1', 1, 'payment.created')] })
      .resolvesOnce({ Messages: [message('pay-1', 1, 'payment.created')] })
      .resolves({ Messages: [message('pay-1', 2, 'payment.approved')] });
    const queue = await SmokeEventQueue.open(clients(), { topicArn: TOPIC_ARN, queueName: 'smoke-run1.fifo' });

    const events = await queue.waitForEvents('pay-1', EXPECTED_EVENTS, 5_000);

    expect(events.map((e) => [e.type, e.sequence])).toEqual([
      ['payment.created', 1],
      ['payment.approved', 2],
    ]);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(3);
  });

  it('fails on an event out of sequence order', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [message('pay-1', 2, 'payment.approved')] });
    const queue = await SmokeEventQueue.open(clients(), { topicArn: TOPIC_ARN, queueName: 'smoke-run1.fifo' });

    await expect(queue.waitForEvents('pay-1', EXPECTED_EVENTS, 5_000)).rejects.toThrow(
      'expected payment.created #1, received payment.approved #2 (after nothing)',
    );
  });
});

/** An API answering the smoke test's calls from a table; `deliveries` in turn, the last one repeated. */
function fakeApi(options: { deliveries: unknown[] }): ApiCall & { calls: string[] } {
  const calls: string[] = [];
  let delivery = 0;
  const answer = (status: number, body: unknown): ApiAnswer => ({ status, text: JSON.stringify(body), body });
  const api = (async (method, path) => {
    calls.push(`${method} ${path}`);
    if (method === 'POST' && path === '/payments') return answer(201, { paymentId: 'pay-1', status: 'READY' });
    if (method === 'POST' && path === '/payments/pay-1/confirm') return answer(200, { paymentId: 'pay-1', status: 'APPROVED' });
    if (path === '/payments/pay-1/events') return answer(200, { events: EXPECTED_EVENTS.map((e) => ({ ...e, eventId: `e${e.sequence}` })) });
    if (path === '/payments/pay-1/deliveries') return answer(200, options.deliveries[Math.min(delivery++, options.deliveries.length - 1)]);
    return answer(404, { code: 'NOT_FOUND' });
  }) as ApiCall & { calls: string[] };
  api.calls = calls;
  return api;
}

const deliveries = (first: string, second: string) => ({
  paymentId: 'pay-1',
  subscribers: [
    {
      name: 'payment-events',
      kind: 'queue',
      events: [
        { sequence: 1, type: 'payment.created', state: first },
        { sequence: 2, type: 'payment.approved', state: second, ...(second === 'dead-lettered' && { reason: 'rejected', lastError: 'boom' }) },
      ],
    },
  ],
});

describe('runSmoke', () => {
  it('reads the events from the API, and says so, when the caller may not subscribe a queue to the topic', async () => {
    snsMock.on(SubscribeCommand).rejects(new AuthorizationErrorException({ message: 'not authorized to subscribe', $metadata: {} }));
    const api = fakeApi({ deliveries: [deliveries('pending', 'pending'), deliveries('enqueued', 'enqueued')] });

    const report = await runSmoke(target, { api, brokers: clients(), runId: 'run1', timeoutMs: 5_000, pollIntervalMs: 1 });

    expect(report.passed).toBe(true);
    expect(report.eventsSource).toBe('api');
    expect(report.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['queue', 'warn'],
      ['create', 'ok'],
      ['confirm', 'ok'],
      ['events received', 'warn'],
      ['delivery status', 'ok'],
      ['cleanup', 'ok'],
    ]);
    expect(report.steps[0]!.detail).toContain('events will be read from GET /payments/{id}/events instead');
    expect(report.steps[3]!.detail).toBe('payment.created #1, payment.approved #2 from GET /payments/pay-1/events (not from the topic: no queue of its own)');
    expect(report.steps[4]!.detail).toBe('payment-events (queue): #1 enqueued, #2 enqueued');
    expect(sqsMock.commandCalls(DeleteQueueCommand)).toHaveLength(1);
    expect(api.calls).toContain('POST /payments/pay-1/confirm');
  });

  it('fails at the delivery status when the payment-events subscriber dead-lettered an event, and still cleans up', async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('pay-1', 1, 'payment.created')] })
      .resolves({ Messages: [message('pay-1', 2, 'payment.approved')] });
    const api = fakeApi({ deliveries: [deliveries('enqueued', 'dead-lettered')] });

    const report = await runSmoke(target, { api, brokers: clients(), runId: 'run1', timeoutMs: 5_000, pollIntervalMs: 1 });

    expect(report.passed).toBe(false);
    expect(report.failed).toMatchObject({ name: 'delivery status', outcome: 'fail', detail: 'payment-events: #2 dead-lettered (rejected: boom)' });
    expect(report.steps.at(-1)).toMatchObject({ name: 'cleanup', outcome: 'ok' });
    expect(snsMock.commandCalls(UnsubscribeCommand).map((c) => c.args[0].input)).toEqual([{ SubscriptionArn: SUBSCRIPTION_ARN }]);
    expect(sqsMock.commandCalls(DeleteQueueCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: QUEUE_URL }]);
  });

  it('fails at confirm when the payment is not approved, skipping the waits', async () => {
    const api = (async (method: string, path: string) =>
      method === 'POST' && path === '/payments'
        ? { status: 201, text: '', body: { paymentId: 'pay-1', status: 'READY' } }
        : { status: 200, text: '{"status":"FAILED"}', body: { paymentId: 'pay-1', status: 'FAILED' } }) as ApiCall;

    const report = await runSmoke(target, { api, brokers: clients(), runId: 'run1', timeoutMs: 5_000 });

    expect(report.failed).toMatchObject({ name: 'confirm', detail: 'the payment is FAILED, not APPROVED: {"status":"FAILED"}' });
    expect(report.steps.filter((s) => s.outcome === 'skipped').map((s) => s.name)).toEqual(['events received', 'delivery status']);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });
});

describe('runSmoke with a subscription that cannot be narrowed', () => {
  it('still passes, reading every payment from its queue, and says the filter was not set', async () => {
    snsMock.on(SetSubscriptionAttributesCommand).rejects(new AuthorizationErrorException({ message: 'no', $metadata: {} }));
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('other', 3, 'payment.cancelled'), message('pay-1', 1, 'payment.created')] })
      .resolves({ Messages: [message('pay-1', 2, 'payment.approved')] });

    const report = await runSmoke(target, { api: fakeApi({ deliveries: [deliveries('enqueued', 'enqueued')] }), brokers: clients(), runId: 'run1', timeoutMs: 5_000, pollIntervalMs: 1 });

    expect(report.passed).toBe(true);
    expect(report.steps.find((s) => s.name === 'create')!.detail).toMatch(/; the smoke queue receives every payment's events \(filter not set: AuthorizationErrorException: no\)$/);
  });
});
