import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsSubscriberQueue } from '../../lambdas/adapters/sqs-subscriber-queue';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/shop.fifo';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/shop-dlq.fifo';
const queue = new SqsSubscriberQueue(new SQSClient({ region: 'us-east-1' }), { queueUrl: QUEUE_URL, dlqUrl: DLQ_URL });

beforeEach(() => sqs.reset());

describe('SqsSubscriberQueue', () => {
  it('delays a message by changing its visibility timeout', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});

    await queue.retryAfter({ messageId: 'm1', receiptHandle: 'rh-1' }, 16);

    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      ReceiptHandle: 'rh-1',
      VisibilityTimeout: 16,
    });
  });

  it('releases messages with visibility 0, ten per call', async () => {
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    const messages = Array.from({ length: 12 }, (_, i) => ({ messageId: `m${i}`, receiptHandle: `rh-${i}` }));

    await queue.release(messages);

    const calls = sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.Entries?.length)).toEqual([10, 2]);
    expect(calls[1]).toEqual({
      QueueUrl: QUEUE_URL,
      Entries: [
        { Id: '0', ReceiptHandle: 'rh-10', VisibilityTimeout: 0 },
        { Id: '1', ReceiptHandle: 'rh-11', VisibilityTimeout: 0 },
      ],
    });
  });

  it('reports the messages it could not release', async () => {
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({
      Successful: [{ Id: '0' }],
      Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true, Message: 'expired' }],
    });

    await expect(
      queue.release([
        { messageId: 'm0', receiptHandle: 'rh-0' },
        { messageId: 'm1', receiptHandle: 'rh-1' },
      ]),
    ).rejects.toThrow('Messages not released: m1: ReceiptHandleIsInvalid expired');
  });

  it('sends a dead letter to the DLQ: body unchanged, same group, event and reason attributes', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dead-1' });

    await queue.deadLetter({
      body: '{"eventId":"e1"}',
      messageGroupId: 'pay-1',
      deduplicationId: 'e1:dead:8',
      event: { eventId: 'e1', type: 'payment.approved', sequence: 2, aggregateId: 'pay-1' },
      details: {
        reason: 'attempts-exhausted',
        attempts: 8,
        lastError: 'HTTP 503',
        lastStatusCode: 503,
        subscriber: 'shop',
        deadLetteredAt: '2026-11-25T00:10:00.000Z',
      },
    });

    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input).toEqual({
      QueueUrl: DLQ_URL,
      MessageBody: '{"eventId":"e1"}',
      MessageGroupId: 'pay-1',
      MessageDeduplicationId: 'e1:dead:8',
      MessageAttributes: {
        eventType: { DataType: 'String', StringValue: 'payment.approved' },
        sequence: { DataType: 'Number', StringValue: '2' },
        aggregateId: { DataType: 'String', StringValue: 'pay-1' },
        eventId: { DataType: 'String', StringValue: 'e1' },
        subscriber: { DataType: 'String', StringValue: 'shop' },
        deadLetterReason: { DataType: 'String', StringValue: 'attempts-exhausted' },
        attempts: { DataType: 'Number', StringValue: '8' },
        lastError: { DataType: 'String', StringValue: 'HTTP 503' },
        lastStatusCode: { DataType: 'Number', StringValue: '503' },
      },
    });
    expect(Object.keys(input?.MessageAttributes ?? {}).length).toBeLessThanOrEqual(10);
  });

  it('keeps the fullest dead letter (a traced event, an HTTP status) within SQS\'s 10 message attributes, traceparent included', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dead-3' });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    await queue.deadLetter({
      body: '{"eventId":"e1"}',
      messageGroupId: 'pay-1',
      deduplicationId: 'e1:dead:8',
      event: { eventId: 'e1', type: 'payment.approved', sequence: 2, aggregateId: 'pay-1' },
      traceparent,
      details: { reason: 'rejected', attempts: 1, lastError: 'HTTP 410', lastStatusCode: 410, subscriber: 'shop', deadLetteredAt: '2026-11-25T00:10:00.000Z' },
    });

    const attributes = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes ?? {};
    expect(Object.keys(attributes)).toHaveLength(10);
    expect(attributes.traceparent).toEqual({ DataType: 'String', StringValue: traceparent });
    expect(attributes.lastStatusCode).toEqual({ DataType: 'Number', StringValue: '410' });
  });

  it('sends a message that is not an event with the reason attributes only, and a bounded error', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dead-2' });

    await queue.deadLetter({
      body: 'garbage',
      messageGroupId: 'pay-9',
      deduplicationId: 'm9:dead:1',
      details: {
        reason: 'invalid-message',
        attempts: 0,
        lastError: 'x'.repeat(5000),
        subscriber: 'shop',
        deadLetteredAt: '2026-11-25T00:10:00.000Z',
      },
    });

    const attributes = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes ?? {};
    expect(Object.keys(attributes).sort()).toEqual(['attempts', 'deadLetterReason', 'lastError', 'subscriber']);
    expect(attributes.lastError?.StringValue).toHaveLength(1000);
  });

  it('lets a failed send propagate (the original message then stays in the queue)', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('QueueDoesNotExist'));

    await expect(
      queue.deadLetter({
        body: 'b',
        messageGroupId: 'g',
        deduplicationId: 'd',
        details: { reason: 'rejected', attempts: 1, lastError: 'HTTP 400', subscriber: 'shop', deadLetteredAt: 'now' },
      }),
    ).rejects.toThrow('QueueDoesNotExist');
  });
});
