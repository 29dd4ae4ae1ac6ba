/**
 * The stable name of an event in a chaos run: `<orderId>#<sequence>`. Order ids come from the
 * seeded plan (payment ids are random UUIDs the API assigns), so a key names the same event in
 * every run of one seed, whichever copy of it a fault sees: a stream record, an SQS batch entry or
 * a delivered message (all carry the envelope, whose `data` is the payment snapshot).
 */
import type { DynamoDBRecord } from 'aws-lambda';

export function eventKey(orderId: string, sequence: number): string {
  return `${orderId}#${sequence}`;
}

/** From an envelope's JSON text (an SQS message body); `undefined` when it is not one. */
export function keyOfBody(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    const envelope = JSON.parse(body) as { sequence?: unknown; data?: { orderId?: unknown } };
    const orderId = envelope.data?.orderId;
    if (typeof orderId !== 'string' || typeof envelope.sequence !== 'number') return undefined;
    return eventKey(orderId, envelope.sequence);
  } catch {
    return undefined;
  }
}

/** From an Outbox stream record's NewImage (DynamoDB JSON). */
export function keyOfStreamRecord(record: DynamoDBRecord): string | undefined {
  const image = record.dynamodb?.NewImage;
  const orderId = image?.data?.M?.orderId?.S;
  const sequence = image?.sequence?.N;
  if (orderId === undefined || sequence === undefined) return undefined;
  return eventKey(orderId, Number(sequence));
}
