/**
 * How an outbox item's `traceparent` travels to the broker: beside the envelope (never in it), then
 * as the `traceparent` message attribute of the SNS publish, the CLI's SQS sends and the webhook
 * dead letters. The message body stays exactly the contract's envelope.
 */
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsEventPublisher } from '../../cli/sqs-event-publisher';
import { eventMessageAttributes, messageBytes } from '../../lambdas/adapters/event-message';
import { toRelayRecord } from '../../lambdas/adapters/outbox-stream-record';
import { SnsEventPublisher } from '../../lambdas/adapters/sns-event-publisher';
import { SqsSubscriberQueue } from '../../lambdas/adapters/sqs-subscriber-queue';
import {
  ENVELOPE_FIELDS,
  envelopeFromOutboxItem,
  eventTraceparent,
  OUTBOX_TRACEPARENT_ATTRIBUTE,
  withEventTraceparent,
} from '../../lambdas/domain/event-envelope';
import { TRACEPARENT } from '../../lambdas/domain/trace-context';
import { envelope, insertRecord } from '../support/stream-events';

const TRACEPARENT_VALUE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const event = envelope('pay-1', 2, { type: 'payment.approved' });
/** The outbox item as the payment store writes it under a trace: the envelope and its bookkeeping. */
const tracedItem = { ...event, expiresAt: 1_800_000_000, pendingShard: 'p03', [OUTBOX_TRACEPARENT_ATTRIBUTE]: TRACEPARENT_VALUE };
const untracedItem = { ...event, expiresAt: 1_800_000_000, pendingShard: 'p03' };

const sns = mockClient(SNSClient);
const sqs = mockClient(SQSClient);
beforeEach(() => {
  sns.reset();
  sqs.reset();
});

describe('envelopeFromOutboxItem and the traceparent beside the envelope', () => {
  it('stores the outbox item’s traceparent under the attribute name traceparent', () => {
    expect(OUTBOX_TRACEPARENT_ATTRIBUTE).toBe('traceparent');
  });

  it('carries the item’s traceparent beside the envelope', () => {
    expect(eventTraceparent(envelopeFromOutboxItem(tracedItem))).toBe(TRACEPARENT_VALUE);
  });

  it('keeps the envelope itself the contract’s: same JSON, same keys, no traceparent in either', () => {
    const traced = envelopeFromOutboxItem(tracedItem);
    const untraced = envelopeFromOutboxItem(untracedItem);

    expect(JSON.stringify(traced)).toBe(JSON.stringify(untraced));
    expect(JSON.stringify(traced)).toBe(JSON.stringify(event));
    expect(JSON.stringify(traced)).not.toContain('traceparent');
    expect(JSON.stringify(traced)).not.toContain(TRACEPARENT_VALUE);
    expect(Object.keys(traced)).toEqual(Object.keys(untraced));
    expect(Object.keys(traced)).toEqual([...ENVELOPE_FIELDS]);
    expect(traced).not.toHaveProperty('traceparent');
  });

  it('keeps the traceparent on a spread copy of the envelope', () => {
    const copy = { ...envelopeFromOutboxItem(tracedItem) };

    expect(eventTraceparent(copy)).toBe(TRACEPARENT_VALUE);
  });

  it.each([
    ['a number', 42],
    ['an object', { value: TRACEPARENT_VALUE }],
    ['null', null],
    ['a DynamoDB string set', new Set([TRACEPARENT_VALUE])],
  ])('ignores a traceparent attribute that is %s', (_, value) => {
    const envelopeOfItem = envelopeFromOutboxItem({ ...untracedItem, [OUTBOX_TRACEPARENT_ATTRIBUTE]: value });

    expect(eventTraceparent(envelopeOfItem)).toBeUndefined();
    expect(Object.getOwnPropertySymbols(envelopeOfItem)).toEqual([]);
  });

  it('has no traceparent for an item written outside a trace', () => {
    const untraced = envelopeFromOutboxItem(untracedItem);

    expect(eventTraceparent(untraced)).toBeUndefined();
    expect(Object.getOwnPropertySymbols(untraced)).toEqual([]);
  });

  it('withEventTraceparent copies the envelope (the original is untouched) and passes it on unchanged without a value', () => {
    const traced = withEventTraceparent(event, TRACEPARENT_VALUE);

    expect(eventTraceparent(traced)).toBe(TRACEPARENT_VALUE);
    expect(eventTraceparent(event)).toBeUndefined();
    expect(withEventTraceparent(event, undefined)).toBe(event);
  });

  it('reaches the relay from the outbox stream’s INSERT', () => {
    const record = toRelayRecord(insertRecord(event, { [OUTBOX_TRACEPARENT_ATTRIBUTE]: TRACEPARENT_VALUE }));

    expect(record.kind).toBe('event');
    expect(record.kind === 'event' && eventTraceparent(record.envelope)).toBe(TRACEPARENT_VALUE);
  });
});

describe('eventMessageAttributes', () => {
  const routing = {
    eventType: { DataType: 'String', StringValue: 'payment.approved' },
    sequence: { DataType: 'Number', StringValue: '2' },
    aggregateId: { DataType: 'String', StringValue: 'pay-1' },
  };

  it('is the routing attributes alone without a traceparent', () => {
    expect(eventMessageAttributes(event)).toEqual(routing);
    expect(eventMessageAttributes(event, undefined)).toEqual(routing);
  });

  it('adds the traceparent as a String attribute named traceparent', () => {
    expect(TRACEPARENT).toBe('traceparent');
    expect(eventMessageAttributes(event, TRACEPARENT_VALUE)).toEqual({
      ...routing,
      traceparent: { DataType: 'String', StringValue: TRACEPARENT_VALUE },
    });
  });

  it('counts the traceparent attribute in the message size the broker charges', () => {
    const body = JSON.stringify(event);
    const extra = messageBytes(body, eventMessageAttributes(event, TRACEPARENT_VALUE)) - messageBytes(body, eventMessageAttributes(event));

    expect(extra).toBe('traceparent'.length + 'String'.length + TRACEPARENT_VALUE.length);
  });
});

describe('the publishers send the traceparent attribute of envelopes read from the outbox', () => {
  const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo';
  const publisher = new SnsEventPublisher(new SNSClient({ region: 'us-east-1' }), TOPIC_ARN);
  const traced = envelopeFromOutboxItem(tracedItem);
  const untraced = envelopeFromOutboxItem({ ...envelope('pay-2', 1), expiresAt: 1_800_000_000 });

  it('SnsEventPublisher: the traced entry carries it, the untraced one has none, both bodies are the plain envelope', async () => {
    sns.on(PublishBatchCommand).resolves({ Successful: [{ Id: '0' }, { Id: '1' }] });

    await publisher.publish([traced, untraced]);

    const entries = sns.commandCalls(PublishBatchCommand)[0]?.args[0].input.PublishBatchRequestEntries;
    expect(entries?.[0]?.MessageAttributes?.[TRACEPARENT]).toEqual({ DataType: 'String', StringValue: TRACEPARENT_VALUE });
    expect(entries?.[0]?.Message).toBe(JSON.stringify(event));
    expect(entries?.[1]?.MessageAttributes).not.toHaveProperty(TRACEPARENT);
    expect(entries?.[1]?.Message).toBe(JSON.stringify(envelope('pay-2', 1)));
  });

  it('SnsEventPublisher: the size it batches by includes the attribute', () => {
    expect(publisher.messageBytes(traced) - publisher.messageBytes(event)).toBe('traceparent'.length + 'String'.length + TRACEPARENT_VALUE.length);
  });

  it('SqsEventPublisher (CLI replays) sends the same attributes as the SNS publisher', async () => {
    sns.on(PublishBatchCommand).resolves({ Successful: [{ Id: '0' }] });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }] });

    await publisher.publish([traced]);
    await new SqsEventPublisher(new SQSClient({ region: 'us-east-1' }), 'https://queue.example/q.fifo').publish([traced]);

    const snsAttributes = sns.commandCalls(PublishBatchCommand)[0]?.args[0].input.PublishBatchRequestEntries?.[0]?.MessageAttributes;
    const sqsAttributes = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageAttributes;
    expect(sqsAttributes?.[TRACEPARENT]?.StringValue).toBe(TRACEPARENT_VALUE);
    expect(sqsAttributes).toEqual(snsAttributes);
  });
});

describe('SqsSubscriberQueue.deadLetter', () => {
  const queue = new SqsSubscriberQueue(new SQSClient({ region: 'us-east-1' }), {
    queueUrl: 'https://sqs.example/webhook.fifo',
    dlqUrl: 'https://sqs.example/webhook-dlq.fifo',
  });
  const details = {
    reason: 'rejected',
    attempts: 1,
    lastError: 'HTTP 400',
    subscriber: 'shop',
    deadLetteredAt: '2026-11-25T00:00:05.000Z',
  } as const;
  const routing = { eventId: event.eventId, type: event.type, sequence: event.sequence, aggregateId: event.aggregateId };

  it('sends the dead letter with the event’s traceparent attribute, and without one when the event had none', async () => {
    sqs.on(SendMessageCommand).resolves({});

    await queue.deadLetter({ body: '{}', messageGroupId: 'pay-1', deduplicationId: 'd1', event: routing, traceparent: TRACEPARENT_VALUE, details });
    await queue.deadLetter({ body: '{}', messageGroupId: 'pay-1', deduplicationId: 'd2', event: routing, details });

    const [traced, untraced] = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageAttributes);
    expect(traced?.[TRACEPARENT]).toEqual({ DataType: 'String', StringValue: TRACEPARENT_VALUE });
    expect(untraced).not.toHaveProperty(TRACEPARENT);
  });
});
