/**
 * What every broker message of a payment event carries, shared by the SNS publisher, the webhook
 * dispatcher's dead letters and the CLI's queue tools: the message attributes, the byte count the
 * broker charges against its batch limit, and the reading of a batch response's per-entry failures.
 * SNS PublishBatch and SQS SendMessageBatch share these rules.
 */
import type { EventEnvelope } from '../domain/event-envelope';
import { TRACEPARENT } from '../domain/trace-context';
import type { PublishOutcome } from '../ports/event-publisher';

/** A string or number message attribute (assignable to both SQS's and SNS's attribute types). */
export interface EventMessageAttribute {
  readonly DataType: 'String' | 'Number';
  readonly StringValue: string;
}

export type EventMessageAttributes = Record<string, EventMessageAttribute>;

/**
 * `eventType`, `sequence`, `aggregateId`: what consumers and SNS filter policies
 * (`{"eventType": [...]}`) read without parsing the body; and `traceparent`, the W3C trace context
 * of the API call that caused the event, when it was made under one (consumers continue the trace).
 */
export function eventMessageAttributes(
  event: { readonly type: string; readonly sequence: number; readonly aggregateId: string },
  traceparent?: string,
): EventMessageAttributes {
  return {
    eventType: { DataType: 'String', StringValue: event.type },
    sequence: { DataType: 'Number', StringValue: String(event.sequence) },
    aggregateId: { DataType: 'String', StringValue: event.aggregateId },
    ...(traceparent !== undefined && { [TRACEPARENT]: { DataType: 'String', StringValue: traceparent } }),
  };
}

/** The body every subscriber receives: the envelope as JSON. */
export function eventMessageBody(event: EventEnvelope): string {
  return JSON.stringify(event);
}

interface SizedAttribute {
  readonly DataType?: string | undefined;
  readonly StringValue?: string | undefined;
  readonly BinaryValue?: Uint8Array | undefined;
}

/** SQS and SNS count the body plus, per attribute, its name, data type and value. */
export function messageBytes(body: string, attributes: Readonly<Record<string, SizedAttribute>> = {}): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    size +=
      Buffer.byteLength(name, 'utf8') +
      Buffer.byteLength(value.DataType ?? '', 'utf8') +
      Buffer.byteLength(value.StringValue ?? '', 'utf8') +
      (value.BinaryValue?.byteLength ?? 0);
  }
  return size;
}

/** The part of a SendMessageBatch / PublishBatch response that says which entries went through. */
export interface BatchResponseEntries {
  readonly Successful?: ReadonlyArray<{ readonly Id?: string | undefined }> | undefined;
  readonly Failed?:
    | ReadonlyArray<{
        readonly Id?: string | undefined;
        readonly Code?: string | undefined;
        readonly Message?: string | undefined;
        readonly SenderFault?: boolean | undefined;
      }>
    | undefined;
}

/**
 * The events of a batch (entry `Id` = index in `events`) the broker did not accept: each
 * reported failure with its code and fault, and any entry the response does not mention at all.
 */
export function batchFailures(
  events: readonly EventEnvelope[],
  response: BatchResponseEntries,
  operation: string,
): PublishOutcome['failed'] {
  const reasons = new Map<string, string>();
  for (const failure of response.Failed ?? []) {
    if (failure.Id === undefined) continue;
    const fault = failure.SenderFault ? 'sender fault' : 'service fault';
    reasons.set(failure.Id, `${failure.Code ?? 'Unknown'} (${fault})${failure.Message ? `: ${failure.Message}` : ''}`);
  }
  const accepted = new Set((response.Successful ?? []).map((entry) => entry.Id));
  return events.flatMap((event, index) => {
    const id = String(index);
    const reason = reasons.get(id) ?? (accepted.has(id) ? undefined : `missing from the ${operation} response`);
    return reason === undefined ? [] : [{ eventId: event.eventId, reason }];
  });
}
