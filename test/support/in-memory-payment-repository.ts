import { IdempotencyRecordExistsError, PaymentVersionConflictError } from '../../lambdas/domain/errors';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import type { Payment, PaymentChange } from '../../lambdas/domain/payment';
import type { IdempotencyRecord, PaymentRepository } from '../../lambdas/ports/payment-repository';

/**
 * A PaymentRepository with the same all-or-nothing and conditional semantics as the DynamoDB
 * adapter, for use-case unit tests. `failNextCommits` injects lost races.
 */
export class InMemoryPaymentRepository implements PaymentRepository {
  readonly payments = new Map<string, Payment>();
  readonly events = new Map<string, EventEnvelope[]>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  commitCalls = 0;
  private injectedConflicts = 0;

  failNextCommits(count: number): void {
    this.injectedConflicts = count;
  }

  async getPayment(paymentId: string) {
    return this.payments.get(paymentId);
  }

  async listEvents(paymentId: string) {
    return [...(this.events.get(paymentId) ?? [])].sort((a, b) => a.sequence - b.sequence);
  }

  async getIdempotencyRecord(key: string) {
    return this.idempotency.get(key);
  }

  async commit(change: PaymentChange, record?: IdempotencyRecord) {
    this.commitCalls++;
    const { payment, event, expectedVersion } = change;
    if (this.injectedConflicts > 0) {
      this.injectedConflicts--;
      throw new PaymentVersionConflictError(payment.paymentId, expectedVersion);
    }
    if (record && this.idempotency.has(record.key)) throw new IdempotencyRecordExistsError(record.key);
    const stored = this.payments.get(payment.paymentId);
    if ((stored?.version ?? 0) !== expectedVersion) throw new PaymentVersionConflictError(payment.paymentId, expectedVersion);
    const events = this.events.get(payment.paymentId) ?? [];
    if (events.some((e) => e.sequence === event.sequence)) throw new PaymentVersionConflictError(payment.paymentId, expectedVersion);
    this.payments.set(payment.paymentId, payment);
    this.events.set(payment.paymentId, [...events, event]);
    if (record) this.idempotency.set(record.key, record);
  }

  allEvents(): EventEnvelope[] {
    return [...this.events.values()].flat();
  }
}
