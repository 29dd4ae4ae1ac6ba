/** Factories for outbox events and the DynamoDB Streams events the relay receives. */
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { EventEnvelope, PaymentEventType } from '../../lambdas/domain/event-envelope';
import type { PaymentStatus } from '../../lambdas/domain/payment';

const STATUS_OF: Record<PaymentEventType, PaymentStatus> = {
  'payment.created': 'READY',
  'payment.approved': 'APPROVED',
  'payment.failed': 'FAILED',
  'payment.cancelled': 'CANCELLED',
};

/** What each transition sets on the snapshot besides the status (lambdas/domain/payment.ts). */
function transitionFields(type: PaymentEventType, aggregateId: string, at: string): Record<string, unknown> {
  switch (type) {
    case 'payment.created':
      return {};
    case 'payment.approved':
      return { approvedAt: at, pgTransactionId: `pg-${aggregateId}` };
    case 'payment.failed':
      return { failedAt: at, failureReason: 'declined' };
    case 'payment.cancelled':
      return { cancelledAt: at, cancelReason: 'customer request' };
  }
}

/** An envelope as the write path produces it: event `sequence` of payment `aggregateId`. */
export function envelope(
  aggregateId: string,
  sequence: number,
  overrides: { type?: PaymentEventType; eventId?: string; occurredAt?: string; data?: Record<string, unknown> } = {},
): EventEnvelope {
  const type = overrides.type ?? (sequence === 1 ? 'payment.created' : 'payment.approved');
  const occurredAt = overrides.occurredAt ?? '2026-11-25T00:00:00.000Z';
  return {
    eventId: overrides.eventId ?? `evt-${aggregateId}-${sequence}`,
    type,
    aggregateType: 'payment',
    aggregateId,
    sequence,
    occurredAt,
    schemaVersion: 1,
    data: {
      paymentId: aggregateId,
      orderId: `order-${aggregateId}`,
      amount: 15_000,
      currency: 'KRW',
      method: 'CARD',
      status: STATUS_OF[type],
      version: sequence,
      createdAt: '2026-11-25T00:00:00.000Z',
      updatedAt: occurredAt,
      ...transitionFields(type, aggregateId, occurredAt),
      ...overrides.data,
    } as EventEnvelope['data'],
  };
}

let nextSequenceNumber = 100;

/** Stream sequence numbers grow with stream order, like DynamoDB's. */
export function streamPosition(): string {
  nextSequenceNumber += 100;
  return String(nextSequenceNumber).padStart(21, '0');
}

function image(item: Record<string, unknown>): Record<string, AttributeValue> {
  // The SDK's and aws-lambda's AttributeValue types describe the same JSON.
  return marshall(item, { removeUndefinedValues: true }) as Record<string, SdkAttributeValue> as Record<string, AttributeValue>;
}

function record(eventName: DynamoDBRecord['eventName'] | 'UNKNOWN_TO_SDK_VERSION', dynamodb: DynamoDBRecord['dynamodb']): DynamoDBRecord {
  return {
    eventID: `id-${dynamodb?.SequenceNumber ?? 'x'}`,
    eventName: eventName as DynamoDBRecord['eventName'],
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/Outbox/stream/2026-11-25T00:00:00.000',
    dynamodb,
  };
}

/** The INSERT of an outbox item holding `event` (with its TTL attribute and any `extra` attributes). */
export function insertRecord(event: EventEnvelope, extra: Record<string, unknown> = {}): DynamoDBRecord {
  const item = { ...event, expiresAt: Math.floor(Date.parse(event.occurredAt) / 1000) + 30 * 86_400, ...extra };
  return record('INSERT', {
    Keys: image({ aggregateId: event.aggregateId, sequence: event.sequence }),
    NewImage: image(item),
    SequenceNumber: streamPosition(),
    SizeBytes: 512,
    StreamViewType: 'NEW_IMAGE',
  });
}

/** A TTL deletion as AWS reports it (`REMOVE`; NEW_IMAGE streams carry no image for it). */
export function ttlRemoveRecord(event: EventEnvelope): DynamoDBRecord {
  return {
    ...record('REMOVE', {
      Keys: image({ aggregateId: event.aggregateId, sequence: event.sequence }),
      SequenceNumber: streamPosition(),
      SizeBytes: 64,
      StreamViewType: 'NEW_IMAGE',
    }),
    userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
  };
}

/** A TTL deletion as DynamoDB Local reports it: an event name the SDK does not know. */
export function unknownRecord(event: EventEnvelope): DynamoDBRecord {
  return record('UNKNOWN_TO_SDK_VERSION', {
    Keys: image({ aggregateId: event.aggregateId, sequence: event.sequence }),
    SequenceNumber: streamPosition(),
    SizeBytes: 64,
    StreamViewType: 'NEW_IMAGE',
  });
}

export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

/** The identifiers Lambda expects for these records in `batchItemFailures`. */
export function positionsOf(records: readonly DynamoDBRecord[]): string[] {
  return records.map((r) => r.dynamodb?.SequenceNumber ?? '');
}
