import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConcurrentModificationError,
  IdempotencyKeyReusedError,
  IdempotencyRecordExistsError,
  PaymentVersionConflictError,
} from '../domain/errors';
import type { ChangeContext, Payment, PaymentChange } from '../domain/payment';
import type { Clock, IdGenerator } from '../ports/clock';
import type { PaymentRepository } from '../ports/payment-repository';

export interface RetryPolicy {
  /** Attempts before answering CONCURRENT_MODIFICATION. */
  readonly maxAttempts: number;
  /** Upper bound of the first backoff; doubles per attempt, full jitter. */
  readonly baseDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 20 };

export interface UseCaseDeps {
  readonly repository: PaymentRepository;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly retry?: RetryPolicy;
  readonly random?: () => number;
}

/** An idempotency key presented with the request, and what a first success answers. */
export interface IdempotencyRequest {
  readonly key: string;
  readonly requestHash: string;
  readonly successStatus: number;
}

export interface ChangeOutcome {
  readonly payment: Payment;
  readonly statusCode: number;
  /** True when the answer is the stored result of an earlier identical request. */
  readonly replayed: boolean;
}

/**
 * Runs one state change with optimistic concurrency: replay an idempotent request if it was
 * already answered, read the payment, let the domain decide, commit atomically; on a lost race
 * retry with jittered backoff, then give up with CONCURRENT_MODIFICATION.
 */
export async function applyChange(
  deps: UseCaseDeps,
  target: { paymentId: string; successStatus: number; idempotency?: IdempotencyRequest },
  decide: (current: Payment | undefined, ctx: ChangeContext) => PaymentChange,
): Promise<ChangeOutcome> {
  const retry = deps.retry ?? DEFAULT_RETRY_POLICY;
  const random = deps.random ?? Math.random;
  const { idempotency } = target;
  for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
    // The payment is read before the idempotency record: a concurrent twin commits both in one
    // transaction, so if its record is still absent afterwards, the payment read predates its
    // commit and our own commit will lose on the version condition and come back here.
    const current = await deps.repository.getPayment(target.paymentId);
    if (idempotency) {
      const earlier = await deps.repository.getIdempotencyRecord(idempotency.key);
      if (earlier) {
        if (earlier.requestHash !== idempotency.requestHash) throw new IdempotencyKeyReusedError(idempotency.key);
        return { payment: earlier.response, statusCode: earlier.statusCode, replayed: true };
      }
    }
    const ctx: ChangeContext = { now: deps.clock.now().toISOString(), eventId: deps.ids.newId() };
    const change = decide(current, ctx);
    const record = idempotency && {
      key: idempotency.key,
      requestHash: idempotency.requestHash,
      paymentId: change.payment.paymentId,
      statusCode: target.successStatus,
      response: change.payment,
      createdAt: ctx.now,
    };
    try {
      await deps.repository.commit(change, record);
      return { payment: change.payment, statusCode: target.successStatus, replayed: false };
    } catch (error) {
      const lostRace = error instanceof PaymentVersionConflictError || error instanceof IdempotencyRecordExistsError;
      if (!lostRace) throw error;
      if (attempt < retry.maxAttempts) await sleep(random() * retry.baseDelayMs * 2 ** (attempt - 1));
    }
  }
  throw new ConcurrentModificationError(target.paymentId);
}
