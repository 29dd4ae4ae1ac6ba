import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConcurrentModificationError,
  IdempotencyKeyReusedError,
  IdempotencyRecordExistsError,
  PaymentVersionConflictError,
} from '../domain/errors';
import type { ChangeContext, Payment, PaymentChange } from '../domain/payment';
import type { Clock, IdGenerator } from '../ports/clock';
import type { AttemptGuard, PaymentRepository } from '../ports/payment-repository';

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

/** What one round of a change commits: the change, and what it does to the payment's PG attempts. */
export interface PlannedCommit {
  readonly change: PaymentChange;
  readonly attempts?: AttemptGuard;
}

/**
 * The optimistic-concurrency loop every state change runs in: replay an idempotent request if it
 * was already answered, read the payment, let `plan` decide (it may do I/O, e.g. call the PG),
 * commit atomically; on a lost race re-read and plan again with jittered backoff, then give up
 * with CONCURRENT_MODIFICATION. `context()` gives a fresh event id and time for the round.
 */
export async function commitWithRetries(
  deps: UseCaseDeps,
  target: { paymentId: string; successStatus: number; idempotency?: IdempotencyRequest },
  plan: (current: Payment | undefined, context: () => ChangeContext) => Promise<PlannedCommit>,
): Promise<ChangeOutcome> {
  const retry = deps.retry ?? DEFAULT_RETRY_POLICY;
  const random = deps.random ?? Math.random;
  const { idempotency } = target;
  const context = (): ChangeContext => ({ now: deps.clock.now().toISOString(), eventId: deps.ids.newId() });
  for (let round = 1; round <= retry.maxAttempts; round++) {
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
    try {
      const { change, attempts } = await plan(current, context);
      const record = idempotency && {
        key: idempotency.key,
        requestHash: idempotency.requestHash,
        paymentId: change.payment.paymentId,
        statusCode: target.successStatus,
        response: change.payment,
        createdAt: change.event.occurredAt,
      };
      await deps.repository.commit(change, record, attempts);
      return { payment: change.payment, statusCode: target.successStatus, replayed: false };
    } catch (error) {
      const lostRace = error instanceof PaymentVersionConflictError || error instanceof IdempotencyRecordExistsError;
      if (!lostRace) throw error;
      if (round < retry.maxAttempts) await sleep(random() * retry.baseDelayMs * 2 ** (round - 1));
    }
  }
  throw new ConcurrentModificationError(target.paymentId);
}

/** A state change decided from the payment alone (no PG call), in the loop of `commitWithRetries`. */
export function applyChange(
  deps: UseCaseDeps,
  target: { paymentId: string; successStatus: number; idempotency?: IdempotencyRequest },
  decide: (current: Payment | undefined, ctx: ChangeContext) => PaymentChange,
): Promise<ChangeOutcome> {
  return commitWithRetries(deps, target, async (current, context) => ({ change: decide(current, context()) }));
}
