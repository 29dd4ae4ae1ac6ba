import { IdempotencyRecordExistsError, PaymentVersionConflictError } from '../../lambdas/domain/errors';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import type { Payment, PaymentChange } from '../../lambdas/domain/payment';
import type { PgAttempt, PgOperation } from '../../lambdas/domain/pg-attempt';
import type {
  AttemptGuard,
  ChangeReadRequest,
  ChangeSnapshot,
  IdempotencyRecord,
  PaymentRepository,
  PgAttemptStore,
} from '../../lambdas/ports/payment-repository';

/**
 * A PaymentRepository and PgAttemptStore with the same all-or-nothing and conditional semantics
 * as the DynamoDB adapter, for use-case unit tests. `failNextCommits` injects lost races.
 *
 * Attempts are stored one per (payment, operation), the latest generation, like the attempts
 * table; they are copied in and out, so a caller never holds the stored object.
 */
export class InMemoryPaymentRepository implements PaymentRepository, PgAttemptStore {
  readonly payments = new Map<string, Payment>();
  readonly events = new Map<string, EventEnvelope[]>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  /** `<paymentId>#<operation>` → the attempt. */
  readonly attempts = new Map<string, PgAttempt>();
  commitCalls = 0;
  private injectedConflicts = 0;

  failNextCommits(count: number): void {
    this.injectedConflicts = count;
  }

  async getPayment(paymentId: string) {
    this.reads.getPayment++;
    return this.payments.get(paymentId);
  }

  async listEvents(paymentId: string) {
    return [...(this.events.get(paymentId) ?? [])].sort((a, b) => a.sequence - b.sequence);
  }

  async getIdempotencyRecord(key: string) {
    this.reads.getIdempotencyRecord++;
    return this.idempotency.get(key);
  }

  /** Calls of each read, so that tests pin how many reads a command makes. */
  readonly reads = { getPayment: 0, getIdempotencyRecord: 0, readForChange: 0, listAttempts: 0 };

  /** Reads made so far, of any kind. */
  readCount(): number {
    return Object.values(this.reads).reduce((sum, count) => sum + count, 0);
  }

  /** One snapshot: nothing commits in between in this single-threaded store. */
  async readForChange(request: ChangeReadRequest): Promise<ChangeSnapshot> {
    this.reads.readForChange++;
    const record = request.idempotencyKey === undefined ? undefined : this.idempotency.get(request.idempotencyKey);
    return {
      payment: this.payments.get(request.paymentId),
      ...(record && { idempotencyRecord: record }),
      attempts: request.withAttempts ? this.attemptsOf(request.paymentId) : [],
    };
  }

  async commit(change: PaymentChange, record?: IdempotencyRecord, guard?: AttemptGuard) {
    this.commitCalls++;
    const { payment, event, expectedVersion } = change;
    if (this.injectedConflicts > 0) {
      this.injectedConflicts--;
      throw new PaymentVersionConflictError(payment.paymentId, expectedVersion);
    }
    // Every condition is checked before anything is written: all or nothing.
    if (record && this.idempotency.has(record.key)) throw new IdempotencyRecordExistsError(record.key);
    const stored = this.payments.get(payment.paymentId);
    if ((stored?.version ?? 0) !== expectedVersion) throw new PaymentVersionConflictError(payment.paymentId, expectedVersion);
    const events = this.events.get(payment.paymentId) ?? [];
    if (events.some((e) => e.sequence === event.sequence)) throw new PaymentVersionConflictError(payment.paymentId, expectedVersion);
    if (guard?.close && !this.isOpenAt(guard.close)) throw new PaymentVersionConflictError(payment.paymentId, expectedVersion);
    for (const operation of guard?.noneOpen ?? []) {
      if (operation === guard?.close?.operation) continue;
      if (this.storedAttempt(payment.paymentId, operation)?.status === 'open') {
        throw new PaymentVersionConflictError(payment.paymentId, expectedVersion);
      }
    }
    this.payments.set(payment.paymentId, payment);
    this.events.set(payment.paymentId, [...events, event]);
    if (record) this.idempotency.set(record.key, record);
    if (guard?.close) this.storeAttempt(guard.close);
    if (guard?.callbackSecret !== undefined) this.callbackSecrets.set(payment.paymentId, guard.callbackSecret);
  }

  /** Deposit-callback secrets by payment id (AttemptGuard.callbackSecret). */
  readonly callbackSecrets = new Map<string, string>();

  async getCallbackSecret(paymentId: string): Promise<string | undefined> {
    return this.callbackSecrets.get(paymentId);
  }

  allEvents(): EventEnvelope[] {
    return [...this.events.values()].flat();
  }

  async listAttempts(paymentId: string): Promise<PgAttempt[]> {
    this.reads.listAttempts++;
    return this.attemptsOf(paymentId);
  }

  private attemptsOf(paymentId: string): PgAttempt[] {
    return [...this.attempts.values()].filter((attempt) => attempt.paymentId === paymentId).map((attempt) => structuredClone(attempt));
  }

  async openAttempt(attempt: PgAttempt, replaces?: PgAttempt): Promise<void> {
    const conflict = () => new PaymentVersionConflictError(attempt.paymentId, attempt.paymentVersion);
    if (this.payments.get(attempt.paymentId)?.version !== attempt.paymentVersion) throw conflict();
    const stored = this.storedAttempt(attempt.paymentId, attempt.operation);
    if (replaces) {
      if (stored?.generation !== replaces.generation || stored.status !== 'closed') throw conflict();
    } else if (stored) {
      throw conflict();
    }
    this.storeAttempt(attempt);
  }

  async closeAttempt(closed: PgAttempt): Promise<void> {
    if (!this.isOpenAt(closed)) throw new PaymentVersionConflictError(closed.paymentId, closed.paymentVersion);
    this.storeAttempt(closed);
  }

  async listOpenAttempts(limit: number): Promise<PgAttempt[]> {
    return [...this.attempts.values()]
      .filter((attempt) => attempt.status === 'open')
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
      .slice(0, limit)
      .map((attempt) => structuredClone(attempt));
  }

  /** The stored attempt of one operation on a payment (tests). */
  attempt(paymentId: string, operation: PgOperation): PgAttempt | undefined {
    const stored = this.storedAttempt(paymentId, operation);
    return stored && structuredClone(stored);
  }

  private storedAttempt(paymentId: string, operation: PgOperation): PgAttempt | undefined {
    return this.attempts.get(`${paymentId}#${operation}`);
  }

  private storeAttempt(attempt: PgAttempt): void {
    this.attempts.set(`${attempt.paymentId}#${attempt.operation}`, structuredClone(attempt));
  }

  /** The DynamoDB adapter's `openAt` condition: the stored attempt is open at this generation. */
  private isOpenAt(attempt: PgAttempt): boolean {
    const stored = this.storedAttempt(attempt.paymentId, attempt.operation);
    return stored?.status === 'open' && stored.generation === attempt.generation;
  }
}
