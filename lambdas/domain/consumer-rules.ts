/**
 * What a subscriber of payment events decides, pure: is a message a valid envelope, and given
 * the last sequence applied for its payment, is it next, old, or ahead of a gap.
 */
import type * as z from 'zod/mini';
import { ENGLISH_ISSUE_MESSAGES } from './commands';
import type { EventEnvelope } from './event-envelope';
import type { PaymentStatus } from './payment';
import { envelopeFieldsSchema, eventEnvelopeSchema } from './payment-event-schema';

/** The message body is not a payment event envelope. Retrying cannot help; it ends in the DLQ. */
export class InvalidEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEnvelopeError';
  }
}

/**
 * The event is ahead of what was applied for its aggregate: an earlier event is missing. It is
 * not applied; the message fails and is retried (after the visibility timeout) until the missing
 * event has been applied, or it reaches the DLQ.
 */
export class SequenceGapError extends Error {
  constructor(
    readonly aggregateId: string,
    readonly expectedSequence: number,
    readonly receivedSequence: number,
  ) {
    super(`Aggregate ${aggregateId} expects sequence ${expectedSequence}, received ${receivedSequence}`);
    this.name = 'SequenceGapError';
  }
}

/**
 * Parses an SQS message body into an envelope with the schema of the published contract
 * (payment-event-schema.ts, schemas/payment-event.schema.json). Unknown top-level attributes are
 * dropped; the snapshot keeps fields it does not know.
 * @throws InvalidEnvelopeError naming the first offending field
 */
export function parseEnvelope(body: string): EventEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InvalidEnvelopeError('message body is not JSON');
  }
  const fields = envelopeFieldsSchema.safeParse(json, ENGLISH_ISSUE_MESSAGES);
  if (!fields.success) throw invalidEnvelope(fields.error);
  const result = eventEnvelopeSchema.safeParse(json, ENGLISH_ISSUE_MESSAGES);
  if (!result.success) throw invalidEnvelope(result.error);
  return result.data;
}

function invalidEnvelope(error: z.core.$ZodError): InvalidEnvelopeError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') || 'body';
  return new InvalidEnvelopeError(`message body is not an event envelope: ${field}: ${issue?.message ?? 'invalid'}`);
}

export type SequenceDecision =
  /** The next event of the aggregate: apply it. */
  | { readonly action: 'apply' }
  /** Already applied (a redelivery, or an older event): acknowledge without effect. */
  | { readonly action: 'skip' }
  /** Events between are missing: do not apply out of order. */
  | { readonly action: 'gap'; readonly expectedSequence: number };

/**
 * How a consumer judges an event's sequence against the last one it applied:
 * - `contiguous`: every event of the aggregate reaches it, so the next one is `lastApplied + 1`
 *   and anything beyond is a gap to wait for;
 * - `increasing`: its subscription filters by event type, so the sequences between are events it
 *   never receives; the queue's FIFO order per payment still holds, so any sequence above
 *   `lastApplied` is next and a lower or equal one is old.
 */
export type SequenceRule = 'contiguous' | 'increasing';

/** Decides by sequence alone; `lastApplied` is 0 when nothing was applied for the aggregate. */
export function decideSequence(sequence: number, lastApplied: number, rule: SequenceRule = 'contiguous'): SequenceDecision {
  if (sequence <= lastApplied) return { action: 'skip' };
  if (rule === 'increasing' || sequence === lastApplied + 1) return { action: 'apply' };
  return { action: 'gap', expectedSequence: lastApplied + 1 };
}

/** The example consumer's effect: the payment projection takes the event's status. */
export interface PaymentProjectionEffect {
  readonly status: PaymentStatus;
}

export function paymentProjectionEffect(envelope: EventEnvelope): PaymentProjectionEffect {
  return { status: envelope.data.status };
}
