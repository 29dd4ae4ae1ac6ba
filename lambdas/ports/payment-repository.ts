import type { EventEnvelope } from '../domain/event-envelope';
import type { Payment, PaymentChange } from '../domain/payment';

/**
 * Remembers the outcome of a request that carried an idempotency key (an API caller's
 * `Idempotency-Key` or a PG transaction id), so that a replay returns the first result.
 */
export interface IdempotencyRecord {
  /** Namespaced key, e.g. `api:create:<key>` or `pg:deposit:<pgTransactionId>`. */
  readonly key: string;
  /** SHA-256 of the canonical request; the same key with another hash is rejected. */
  readonly requestHash: string;
  readonly paymentId: string;
  /** HTTP status of the first response. */
  readonly statusCode: number;
  /** The payment as it was returned the first time. */
  readonly response: Payment;
  readonly createdAt: string;
}

/**
 * Port for the payment store. `commit` writes the payment, its outbox event and the
 * idempotency record (if any) atomically: all or nothing.
 */
export interface PaymentRepository {
  getPayment(paymentId: string): Promise<Payment | undefined>;
  /** The payment's events in sequence order. */
  listEvents(paymentId: string): Promise<EventEnvelope[]>;
  getIdempotencyRecord(key: string): Promise<IdempotencyRecord | undefined>;
  /**
   * @throws PaymentVersionConflictError when the payment is no longer at `change.expectedVersion`
   *   (or the write conflicted with another transaction)
   * @throws IdempotencyRecordExistsError when `idempotency.key` is already recorded
   */
  commit(change: PaymentChange, idempotency?: IdempotencyRecord): Promise<void>;
}
