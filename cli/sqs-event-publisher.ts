/**
 * Publishes envelopes to an SQS FIFO queue with SendMessageBatch: one message per event,
 * grouped by aggregate (order per payment) and deduplicated by event id.
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { eventTraceparent, type EventEnvelope } from '../lambdas/domain/event-envelope';
import type { EventPublisher, PublishOutcome } from '../lambdas/ports/event-publisher';
import { batchFailures, eventMessageAttributes, eventMessageBody, messageBytes } from '../lambdas/adapters/event-message';

/** SendMessageBatch accepts at most 10 entries. */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** 256 KiB for a whole SendMessageBatch call, bodies and attributes counted. */
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

export interface SqsEventPublisherOptions {
  /** @default SQS_MAX_BATCH_BYTES */
  readonly maxBatchBytes?: number;
}

/**
 * `EventPublisher` over SQS FIFO. Entries the queue rejects come back as `failed`; errors of
 * the call itself (throttling, network, permissions) are thrown unchanged: the relay treats
 * them as a failure of the whole batch.
 */
export class SqsEventPublisher implements EventPublisher {
  readonly maxBatchEntries = SQS_MAX_BATCH_ENTRIES;
  readonly maxBatchBytes: number;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    options: SqsEventPublisherOptions = {},
  ) {
    this.maxBatchBytes = options.maxBatchBytes ?? SQS_MAX_BATCH_BYTES;
  }

  messageBytes(event: EventEnvelope): number {
    const entry = toEntry(event, 0);
    return messageBytes(entry.MessageBody ?? '', entry.MessageAttributes);
  }

  async publish(events: readonly EventEnvelope[]): Promise<PublishOutcome> {
    if (events.length === 0) return { failed: [] };
    if (events.length > this.maxBatchEntries) {
      throw new RangeError(`SendMessageBatch takes at most ${this.maxBatchEntries} entries, got ${events.length}`);
    }
    const entries = events.map(toEntry);
    const response = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
    return { failed: batchFailures(events, response, 'SendMessageBatch') };
  }
}

function toEntry(event: EventEnvelope, index: number): SendMessageBatchRequestEntry {
  return {
    Id: String(index),
    MessageGroupId: event.aggregateId,
    MessageDeduplicationId: event.eventId,
    MessageBody: eventMessageBody(event),
    MessageAttributes: eventMessageAttributes(event, eventTraceparent(event)),
  };
}
