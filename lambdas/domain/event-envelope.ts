/** The event envelope: what the outbox stores and what every subscriber receives. */
import type { Payment } from './payment';
import { parseTraceparent } from './trace-context';

export const PAYMENT_EVENT_TYPES = ['payment.created', 'payment.approved', 'payment.failed', 'payment.cancelled'] as const;
export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];

export const ENVELOPE_SCHEMA_VERSION = 1;

export interface EventEnvelope {
  /** UUID; the FIFO deduplication id and the consumers' idempotency key. */
  readonly eventId: string;
  readonly type: PaymentEventType;
  readonly aggregateType: 'payment';
  /** The payment id; the FIFO message group. */
  readonly aggregateId: string;
  /** 1, 2, 3, ... per payment, no gaps: equals the payment's version after the change. */
  readonly sequence: number;
  readonly occurredAt: string;
  readonly schemaVersion: typeof ENVELOPE_SCHEMA_VERSION;
  /** Snapshot of the payment after the change. */
  readonly data: Payment;
}

export function newEnvelope(payment: Payment, type: PaymentEventType, ctx: { now: string; eventId: string }): EventEnvelope {
  return {
    eventId: ctx.eventId,
    type,
    aggregateType: 'payment',
    aggregateId: payment.paymentId,
    sequence: payment.version,
    occurredAt: ctx.now,
    schemaVersion: ENVELOPE_SCHEMA_VERSION,
    data: payment,
  };
}

/** The attributes of an outbox item that make up the envelope; everything else (`expiresAt`, ...) stays behind. */
export const ENVELOPE_FIELDS = [
  'eventId',
  'type',
  'aggregateType',
  'aggregateId',
  'sequence',
  'occurredAt',
  'schemaVersion',
  'data',
] as const satisfies ReadonlyArray<keyof EventEnvelope>;

/** The outbox item attribute holding the `traceparent` of the request that caused the change. */
export const OUTBOX_TRACEPARENT_ATTRIBUTE = 'traceparent';

/**
 * An event's trace context travels beside its envelope, under a symbol key: spreads and copies keep
 * it, while JSON (the message body every subscriber receives) and `Object.keys` never show it, so
 * the envelope on the wire is exactly the contract's.
 */
const TRACEPARENT_OF_EVENT = Symbol('traceparent');

/** The `traceparent` the event travels with, if its change was made under one. */
export function eventTraceparent(event: EventEnvelope): string | undefined {
  const value = (event as EventEnvelope & { readonly [TRACEPARENT_OF_EVENT]?: unknown })[TRACEPARENT_OF_EVENT];
  return typeof value === 'string' ? value : undefined;
}

/** The trace id of the `traceparent` the event travels with (what log lines carry as `traceId`). */
export function eventTraceId(event: EventEnvelope): string | undefined {
  return parseTraceparent(eventTraceparent(event))?.traceId;
}

/** The same envelope, travelling with `traceparent`. */
export function withEventTraceparent<E extends EventEnvelope>(event: E, traceparent: string | undefined): E {
  return traceparent === undefined ? event : { ...event, [TRACEPARENT_OF_EVENT]: traceparent };
}

/** Raised when an outbox item lacks what the relay needs to route it. */
export class InvalidOutboxItemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOutboxItemError';
  }
}

/**
 * Builds the envelope from an (unmarshalled) outbox item, dropping `expiresAt` and any attribute
 * that is not part of the envelope; the item's `traceparent` travels beside it (`eventTraceparent`). The relay forwards envelopes, it does not judge them: it
 * checks only what it needs to route a message (ids, sequence, type); consumers validate the rest.
 * @throws InvalidOutboxItemError when a routing field is missing or of the wrong type
 */
export function envelopeFromOutboxItem(item: Readonly<Record<string, unknown>>): EventEnvelope {
  const envelope: Record<string, unknown> = {};
  for (const field of ENVELOPE_FIELDS) {
    if (item[field] !== undefined) envelope[field] = item[field];
  }
  for (const field of ['eventId', 'aggregateId', 'type'] as const) {
    const value = envelope[field];
    if (typeof value !== 'string' || value === '') {
      throw new InvalidOutboxItemError(`outbox item has no ${field}`);
    }
  }
  const sequence = envelope.sequence;
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 1) {
    throw new InvalidOutboxItemError(`outbox item ${String(envelope.eventId)} has no positive integer sequence`);
  }
  const traceparent = item[OUTBOX_TRACEPARENT_ATTRIBUTE];
  return withEventTraceparent(envelope as unknown as EventEnvelope, typeof traceparent === 'string' ? traceparent : undefined);
}

/** The routing fields a message body carries, as far as it has them; never throws. */
export interface EnvelopeFields {
  readonly eventId?: string;
  readonly type?: string;
  readonly aggregateId?: string;
  readonly sequence?: number;
}

/**
 * Reads `eventId`, `type`, `aggregateId` and `sequence` from a message body that may not be a
 * valid envelope (not JSON, fields missing): for log lines and listings, never for processing.
 */
export function envelopeFields(body: string): EnvelopeFields {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
  if (typeof json !== 'object' || json === null) return {};
  return {
    ...(typeof json.eventId === 'string' && { eventId: json.eventId }),
    ...(typeof json.type === 'string' && { type: json.type }),
    ...(typeof json.aggregateId === 'string' && { aggregateId: json.aggregateId }),
    ...(typeof json.sequence === 'number' && { sequence: json.sequence }),
  };
}
