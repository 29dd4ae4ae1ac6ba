/**
 * SQS messages as the tools handle them: reading a received message (system attributes, the
 * envelope in its body), and building the messages replay and redrive send. Replayed and
 * redriven messages carry the original envelope (original eventId) in the body and the relay's
 * attributes, but a deduplication id of their own: SQS FIFO silently drops a message whose
 * MessageDeduplicationId it saw in the last 5 minutes, and consumers deduplicate by eventId anyway.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry, SendMessageCommandInput } from '@aws-sdk/client-sqs';
import { parseEnvelope } from '../lambdas/domain/consumer-rules';
import { eventMessageAttributes, messageBytes } from '../lambdas/adapters/event-message';
import { eventTraceparent, type EventEnvelope } from '../lambdas/domain/event-envelope';

/** A received message, flattened. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  /** How many times SQS handed the message out, this receive included. */
  readonly receiveCount: number;
  /** Epoch ms of the original send (kept when SQS moves a message to its DLQ). */
  readonly sentAt?: number;
  /** System attributes as SQS returned them. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
}

export function fromSqsMessage(message: Message): ReceivedMessage {
  const attributes: Record<string, string> = { ...(message.Attributes ?? {}) };
  const sentAt = attributes.SentTimestamp === undefined ? undefined : Number(attributes.SentTimestamp);
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    ...(attributes.MessageGroupId !== undefined && { groupId: attributes.MessageGroupId }),
    ...(attributes.MessageDeduplicationId !== undefined && { deduplicationId: attributes.MessageDeduplicationId }),
    receiveCount: Number(attributes.ApproximateReceiveCount ?? 0),
    ...(sentAt !== undefined && Number.isFinite(sentAt) && { sentAt }),
    attributes,
    messageAttributes: { ...(message.MessageAttributes ?? {}) },
  };
}

export type Inspection =
  | { readonly ok: true; readonly envelope: EventEnvelope }
  | { readonly ok: false; readonly problem: string };

/**
 * Whether a message can be redriven: its body is a payment event envelope (the consumers' own
 * schema) and its message group is the envelope's aggregate.
 */
export function inspectMessage(message: ReceivedMessage): Inspection {
  let envelope: EventEnvelope;
  try {
    envelope = parseEnvelope(message.body);
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
  if (message.groupId === undefined) return { ok: false, problem: 'message has no MessageGroupId' };
  if (message.groupId !== envelope.aggregateId) {
    return { ok: false, problem: `message group ${message.groupId} differs from the envelope's aggregateId ${envelope.aggregateId}` };
  }
  return { ok: true, envelope };
}

/** A run id for deduplication ids: `20261125T195636Z-1a2b3c`. */
export function newRunId(now: Date = new Date(), random: () => string = () => randomBytes(3).toString('hex')): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return `${stamp}-${random()}`;
}

const DEDUP_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * `<eventId>:<purpose>:<runId>`: new to the FIFO queue's 5-minute deduplication window, yet the
 * same for a retry of the same run. An eventId that would not fit (128 printable ASCII
 * characters at most) is replaced by its SHA-256.
 */
export function deduplicationId(eventId: string, purpose: 'replay' | 'redrive', runId: string): string {
  const id = `${eventId}:${purpose}:${runId}`;
  if (DEDUP_ID.test(id)) return id;
  return `${createHash('sha256').update(eventId).digest('hex')}:${purpose}:${runId}`.slice(0, 128);
}

/** The relay's message attributes plus eventId. */
function eventAttributes(envelope: EventEnvelope): Record<string, MessageAttributeValue> {
  return { ...eventMessageAttributes(envelope, eventTraceparent(envelope)), eventId: { DataType: 'String', StringValue: envelope.eventId } };
}

/** One replayed event: body = the envelope as the relay sends it, group = the payment. */
export function replayEntry(envelope: EventEnvelope, id: string, runId: string): SendMessageBatchRequestEntry {
  return {
    Id: id,
    MessageGroupId: envelope.aggregateId,
    MessageDeduplicationId: deduplicationId(envelope.eventId, 'replay', runId),
    MessageBody: JSON.stringify(envelope),
    MessageAttributes: { ...eventAttributes(envelope), replayRunId: { DataType: 'String', StringValue: runId } },
  };
}

/** SQS counts the body plus, per attribute, its name, data type and value (the relay's own rule). */
export function entryBytes(entry: Pick<SendMessageBatchRequestEntry, 'MessageBody' | 'MessageAttributes'>): number {
  return messageBytes(entry.MessageBody ?? '', entry.MessageAttributes);
}

/** SQS allows 10 message attributes. */
const MAX_MESSAGE_ATTRIBUTES = 10;

/**
 * A DLQ message sent back to its source queue: the same body and message attributes, the same
 * group, a new deduplication id, and `redriveRunId` when there is room for one more attribute.
 */
export function redriveRequest(queueUrl: string, message: ReceivedMessage, envelope: EventEnvelope, runId: string): SendMessageCommandInput {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    attributes[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined && { StringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && { BinaryValue: value.BinaryValue }),
    };
  }
  if (Object.keys(attributes).length < MAX_MESSAGE_ATTRIBUTES && attributes.redriveRunId === undefined) {
    attributes.redriveRunId = { DataType: 'String', StringValue: runId };
  }
  return {
    QueueUrl: queueUrl,
    MessageBody: message.body,
    MessageGroupId: envelope.aggregateId,
    MessageDeduplicationId: deduplicationId(envelope.eventId, 'redrive', runId),
    MessageAttributes: attributes,
  };
}
