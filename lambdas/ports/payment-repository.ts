import type { EventEnvelope } from '../domain/event-envelope';
import type { Payment, PaymentChange } from '../domain/payment';
import type { PgAttempt, PgOperation } from '../domain/pg-attempt';

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

/** What a change does to the payment's PG attempts, in the same transaction. */
export interface AttemptGuard {
  /** The attempt the change closes (its closed form): it must still be open, at the same generation. */
  readonly close?: PgAttempt;
  /** Operations that must have no open attempt on the payment (a cancel that calls no PG). */
  readonly noneOpen?: readonly PgOperation[];
  /**
   * The deposit-callback secret the PG gave a new virtual-account payment (Toss), stored beside the
   * payment's attempts and never in the payment itself (which is its event's data and the API's answer).
   */
  readonly callbackSecret?: string;
}

/** What a change reads before it plans, all in one request. */
export interface ChangeReadRequest {
  readonly paymentId: string;
  /** Also the idempotency record under this (namespaced) key: the request carries one. */
  readonly idempotencyKey?: string;
  /** Also the payment's PG attempts: the change may move money, or must see none in flight. */
  readonly withAttempts?: boolean;
}

/**
 * The items a change plans on, as of one instant: a transaction that committed the payment with
 * its idempotency record (a twin request) is seen whole or not at all.
 */
export interface ChangeSnapshot {
  readonly payment: Payment | undefined;
  /** Present when asked for and recorded. */
  readonly idempotencyRecord?: IdempotencyRecord;
  /** The payment's attempts (one per operation, its latest generation); empty unless asked for. */
  readonly attempts: readonly PgAttempt[];
}

/**
 * Port for the payment store. `commit` writes the payment, its outbox event, the idempotency
 * record (if any) and closes the PG attempt (if any) atomically: all or nothing.
 */
export interface PaymentRepository {
  getPayment(paymentId: string): Promise<Payment | undefined>;
  /** The payment's events in sequence order. */
  listEvents(paymentId: string): Promise<EventEnvelope[]>;
  getIdempotencyRecord(key: string): Promise<IdempotencyRecord | undefined>;
  /**
   * The payment and, as asked, its idempotency record and PG attempts: one consistent read of them all.
   * @throws ChangeReadConflictError when the read met a transaction in flight on those items (read again)
   */
  readForChange(request: ChangeReadRequest): Promise<ChangeSnapshot>;
  /**
   * @throws PaymentVersionConflictError when the payment is no longer at `change.expectedVersion`
   *   (or the write conflicted with another transaction)
   * @throws IdempotencyRecordExistsError when `idempotency.key` is already recorded
   */
  commit(change: PaymentChange, idempotency?: IdempotencyRecord, attempts?: AttemptGuard): Promise<void>;
}

/**
 * Port for the PG attempts: the intent to move money, recorded before the PG is called. Attempts
 * change no payment and yield no event.
 */
export interface PgAttemptStore {
  /** Every attempt of the payment (one per operation, the latest generation). */
  listAttempts(paymentId: string): Promise<PgAttempt[]>;
  /**
   * Writes the new open attempt, conditioned on the payment still being at `attempt.paymentVersion`
   * and on `replaces` (the previous, closed attempt of the operation) being unchanged.
   * @throws PaymentVersionConflictError when either moved on (re-read and plan again)
   */
  openAttempt(attempt: PgAttempt, replaces?: PgAttempt): Promise<void>;
  /**
   * Closes an attempt that moved no money and changes no payment (the PG never saw it).
   * @throws PaymentVersionConflictError when it is no longer open at that generation
   */
  closeAttempt(closed: PgAttempt): Promise<void>;
  /** Open attempts, oldest first, at most `limit`. */
  listOpenAttempts(limit: number): Promise<PgAttempt[]>;
  /** The deposit-callback secret stored with the payment's creation (AttemptGuard.callbackSecret), if any. */
  getCallbackSecret(paymentId: string): Promise<string | undefined>;
}
