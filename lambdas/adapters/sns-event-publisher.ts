/**
 * Publishes envelopes to the SNS FIFO topic `payment-events.fifo` with PublishBatch: one
 * message per event, grouped by aggregate (order per payment, kept per subscription) and
 * deduplicated by event id. Each subscriber's SQS FIFO queue subscribes with raw message
 * delivery, so it receives the same body and attributes as a direct SQS send, filtered by
 * `eventType` (see `snsFilterPolicy` in domain/subscribers.ts).
 *
 * One publish per event whatever the number of subscribers, and a failing or deleted subscriber
 * queue never fails the publish: SNS delivers to each subscription independently.
 */
import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';
import { eventTraceparent, type EventEnvelope } from '../domain/event-envelope';
import type { EventPublisher, PublishOutcome } from '../ports/event-publisher';
import { batchFailures, eventMessageAttributes, eventMessageBody, messageBytes } from './event-message';

/** PublishBatch accepts at most 10 entries. */
export const SNS_MAX_BATCH_ENTRIES = 10;
/** 256 KiB for a whole PublishBatch call, messages and attributes counted. */
export const SNS_MAX_BATCH_BYTES = 256 * 1024;

export interface SnsEventPublisherOptions {
  /** @default SNS_MAX_BATCH_BYTES */
  readonly maxBatchBytes?: number;
}

/**
 * `EventPublisher` over an SNS FIFO topic. Entries the topic rejects come back as `failed`;
 * errors of the call itself (throttling, network, permissions) are thrown unchanged: the relay
 * treats them as a failure of the whole batch.
 */
export class SnsEventPublisher implements EventPublisher {
  readonly maxBatchEntries = SNS_MAX_BATCH_ENTRIES;
  readonly maxBatchBytes: number;

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    options: SnsEventPublisherOptions = {},
  ) {
    this.maxBatchBytes = options.maxBatchBytes ?? SNS_MAX_BATCH_BYTES;
  }

  messageBytes(event: EventEnvelope): number {
    const entry = toEntry(event, 0);
    return messageBytes(entry.Message ?? '', entry.MessageAttributes);
  }

  async publish(events: readonly EventEnvelope[]): Promise<PublishOutcome> {
    if (events.length === 0) return { failed: [] };
    if (events.length > this.maxBatchEntries) {
      throw new RangeError(`PublishBatch takes at most ${this.maxBatchEntries} entries, got ${events.length}`);
    }
    const response = await this.client.send(
      new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: events.map(toEntry) }),
    );
    return { failed: batchFailures(events, response, 'PublishBatch') };
  }
}

function toEntry(event: EventEnvelope, index: number): PublishBatchRequestEntry {
  return {
    Id: String(index),
    MessageGroupId: event.aggregateId,
    MessageDeduplicationId: event.eventId,
    Message: eventMessageBody(event),
    MessageAttributes: eventMessageAttributes(event, eventTraceparent(event)),
  };
}
