/**
 * A payment change that may move money at the PG, crash-safe (see domain/pg-attempt.ts):
 * the attempt is recorded before the PG is called, the PG is called with the attempt's
 * idempotency key, and its answer is committed with the payment's transition and its event,
 * closing the attempt, in one transaction. Whatever fails in between leaves an open attempt
 * that a retry resumes (same key, the PG answers the first result) or the reconciler closes.
 */
import { PaymentNotFoundError, PgAttemptInProgressError, PgRequestRejectedError } from '../domain/errors';
import type { ChangeContext, Payment, PaymentChange } from '../domain/payment';
import { closeAttempt, planAttempt, type PgAnswer, type PgAttempt, type PgAttemptRequest, type PgOperation } from '../domain/pg-attempt';
import type { PaymentGateway } from '../ports/payment-gateway';
import type { PgAttemptStore } from '../ports/payment-repository';
import { commitWithRetries, type ChangeOutcome, type IdempotencyRequest, type UseCaseDeps } from './apply-change';

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
        idempotencyKey: attempt.pgIdempotencyKey,
        ...(request.paymentKey !== undefined ? { paymentKey: request.paymentKey } : { cardToken: request.cardToken }),
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
 * Runs the change in `commitWithRetries`' loop, the payment read with its attempts (and the
 * idempotency record) in one request: on a lost race they are read again and the change planned
 * again (an identical open attempt is resumed, same key).
 * @throws PgUnavailableError when the PG is down or slow: nothing changed, the attempt stays open
 * @throws PgAttemptInProgressError when another money movement on the payment is in flight
 * @throws PgRequestRejectedError when the PG refused the caller's credential: the attempt is closed, nothing changed
 */
export function changeWithPg(
  deps: PgChangeDeps,
  target: { readonly paymentId: string; readonly successStatus: number; readonly idempotency?: IdempotencyRequest },
  step: (payment: Payment) => PgStep,
): Promise<ChangeOutcome> {
  return commitWithRetries(deps, { ...target, reads: 'payment-and-attempts' }, async ({ payment, attempts }, context) => {
    if (!payment) throw new PaymentNotFoundError(target.paymentId);
    const planned = step(payment);
    if (!planned.request) {
      const open = attempts.find((attempt) => attempt.status === 'open' && planned.noneOpen.includes(attempt.operation));
      if (open) throw new PgAttemptInProgressError(payment.paymentId, open.operation);
      await planned.prepare?.();
      return { change: planned.decide(undefined, context()), attempts: { noneOpen: planned.noneOpen } };
    }
    const plan = planAttempt(payment, planned.request, attempts, deps.clock.now().toISOString());
    if (plan.kind === 'open') await deps.attempts.openAttempt(plan.attempt, plan.replaces);
    const answer = await callPg(deps.gateway, plan.attempt).catch(async (error: unknown) => {
      // The PG refused the caller's credential: no money moved, so the attempt closes without a
      // payment change and a corrected request opens the next generation.
      if (error instanceof PgRequestRejectedError) {
        await deps.attempts.closeAttempt(closeAttempt(plan.attempt, { outcome: 'not-found' }, deps.clock.now().toISOString()));
      }
      throw error;
    });
    const ctx = context();
    return { change: planned.decide(answer, ctx), attempts: { close: closeAttempt(plan.attempt, answer, ctx.now) } };
  });
}
