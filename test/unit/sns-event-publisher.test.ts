import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SNS_MAX_BATCH_BYTES, SnsEventPublisher } from '../../lambdas/adapters/sns-event-publisher';
import { SqsEventPublisher } from '../../cli/sqs-event-publisher';
import { envelope } from '../support/stream-events';

const sns = mockClient(SNSClient);
const sqs = mockClient(SQSClient);
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo';

beforeEach(() => {
  sns.reset();
  sqs.reset();
});

describe('SnsEventPublisher', () => {
  const publisher = new SnsEventPublisher(new SNSClient({ region: 'us-east-1' }), TOPIC_ARN);

  it('uses the PublishBatch limits by default', () => {
    expect(publisher.maxBatchEntries).toBe(10);
    expect(publisher.maxBatchBytes).toBe(SNS_MAX_BATCH_BYTES);
    expect(SNS_MAX_BATCH_BYTES).toBe(262_144);
    expect(new SnsEventPublisher(new SNSClient({}), TOPIC_ARN, { maxBatchBytes: 1000 }).maxBatchBytes).toBe(1000);
  });

  it('publishes each event once to the topic: group = payment, dedup id = event id, body = the envelope, routing attributes', async () => {
    sns.on(PublishBatchCommand).resolves({ Successful: [{ Id: '0' }, { Id: '1' }], Failed: [] });
    const first = envelope('pay-1', 1);
    const second = envelope('pay-1', 2, { type: 'payment.approved' });

    const outcome = await publisher.publish([first, second]);

    expect(outcome).toEqual({ failed: [] });
    const calls = sns.commandCalls(PublishBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      TopicArn: TOPIC_ARN,
      PublishBatchRequestEntries: [
        {
          Id: '0',
          MessageGroupId: 'pay-1',
          MessageDeduplicationId: 'evt-pay-1-1',
          Message: JSON.stringify(first),
          MessageAttributes: {
            eventType: { DataType: 'String', StringValue: 'payment.created' },
            sequence: { DataType: 'Number', StringValue: '1' },
            aggregateId: { DataType: 'String', StringValue: 'pay-1' },
          },
        },
        {
          Id: '1',
          MessageGroupId: 'pay-1',
          MessageDeduplicationId: 'evt-pay-1-2',
          Message: JSON.stringify(second),
          MessageAttributes: {
            eventType: { DataType: 'String', StringValue: 'payment.approved' },
            sequence: { DataType: 'Number', StringValue: '2' },
            aggregateId: { DataType: 'String', StringValue: 'pay-1' },
          },
        },
      ],
    });
  });

  it('sends the same body and attributes a subscriber queue would get from the SQS publisher (raw delivery)', async () => {
    sns.on(PublishBatchCommand).resolves({ Successful: [{ Id: '0' }] });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }] });
    const event = envelope('pay-9', 4, { type: 'payment.cancelled', data: { cancelReason: '고객 요청' } });
    const sqsPublisher = new SqsEventPublisher(new SQSClient({ region: 'us-east-1' }), 'https://queue.example/q.fifo');

    await publisher.publish([event]);
    await sqsPublisher.publish([event]);

    const snsEntry = sns.commandCalls(PublishBatchCommand)[0]?.args[0].input.PublishBatchRequestEntries?.[0];
    const sqsEntry = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0];
    expect(snsEntry?.Message).toBe(sqsEntry?.MessageBody);
    expect(snsEntry?.MessageAttributes).toEqual(sqsEntry?.MessageAttributes);
    expect(publisher.messageBytes(event)).toBe(sqsPublisher.messageBytes(event));
  });

  it('counts the UTF-8 message and every attribute name, type and value', () => {
    const event = envelope('pay-1', 12, { type: 'payment.cancelled', data: { cancelReason: '고객 요청' } });
    const attributes =
      'eventType'.length + 'String'.length + 'payment.cancelled'.length +
      'sequence'.length + 'Number'.length + '12'.length +
      'aggregateId'.length + 'String'.length + 'pay-1'.length;

    expect(publisher.messageBytes(event)).toBe(Buffer.byteLength(JSON.stringify(event), 'utf8') + attributes);
  });

  it('reports the entries the topic rejected with their code and fault, the others as published', async () => {
    sns.on(PublishBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm0', SequenceNumber: '1' }, { Id: '2', MessageId: 'm2', SequenceNumber: '2' }],
      Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError', Message: 'try again' }],
    });

    const outcome = await publisher.publish([envelope('A', 1), envelope('B', 1), envelope('C', 1)]);

    expect(outcome).toEqual({ failed: [{ eventId: 'evt-B-1', reason: 'InternalError (service fault): try again' }] });
  });

  it('reports a sender fault as such', async () => {
    sns.on(PublishBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', SenderFault: true, Code: 'InvalidParameter', Message: 'MessageGroupId is required' }],
    });

    const outcome = await publisher.publish([envelope('A', 1)]);

    expect(outcome.failed).toEqual([{ eventId: 'evt-A-1', reason: 'InvalidParameter (sender fault): MessageGroupId is required' }]);
  });

  it('counts an entry the response does not mention as failed', async () => {
    sns.on(PublishBatchCommand).resolves({ Successful: [{ Id: '0' }], Failed: [] });

    const outcome = await publisher.publish([envelope('A', 1), envelope('B', 1)]);

    expect(outcome.failed).toEqual([{ eventId: 'evt-B-1', reason: 'missing from the PublishBatch response' }]);
  });

  it('lets errors of the call itself propagate (the relay fails the whole batch)', async () => {
    sns.on(PublishBatchCommand).rejects(new Error('AuthorizationError'));

    await expect(publisher.publish([envelope('A', 1)])).rejects.toThrow('AuthorizationError');
  });

  it('makes no call for an empty batch and refuses more than 10 events', async () => {
    await expect(publisher.publish([])).resolves.toEqual({ failed: [] });
    const eleven = Array.from({ length: 11 }, (_, i) => envelope(`p${i}`, 1));

    await expect(publisher.publish(eleven)).rejects.toThrow('PublishBatch takes at most 10 entries, got 11');
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(0);
  });
});
