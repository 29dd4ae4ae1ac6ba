/**
 * The webhook subscriber's FIFO queue and DLQ over SQS: visibility changes for backoff and for
 * releasing unattempted messages, and dead letters sent with the reason in their attributes.
 */
import { TRACEPARENT } from '../domain/trace-context';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetter, QueueMessageRef, SubscriberQueue } from '../ports/subscriber-queue';
import { eventMessageAttributes } from './event-message';

/** ChangeMessageVisibilityBatch takes at most 10 entries. */
const VISIBILITY_BATCH_ENTRIES = 10;
/** SQS message attribute values are limited by the message size only; keep the error readable and small. */
const MAX_ERROR_ATTRIBUTE_CHARACTERS = 1000;

export interface SqsSubscriberQueueSettings {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

export class SqsSubscriberQueue implements SubscriberQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly settings: SqsSubscriberQueueSettings,
  ) {}

  async retryAfter(message: QueueMessageRef, delaySeconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.settings.queueUrl,
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: delaySeconds,
      }),
    );
  }

  async release(messages: readonly QueueMessageRef[]): Promise<void> {
    const failures: string[] = [];
    for (let start = 0; start < messages.length; start += VISIBILITY_BATCH_ENTRIES) {
      const chunk = messages.slice(start, start + VISIBILITY_BATCH_ENTRIES);
      const response = await this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.settings.queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
      for (const failed of response.Failed ?? []) {
        const message = chunk[Number(failed.Id)];
        failures.push(`${message?.messageId ?? failed.Id}: ${failed.Code ?? 'Unknown'}${failed.Message ? ` ${failed.Message}` : ''}`);
      }
    }
    if (failures.length > 0) throw new Error(`Messages not released: ${failures.join('; ')}`);
  }

  /**
   * SQS takes at most 10 message attributes: the event's four (with `traceparent`), `eventId` and five
   * of the dead-lettering. When it was dead-lettered is the DLQ message's own `SentTimestamp` (and the
   * delivery record's `deadLetteredAt`), so it takes no attribute.
   */
  async deadLetter(letter: DeadLetter): Promise<void> {
    const { details } = letter;
    const attributes: Record<string, MessageAttributeValue> = {
      ...(letter.event && {
        ...eventMessageAttributes(letter.event),
        eventId: { DataType: 'String', StringValue: letter.event.eventId },
      }),
      ...(letter.traceparent !== undefined && { [TRACEPARENT]: { DataType: 'String', StringValue: letter.traceparent } }),
      subscriber: { DataType: 'String', StringValue: details.subscriber },
      deadLetterReason: { DataType: 'String', StringValue: details.reason },
      attempts: { DataType: 'Number', StringValue: String(details.attempts) },
      lastError: { DataType: 'String', StringValue: details.lastError.slice(0, MAX_ERROR_ATTRIBUTE_CHARACTERS) || '-' },
      ...(details.lastStatusCode !== undefined && {
        lastStatusCode: { DataType: 'Number', StringValue: String(details.lastStatusCode) },
      }),
    };
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.settings.dlqUrl,
        MessageBody: letter.body,
        MessageGroupId: letter.messageGroupId,
        MessageDeduplicationId: letter.deduplicationId,
        MessageAttributes: attributes,
      }),
    );
  }
}
