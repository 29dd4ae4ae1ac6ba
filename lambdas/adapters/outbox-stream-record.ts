/**
 * Turns DynamoDB Streams records of the Outbox table into the relay's records. Only INSERTs are
 * events. The event source mapping only passes records whose new image carries the pending marker
 * (DynamoDB mappings can filter on the `dynamodb` key only, not on `eventName`), which drops the
 * MODIFY that marks an event published and TTL `REMOVE`s; anything else that is not an INSERT (a
 * MODIFY that keeps the marker, a REMOVE or, on DynamoDB Local, an `UNKNOWN_TO_SDK_VERSION` record
 * when no filter applies) is acknowledged here without sending.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { envelopeFromOutboxItem, InvalidOutboxItemError } from '../domain/event-envelope';
import type { RelayRecord } from '../domain/relay-plan';

export function toRelayRecord(record: DynamoDBRecord): RelayRecord {
  // Lambda checkpoints DynamoDB stream batches by SequenceNumber; an empty identifier in
  // batchItemFailures makes Lambda retry the whole batch, the safe fallback.
  const position = record.dynamodb?.SequenceNumber ?? '';
  if (record.eventName !== 'INSERT') {
    return { kind: 'ignored', position, reason: `${record.eventName ?? 'unnamed'} record` };
  }
  const image = record.dynamodb?.NewImage;
  if (!image) return { kind: 'invalid', position, reason: 'INSERT record without NewImage (stream view type?)' };
  try {
    // aws-lambda's AttributeValue type and the SDK's describe the same wire format.
    const item = unmarshall(image as Record<string, AttributeValue>);
    return { kind: 'event', position, envelope: envelopeFromOutboxItem(item) };
  } catch (error) {
    if (error instanceof InvalidOutboxItemError) return { kind: 'invalid', position, reason: error.message };
    return { kind: 'invalid', position, reason: `NewImage cannot be read: ${(error as Error).message}` };
  }
}
