/**
 * A payment change that may move money at the PG, crash-safe (see domain/pg-attempt.ts):
 * the attempt is recorded before the PG is called, the PG is called with the attempt's
 * idempotency key, and its answer is committed with the payment's transition and its event,
 * closing the attempt, in one transaction. Whatever fails in between leaves an open attempt
 * that a retry resumes (same key, the PG answers the first result) or the reconciler closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConcurrentModificationError, IdempotencyKeyReusedError, IdempotencyRecordExistsError, PaymentNotFoundError, PaymentVersionConflictError, PgAttemptInProgressError } from '../domain/errors';
import type { ChangeContext, Payment, PaymentChange } from '../domain/payment';
import { closeAttempt, planAttempt, type PgAnswer, type PgAttempt, type PgAttemptRequest, type PgOperation } from '../domain/pg-attempt';
import type { PaymentGateway } from '../ports/payment-gateway';
import type { PgAttemptStore } from '../ports/payment-repository';
import { DEFAULT_RETRY_POLICY, type ChangeOutcome, type IdempotencyRequest, type UseCaseDeps } from './apply-change';

export interface PgChangeDeps extends UseCaseDeps {
  readonly gateway: PaymentGateway;
  readonly attempts: PgAttemptStore;
}

/** What a change needs from the PG, decided on the payment as read. */
export type PgStep =
  /** Move money with this request, then decide the change from the PG's answer. */
  | { readonly request: PgAttemptRequest; readonly decide: (answer: PgAnswer, ctx: ChangeContext) => PaymentChange }
  /** No PG call; the change commits only while none of `noneOpen` has an open attempt. */
  | {
      readonly request?: undefined;
      readonly noneOpen: readonly PgOperation[];
      /** A PG call that moves no money, made before the commit (closing a virtual account); idempotent. */
      readonly prepare?: () => Promise<void>;
      readonly decide: (answer: undefined, ctx: ChangeContext) => PaymentChange;
    };

/** Calls the PG for an attempt: the request it records, under its key. */
export function callPg(gateway: PaymentGateway, attempt: PgAttempt): Promise<PgAnswer> {
  const { request } = attempt;
  return request.operation === 'authorize'
    ? gateway.authorize({
        paymentId: attempt.paymentId,
        amount: attempt.amount,
        currency: attempt.currency,
        cardToken: request.cardToken,
        idempotencyKey: attempt.pgIdempotencyKey,
      })
    : gateway.refund({
        paymentId: attempt.paymentId,
        pgTransactionId: request.pgTransactionId,
        amount: attempt.amount,
        reason: request.reason,
        idempotencyKey: attempt.pgIdempotencyKey,
      });
}

/**
 * Runs the change with optimistic concurrency like `applyChange`: replays an answered
 * idempotent request, re-reads and re-plans on a lost race, gives up with CONCURRENT_MODIFICATION.
 * @throws PgUnavailableError when the PG is down or slow: nothing changed, the attempt stays open
 * @throws PgAttemptInProgressError when another money movement on the payment is in flight
 */
export async function changeWithPg(
  deps: PgChangeDeps,
  target: { readonly paymentId: string; readonly successStatus: number; readonly idempotency?: IdempotencyRequest },
  step: (payment: Payment) => PgStep,
): Promise<ChangeOutcome> {
  const retry = deps.retry ?? DEFAULT_RETRY_POLICY;
  const random = deps.random ?? Math.random;
  const { idempotency } = target;
  for (let round = 1; round <= retry.maxAttempts; round++) {
    const payment = await deps.repository.getPayment(target.paymentId);
    if (idempotency) {
      const earlier = await deps.repository.getIdempotencyRecord(idempotency.key);
      if (earlier) {
        if (earlier.requestHash !== idempotency.requestHash) throw new IdempotencyKeyReusedError(idempotency.key);
        return { payment: earlier.response, statusCode: earlier.statusCode, replayed: true };
      }
    }
    if (!payment) throw new PaymentNotFoundError(target.paymentId);
    const planned = step(payment);
    const attempts = await deps.attempts.listAttempts(payment.paymentId);
    const now = deps.clock.now().toISOString();
    try {
      let change: PaymentChange;
      let close: PgAttempt | undefined;
      if (planned.request) {
        const plan = planAttempt(payment, planned.request, attempts, now);
        if (plan.kind === 'open') await deps.attempts.openAttempt(plan.attempt, plan.replaces);
        const answer = await callPg(deps.gateway, plan.attempt);
        const ctx: ChangeContext = { now: deps.clock.now().toISOString(), eventId: deps.ids.newId() };
        change = planned.decide(answer, ctx);
        close = closeAttempt(plan.attempt, answer, ctx.now);
      } else {
        const open = attempts.find((attempt) => attempt.status === 'open' && planned.noneOpen.includes(attempt.operation));
        if (open) throw new PgAttemptInProgressError(payment.paymentId, open.operation);
        await planned.prepare?.();
        change = planned.decide(undefined, { now, eventId: deps.ids.newId() });
      }
      const record = idempotency && {
        key: idempotency.key,
        requestHash: idempotency.requestHash,
        paymentId: change.payment.paymentId,
        statusCode: target.successStatus,
        response: change.payment,
        createdAt: change.event.occurredAt,
      };
      await deps.repository.commit(change, record, close ? { close } : { noneOpen: planned.request ? [] : planned.noneOpen });
      return { payment: change.payment, statusCode: target.successStatus, replayed: false };
    } catch (error) {
      const lostRace = error instanceof PaymentVersionConflictError || error instanceof IdempotencyRecordExistsError;
      if (!lostRace) throw error;
      if (round < retry.maxAttempts) await sleep(random() * retry.baseDelayMs * 2 ** (round - 1));
    }
  }
  throw new ConcurrentModificationError(target.paymentId);
}
