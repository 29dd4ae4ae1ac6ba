/** Factories for the SQS FIFO events the example consumer receives. */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';

let nextMessage = 0;

/** A FIFO message as SQS delivers it; `groupId` defaults to the envelope's aggregate id. */
export function sqsRecord(body: EventEnvelope | string, options: { groupId?: string; messageId?: string } = {}): SQSRecord {
  nextMessage += 1;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const groupId = options.groupId ?? (typeof body === 'string' ? 'group-unknown' : body.aggregateId);
  return {
    messageId: options.messageId ?? `msg-${nextMessage}`,
    receiptHandle: `rh-${nextMessage}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1795564800000',
      SenderId: 'AROAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1795564800001',
      SequenceNumber: String(18_000_000_000_000_000_000 + nextMessage),
      MessageGroupId: groupId,
      MessageDeduplicationId: typeof body === 'string' ? `dedup-${nextMessage}` : body.eventId,
    },
    messageAttributes: {},
    md5OfBody: 'not-checked',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:payment-events.fifo',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

export function messageIdsOf(records: readonly SQSRecord[]): string[] {
  return records.map((r) => r.messageId);
}
