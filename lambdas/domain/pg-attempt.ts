/**
 * PG attempts: the intent to move money, recorded before the PG is called. Pure.
 *
 * Every operation that moves money at the PG (authorize a card, refund a charge) runs in three
 * phases around one PG idempotency key derived from our own ids:
 * 1. pre-call: the attempt is written (open) together with a check that the payment is still at
 *    the version it was planned on; a payment has at most one open attempt per operation, and a
 *    money-moving change is refused while another operation's attempt is open;
 * 2. the call: the PG is asked with the attempt's key, so a repeat (a retry, a twin request, the
 *    reconciler) gets the first answer and never moves money twice;
 * 3. post-call: the PG's answer is committed with the payment's transition and its event, and
 *    closes the attempt, in one transaction.
 * An attempt is not a payment change: it yields no event and does not move the payment's version.
 * An attempt left open (a lost answer, a killed function) is closed by the reconciler, which asks
 * the PG what happened and commits that.
 */
import { PgAttemptInProgressError } from './errors';
import type { Payment } from './payment';

export const PG_OPERATIONS = ['authorize', 'refund'] as const;
export type PgOperation = (typeof PG_OPERATIONS)[number];

/** How an attempt ended. */
export type PgAttemptOutcome =
  /** The PG charged the payment (authorize). */
  | 'approved'
  /** The PG refused the charge (authorize): no money moved. */
  | 'declined'
  /** The PG refunded the charge (refund). */
  | 'refunded'
  /** The PG never saw the request: no money moved, the payment did not change. */
  | 'not-found';

/**
 * What the buyer authorizes a charge with: a card token (the sandbox PG) or the `paymentKey` that
 * Toss Payments' payment window hands the buyer's browser (a Toss PG).
 */
export type PaymentCredential =
  | { readonly cardToken: string; readonly paymentKey?: undefined }
  | { readonly paymentKey: string; readonly cardToken?: undefined };

/** What the PG call sends; a retry resends exactly this under the same key. */
export type PgAttemptRequest =
  | ({ readonly operation: 'authorize' } & PaymentCredential)
  | { readonly operation: 'refund'; readonly reason: string; readonly pgTransactionId: string };

export interface PgAttempt {
  readonly paymentId: string;
  readonly operation: PgOperation;
  /** Attempts of one operation on one payment are numbered from 1; a new one only after the last moved no money. */
  readonly generation: number;
  /** Sent to the PG with every call of this attempt. */
  readonly pgIdempotencyKey: string;
  readonly request: PgAttemptRequest;
  /** The payment's version the attempt was planned on; the post-call commit expects it. */
  readonly paymentVersion: number;
  readonly amount: number;
  readonly currency: string;
  readonly startedAt: string;
  readonly status: 'open' | 'closed';
  readonly outcome?: PgAttemptOutcome;
  readonly closedAt?: string;
}

/** What the PG answered to an attempt (or to the reconciler's lookup of it). */
export type PgAnswer =
  | { readonly outcome: 'approved'; readonly pgTransactionId: string }
  | { readonly outcome: 'declined'; readonly reason: string }
  | { readonly outcome: 'refunded'; readonly refundId: string }
  | { readonly outcome: 'not-found' };

/** `<paymentId>:<operation>:<generation>`: derived from our ids only, so any retry of the attempt finds it again. */
export function pgIdempotencyKey(paymentId: string, operation: PgOperation, generation: number): string {
  return `${paymentId}:${operation}:${generation}`;
}

/** What to do before calling the PG. */
export type AttemptPlan =
  /** Write this new attempt (conditioned on the payment's version and on `replaces`), then call the PG. */
  | { readonly kind: 'open'; readonly attempt: PgAttempt; readonly replaces?: PgAttempt }
  /** An identical attempt is already open: call the PG again with its key (it answers the first result). */
  | { readonly kind: 'resume'; readonly attempt: PgAttempt };

/** Field by field: a stored request comes back with its fields in any order. */
function sameRequest(a: PgAttemptRequest, b: PgAttemptRequest): boolean {
  if (a.operation === 'authorize' && b.operation === 'authorize') return a.cardToken === b.cardToken && a.paymentKey === b.paymentKey;
  if (a.operation === 'refund' && b.operation === 'refund') return a.reason === b.reason && a.pgTransactionId === b.pgTransactionId;
  return false;
}

/**
 * Plans the pre-call phase of `request` on `payment`, given the payment's attempts (any
 * operation). The caller has checked that the transition is allowed from the payment's status.
 * @throws PgAttemptInProgressError when another attempt is open on the payment (another
 *   operation, or the same operation with a different request)
 */
export function planAttempt(
  payment: Payment,
  request: PgAttemptRequest,
  attempts: readonly PgAttempt[],
  now: string,
): AttemptPlan {
  const open = attempts.filter((attempt) => attempt.status === 'open');
  const blocking = open.find((attempt) => attempt.operation !== request.operation || !sameRequest(attempt.request, request));
  if (blocking) throw new PgAttemptInProgressError(payment.paymentId, blocking.operation);
  const same = open.find((attempt) => attempt.operation === request.operation);
  if (same) return { kind: 'resume', attempt: same };

  const previous = attempts
    .filter((attempt) => attempt.operation === request.operation)
    .reduce<PgAttempt | undefined>((last, attempt) => (last && last.generation > attempt.generation ? last : attempt), undefined);
  const generation = (previous?.generation ?? 0) + 1;
  const attempt: PgAttempt = {
    paymentId: payment.paymentId,
    operation: request.operation,
    generation,
    pgIdempotencyKey: pgIdempotencyKey(payment.paymentId, request.operation, generation),
    request,
    paymentVersion: payment.version,
    amount: payment.amount,
    currency: payment.currency,
    startedAt: now,
    status: 'open',
  };
  return { kind: 'open', attempt, ...(previous && { replaces: previous }) };
}

/** The attempt closed with the PG's answer. */
export function closeAttempt(attempt: PgAttempt, answer: PgAnswer, now: string): PgAttempt {
  const allowed: Readonly<Record<PgOperation, readonly PgAttemptOutcome[]>> = {
    authorize: ['approved', 'declined', 'not-found'],
    refund: ['refunded', 'not-found'],
  };
  if (!allowed[attempt.operation].includes(answer.outcome)) {
    throw new Error(`A ${attempt.operation} attempt cannot end ${answer.outcome}`);
  }
  return { ...attempt, status: 'closed', outcome: answer.outcome, closedAt: now };
}

/** Open attempts older than the grace period, oldest first: the reconciler's work. */
export function attemptsToReconcile(open: readonly PgAttempt[], now: Date, graceSeconds: number): PgAttempt[] {
  const cutoff = now.getTime() - graceSeconds * 1000;
  return open
    .filter((attempt) => attempt.status === 'open' && Date.parse(attempt.startedAt) <= cutoff)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Seconds the oldest open attempt has been open (0 when none): the reconciler's alarm metric. */
export function oldestOpenAttemptAgeSeconds(open: readonly PgAttempt[], now: Date): number {
  const starts = open.filter((attempt) => attempt.status === 'open').map((attempt) => Date.parse(attempt.startedAt));
  return starts.length === 0 ? 0 : Math.max(0, Math.floor((now.getTime() - Math.min(...starts)) / 1000));
}
