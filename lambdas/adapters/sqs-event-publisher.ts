/**
 * Publishes envelopes to an SQS FIFO queue with SendMessageBatch: one message per event,
 * grouped by aggregate (order per payment) and deduplicated by event id.
 */
import {
  SendMessageBatchCommand,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { EventEnvelope } from '../domain/event-envelope';
import type { EventPublisher, PublishOutcome } from '../ports/event-publisher';

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
    return messageSize(toEntry(event, 0));
  }

  async publish(events: readonly EventEnvelope[]): Promise<PublishOutcome> {
    if (events.length === 0) return { failed: [] };
    if (events.length > this.maxBatchEntries) {
      throw new RangeError(`SendMessageBatch takes at most ${this.maxBatchEntries} entries, got ${events.length}`);
    }
    const entries = events.map(toEntry);
    const response = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));

    const reasons = new Map<string, string>();
    for (const failure of response.Failed ?? []) {
      if (failure.Id === undefined) continue;
      const fault = failure.SenderFault ? 'sender fault' : 'service fault';
      reasons.set(failure.Id, `${failure.Code ?? 'Unknown'} (${fault})${failure.Message ? `: ${failure.Message}` : ''}`);
    }
    const accepted = new Set((response.Successful ?? []).map((entry) => entry.Id));
    const failed = events.flatMap((event, index) => {
      const id = String(index);
      const reason = reasons.get(id) ?? (accepted.has(id) ? undefined : 'missing from the SendMessageBatch response');
      return reason === undefined ? [] : [{ eventId: event.eventId, reason }];
    });
    return { failed };
  }
}

function toEntry(event: EventEnvelope, index: number): SendMessageBatchRequestEntry {
  return {
    Id: String(index),
    MessageGroupId: event.aggregateId,
    MessageDeduplicationId: event.eventId,
    MessageBody: JSON.stringify(event),
    MessageAttributes: {
      eventType: { DataType: 'String', StringValue: event.type },
      sequence: { DataType: 'Number', StringValue: String(event.sequence) },
      aggregateId: { DataType: 'String', StringValue: event.aggregateId },
    },
  };
}

/** SQS counts the body plus, per attribute, its name, data type and value. */
function messageSize(entry: SendMessageBatchRequestEntry): number {
  let size = Buffer.byteLength(entry.MessageBody ?? '', 'utf8');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    size += Buffer.byteLength(name, 'utf8') + attributeSize(value);
  }
  return size;
}

function attributeSize(value: MessageAttributeValue): number {
  return (
    Buffer.byteLength(value.DataType ?? '', 'utf8') +
    Buffer.byteLength(value.StringValue ?? '', 'utf8') +
    (value.BinaryValue?.byteLength ?? 0)
  );
}
