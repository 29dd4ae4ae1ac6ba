/** The event envelope: what the outbox stores and what every subscriber receives. */
import type { Payment } from './payment';

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
