/** Turns DynamoDB Streams API records into the records Lambda hands to a function. */
import type { _Record as StreamApiRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';

/** A record read from a shard, in Lambda's shape, with what the poller needs to track it. */
export interface PolledRecord {
  readonly record: DynamoDBRecord;
  readonly sequenceNumber: string;
  /** Epoch ms: the record's ApproximateCreationDateTime (or when it was read, if absent). */
  readonly arrivedAt: number;
}

/** Lambda's JSON: binary values as base64 strings. */
function toLambdaJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toLambdaJson);
  if (value instanceof Date) return value.getTime() / 1000;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) if (inner !== undefined) out[key] = toLambdaJson(inner);
    return out;
  }
  return value;
}

/** DynamoDB Local reports region "ddblocal"; Lambda events carry the real region. */
export const withRegion = (arn: string, region: string): string => arn.replace(':ddblocal:', `:${region}:`);

export function toLambdaRecord(api: StreamApiRecord, options: { region: string; streamArn: string; now?: number }): PolledRecord {
  // ApproximateCreationDateTime is rounded down to the minute. The poller reads within
  // milliseconds of a write, so "now" is the arrival time, bounded to that minute (a record read
  // later counts as written at the minute's end: its age is never overstated).
  const created = api.dynamodb?.ApproximateCreationDateTime;
  const now = options.now ?? Date.now();
  const arrivedAt = created instanceof Date ? Math.min(Math.max(now, created.getTime()), created.getTime() + 59_999) : now;
  const dynamodb = toLambdaJson(api.dynamodb ?? {}) as Record<string, unknown>;
  // Lambda sends whole seconds.
  if (typeof dynamodb.ApproximateCreationDateTime === 'number') {
    dynamodb.ApproximateCreationDateTime = Math.floor(dynamodb.ApproximateCreationDateTime);
  }
  const record: DynamoDBRecord = {
    eventID: api.eventID,
    eventName: api.eventName as DynamoDBRecord['eventName'],
    eventVersion: api.eventVersion ?? '1.1',
    eventSource: api.eventSource ?? 'aws:dynamodb',
    awsRegion: options.region,
    dynamodb,
    eventSourceARN: withRegion(options.streamArn, options.region),
    ...(api.userIdentity && { userIdentity: toLambdaJson(api.userIdentity) }),
  };
  return { record, sequenceNumber: api.dynamodb?.SequenceNumber ?? '', arrivedAt };
}
