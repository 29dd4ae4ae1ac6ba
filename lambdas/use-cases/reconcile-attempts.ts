/**
 * The reconciler: closes PG attempts left open (a lost answer, a killed function, a PG outage)
 * by asking the PG what happened under the attempt's key, and commits that with its event, as
 * the interrupted request would have: approved, declined, or refunded. An attempt the PG never
 * saw is closed without a payment change (the next confirm opens a new generation).
 */
import { PaymentVersionConflictError } from '../domain/errors';
import type { Payment, PaymentChange } from '../domain/payment';
import { cancelPayment, confirmPayment } from '../domain/payment';
import { attemptsToReconcile, closeAttempt, oldestOpenAttemptAgeSeconds, type PgAnswer, type PgAttempt } from '../domain/pg-attempt';
import type { PgChangeDeps } from './change-with-pg';
import { authorizationOf, refundOf } from './payment-commands';

export interface ReconcileSettings {
  readonly now: Date;
  /** Seconds an attempt may stay open before the reconciler takes it (beyond any request still in flight). */
  readonly graceSeconds: number;
  /** Most open attempts one run reads. */
  readonly limit: number;
}

export type ReconcileResult =
  | { readonly attempt: PgAttempt; readonly outcome: PgAnswer['outcome']; readonly committed: 'payment-change' | 'attempt-only' }
  | { readonly attempt: PgAttempt; readonly failed: string; readonly error?: unknown };

export interface ReconcileReport {
  readonly open: number;
  readonly oldestOpenAgeSeconds: number;
  readonly results: readonly ReconcileResult[];
}

/** The change the attempt's answer makes to the payment. */
function changeOf(payment: Payment, attempt: PgAttempt, answer: PgAnswer, ctx: { now: string; eventId: string }): PaymentChange {
  if (attempt.request.operation === 'authorize') return confirmPayment(payment, authorizationOf(answer), ctx);
  return cancelPayment(payment, attempt.request.reason, ctx, refundOf(answer));
}

/** Reconciles one attempt. */
export async function reconcileAttempt(deps: PgChangeDeps, attempt: PgAttempt): Promise<ReconcileResult> {
  try {
    const answer = await deps.gateway.lookup({ paymentId: attempt.paymentId, operation: attempt.operation, idempotencyKey: attempt.pgIdempotencyKey });
    const now = deps.clock.now().toISOString();
    const closed = closeAttempt(attempt, answer, now);
    if (answer.outcome === 'not-found') {
      await deps.attempts.closeAttempt(closed);
      return { attempt, outcome: answer.outcome, committed: 'attempt-only' };
    }
    const payment = await deps.repository.getPayment(attempt.paymentId);
    if (!payment) return { attempt, failed: 'payment not found' };
    if (payment.version !== attempt.paymentVersion) return { attempt, failed: `payment moved to version ${payment.version} past the attempt's ${attempt.paymentVersion}` };
    await deps.repository.commit(changeOf(payment, attempt, answer, { now, eventId: deps.ids.newId() }), undefined, { close: closed });
    return { attempt, outcome: answer.outcome, committed: 'payment-change' };
  } catch (error) {
    // A lost race: the interrupted request (or a retry) closed it first; the next run sees it closed.
    if (error instanceof PaymentVersionConflictError) return { attempt, failed: 'closed concurrently' };
    return { attempt, failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error), error };
  }
}

/** One run: every open attempt past the grace period, oldest first. */
export async function reconcileAttempts(settings: ReconcileSettings, deps: PgChangeDeps): Promise<ReconcileReport> {
  const open = await deps.attempts.listOpenAttempts(settings.limit);
  const due = attemptsToReconcile(open, settings.now, settings.graceSeconds);
  const results: ReconcileResult[] = [];
  for (const attempt of due) results.push(await reconcileAttempt(deps, attempt));
  const stillOpen = open.filter((attempt) => !results.some((result) => result.attempt === attempt && !('failed' in result)));
  return { open: stillOpen.length, oldestOpenAgeSeconds: oldestOpenAttemptAgeSeconds(stillOpen, settings.now), results };
}
