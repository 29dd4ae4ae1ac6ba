/**
 * The SQS event source mapping of the example consumer, on the local stack with consumers on:
 * Lambda-shaped SQS records, deletes after success, and a message the consumer keeps failing
 * redriven by the emulator to the FIFO DLQ after maxReceiveCount while other groups flow.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, PAYMENT_EVENTS_DLQ, PAYMENT_EVENTS_QUEUE, receiveMessages, startTestStack, type LocalStack } from '../support/local-stack-harness';

let stack: LocalStack;

beforeAll(async () => {
  // Failed messages come back after 0 s instead of the queue's 180 s visibility timeout.
  stack = await startTestStack({ consumers: true, sqsFailedMessageVisibilitySeconds: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

async function projection(paymentId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await stack.clients.documents.send(new GetCommand({ TableName: stack.tableName('Inbox'), Key: { pk: `payment#${paymentId}` } }));
  return Item;
}

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function createAndConfirm(orderId: string): Promise<string> {
  const created = await callApi(stack, 'POST', '/payments', { body: { orderId, amount: 5_000, currency: 'KRW', method: 'CARD' } });
  const paymentId = (created.body as { paymentId: string }).paymentId;
  const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken: 'tok_visa' } });
  expect([created.status, confirmed.status]).toEqual([201, 200]);
  return paymentId;
}

describe('SQS poller (Lambda event source mapping on payment-events.fifo)', () => {
  it('invokes the consumer with Lambda-shaped SQS records and deletes what it processed', async () => {
    const consumer = stack.pollers.queue('example-consumer');
    const events: SQSEvent[] = [];
    consumer.invokeWrapper = async (event, invoke) => {
      events.push(event);
      return invoke(event);
    };
    try {
      const paymentId = await createAndConfirm('order-sqs-shape');
      const applied = await eventually(() => projection(paymentId), (item) => item?.lastSequence === 2);
      expect(applied).toMatchObject({ status: 'APPROVED', lastSequence: 2 });

      const record = events.flatMap((e) => e.Records).find((r) => r.attributes.MessageGroupId === paymentId);
      expect(record).toMatchObject({
        messageId: expect.any(String),
        receiptHandle: expect.any(String),
        eventSource: 'aws:sqs',
        eventSourceARN: stack.queues.get(PAYMENT_EVENTS_QUEUE)?.arn,
        awsRegion: stack.endpoints.region,
        md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
        attributes: {
          ApproximateReceiveCount: '1',
          MessageGroupId: paymentId,
          MessageDeduplicationId: expect.any(String),
          SequenceNumber: expect.any(String),
          SentTimestamp: expect.stringMatching(/^\d+$/),
        },
        messageAttributes: {
          eventType: { stringValue: 'payment.created', stringListValues: [], binaryListValues: [], dataType: 'String' },
          sequence: { stringValue: '1', dataType: 'Number' },
        },
      });
      await consumer.waitForIdle();
      expect(await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { timeoutMs: 1_000, keep: true })).toEqual([]);
    } finally {
      consumer.invokeWrapper = undefined;
    }
  });

  it('leaves a message the consumer keeps failing to the redrive policy: DLQ after maxReceiveCount, other groups keep flowing', async () => {
    const consumer = stack.pollers.queue('example-consumer');
    const failedBefore = consumer.stats.failed;
    await stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrl(PAYMENT_EVENTS_QUEUE),
        MessageBody: '{"not":"a payment event"}',
        MessageGroupId: 'poison-group',
        MessageDeduplicationId: 'poison-1',
      }),
    );
    const paymentId = await createAndConfirm('order-next-to-poison');

    const [dead] = await receiveMessages(stack, PAYMENT_EVENTS_DLQ, { count: 1, timeoutMs: 20_000 });
    expect(dead?.Body).toBe('{"not":"a payment event"}');
    expect(dead?.Attributes?.MessageGroupId).toBe('poison-group');
    expect(consumer.stats.failed - failedBefore).toBe(5);
    const applied = await eventually(() => projection(paymentId), (item) => item?.lastSequence === 2);
    expect(applied).toMatchObject({ status: 'APPROVED', lastSequence: 2 });
  });
});
