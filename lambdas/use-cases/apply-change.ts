import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeReadConflictError,
  ConcurrentModificationError,
  IdempotencyKeyReusedError,
  IdempotencyRecordExistsError,
  PaymentVersionConflictError,
} from '../domain/errors';
import type { ChangeContext, Payment, PaymentChange } from '../domain/payment';
import type { Clock, IdGenerator } from '../ports/clock';
import type { AttemptGuard, ChangeSnapshot, PaymentRepository } from '../ports/payment-repository';

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

/** The payment a change is planned on, and what it reads with it. */
export interface ChangeTarget {
  readonly paymentId: string;
  readonly successStatus: number;
  readonly idempotency?: IdempotencyRequest;
  /**
   * What each round reads, in one request: `new-payment` reads no payment (a fresh id cannot exist;
   * the commit's conditions guard it), only the idempotency record when there is a key;
   * `payment` the payment (and the record); `payment-and-attempts` its PG attempts too.
   */
  readonly reads: 'new-payment' | 'payment' | 'payment-and-attempts';
}

/**
 * The optimistic-concurrency loop every state change runs in: one read per round (the payment, the
 * idempotency record, the attempts, as the target asks, in one consistent request), replay an
 * idempotent request if it was already answered, let `plan` decide (it may do I/O, e.g. call the
 * PG), commit atomically; on a lost race read again and plan again with jittered backoff, then give
 * up with CONCURRENT_MODIFICATION. `context()` gives a fresh event id and time for the round.
 */
export async function commitWithRetries(
  deps: UseCaseDeps,
  target: ChangeTarget,
  plan: (read: ChangeSnapshot, context: () => ChangeContext) => Promise<PlannedCommit>,
): Promise<ChangeOutcome> {
  const retry = deps.retry ?? DEFAULT_RETRY_POLICY;
  const random = deps.random ?? Math.random;
  const { idempotency } = target;
  const context = (): ChangeContext => ({ now: deps.clock.now().toISOString(), eventId: deps.ids.newId() });
  for (let round = 1; round <= retry.maxAttempts; round++) {
    try {
      // The record is read with the payment as of one instant: a concurrent twin commits both in one
      // transaction, so either its record is here (replay) or the payment predates its commit and
      // our own commit loses on its conditions and comes back here.
      const read = await readRound(deps.repository, target);
      const earlier = read.idempotencyRecord;
      if (idempotency && earlier) {
        if (earlier.requestHash !== idempotency.requestHash) throw new IdempotencyKeyReusedError(idempotency.key);
        return { payment: earlier.response, statusCode: earlier.statusCode, replayed: true };
      }
      const { change, attempts } = await plan(read, context);
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
      const lostRace =
        error instanceof PaymentVersionConflictError || error instanceof IdempotencyRecordExistsError || error instanceof ChangeReadConflictError;
      if (!lostRace) throw error;
      if (round < retry.maxAttempts) await sleep(random() * retry.baseDelayMs * 2 ** (round - 1));
    }
  }
  throw new ConcurrentModificationError(target.paymentId);
}

/** The one read of a round (none for a new payment without a key). */
async function readRound(repository: PaymentRepository, target: ChangeTarget): Promise<ChangeSnapshot> {
  const idempotencyKey = target.idempotency?.key;
  if (target.reads === 'new-payment') {
    const idempotencyRecord = idempotencyKey === undefined ? undefined : await repository.getIdempotencyRecord(idempotencyKey);
    return { payment: undefined, attempts: [], ...(idempotencyRecord && { idempotencyRecord }) };
  }
  return repository.readForChange({
    paymentId: target.paymentId,
    ...(idempotencyKey !== undefined && { idempotencyKey }),
    withAttempts: target.reads === 'payment-and-attempts',
  });
}

/** A state change decided from the payment alone (no PG call), in the loop of `commitWithRetries`. */
export function applyChange(
  deps: UseCaseDeps,
  target: { paymentId: string; successStatus: number; idempotency?: IdempotencyRequest },
  decide: (current: Payment | undefined, ctx: ChangeContext) => PaymentChange,
): Promise<ChangeOutcome> {
  return commitWithRetries(deps, { ...target, reads: 'payment' }, async (read, context) => ({ change: decide(read.payment, context()) }));
}
