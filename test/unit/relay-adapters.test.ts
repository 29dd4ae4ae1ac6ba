import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { toRelayRecord } from '../../lambdas/adapters/outbox-stream-record';
import { SQS_MAX_BATCH_BYTES, SqsEventPublisher } from '../../cli/sqs-event-publisher';
import { envelope, insertRecord, ttlRemoveRecord, unknownRecord } from '../support/stream-events';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/payment-events.fifo';

beforeEach(() => sqs.reset());

describe('SqsEventPublisher', () => {
  const publisher = new SqsEventPublisher(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);

  it('uses the SendMessageBatch limits by default', () => {
    expect(publisher.maxBatchEntries).toBe(10);
    expect(publisher.maxBatchBytes).toBe(SQS_MAX_BATCH_BYTES);
    expect(SQS_MAX_BATCH_BYTES).toBe(262_144);
  });

  it('counts the UTF-8 body and every attribute name, type and value', () => {
    const event = envelope('pay-1', 12, { type: 'payment.cancelled', data: { cancelReason: '고객 요청' } });
    const attributes =
      'eventType'.length + 'String'.length + 'payment.cancelled'.length +
      'sequence'.length + 'Number'.length + '12'.length +
      'aggregateId'.length + 'String'.length + 'pay-1'.length;

    expect(publisher.messageBytes(event)).toBe(Buffer.byteLength(JSON.stringify(event), 'utf8') + attributes);
  });

  it('reports the rejected entries with their reasons', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: 'x' }],
      Failed: [{ Id: '1', SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad group' }],
    });

    const outcome = await publisher.publish([envelope('A', 1), envelope('B', 1)]);

    expect(outcome).toEqual({ failed: [{ eventId: 'evt-B-1', reason: 'InvalidParameterValue (sender fault): bad group' }] });
  });

  it('lets errors of the call itself propagate', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('AccessDenied'));

    await expect(publisher.publish([envelope('A', 1)])).rejects.toThrow('AccessDenied');
  });

  it('makes no call for an empty batch and refuses more than 10 events', async () => {
    await expect(publisher.publish([])).resolves.toEqual({ failed: [] });
    const eleven = Array.from({ length: 11 }, (_, i) => envelope(`p${i}`, 1));
    await expect(publisher.publish(eleven)).rejects.toThrow(RangeError);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe('toRelayRecord', () => {
  it('turns an INSERT into the envelope, identified by its stream sequence number', () => {
    const event = envelope('A', 3);
    const record = insertRecord(event, { pendingShard: 1 });

    expect(toRelayRecord(record)).toEqual({ kind: 'event', position: record.dynamodb?.SequenceNumber, envelope: event });
  });

  it.each([
    ['a TTL REMOVE', ttlRemoveRecord(envelope('A', 1)), 'REMOVE record'],
    [
      'a MODIFY whose new image still carries the pending marker',
      { ...insertRecord(envelope('A', 1), { pendingShard: 'p03' }), eventName: 'MODIFY' as const },
      'MODIFY record',
    ],
    ['a DynamoDB Local TTL record', unknownRecord(envelope('A', 1)), 'UNKNOWN_TO_SDK_VERSION record'],
  ])('ignores %s', (_name, record, reason) => {
    expect(toRelayRecord(record)).toEqual({ kind: 'ignored', position: record.dynamodb?.SequenceNumber, reason });
  });

  it('marks an INSERT without an image as invalid', () => {
    const record = insertRecord(envelope('A', 1));
    delete record.dynamodb?.NewImage;

    expect(toRelayRecord(record)).toMatchObject({ kind: 'invalid', reason: 'INSERT record without NewImage (stream view type?)' });
  });

  it('marks an INSERT whose number does not fit a JavaScript number as invalid', () => {
    const record = insertRecord(envelope('A', 1));
    const image = record.dynamodb?.NewImage;
    if (image) image.sequence = { N: '123456789012345678901234567890' };

    expect(toRelayRecord(record)).toMatchObject({ kind: 'invalid' });
  });
});
