/**
 * A deposit callback from a PG that does not sign its callbacks (Toss Payments): it carries the
 * secret the PG issued with the virtual account instead. The callback is trusted only when that
 * secret matches the one stored with the payment (compared in constant time), and the deposit is
 * recorded only after the PG's own lookup shows the money arrived, with the amount the PG reports.
 * The PG resends until it gets 200, so 200 means committed (or committed earlier).
 */
import { timingSafeEqual } from 'node:crypto';
import { AmountMismatchError, DepositNotConfirmedError, InvalidSignatureError, InvalidStateTransitionError, PaymentNotFoundError } from '../domain/errors';
import { recordDeposit } from '../domain/payment';
import type { DepositLookup } from '../ports/payment-gateway';
import type { PgAttemptStore } from '../ports/payment-repository';
import { commitWithRetries, type ChangeOutcome, type UseCaseDeps } from './apply-change';
import { requestFingerprint } from './request-fingerprint';

export interface VerifiedDepositDeps extends UseCaseDeps {
  readonly attempts: Pick<PgAttemptStore, 'getCallbackSecret'>;
  readonly deposits: DepositLookup;
}

/** A deposit callback as the PG sent it, in our words. */
export interface DepositCallback {
  /** Our payment id (the order id we gave the PG). */
  readonly paymentId: string;
  /** The PG's id of this callback's transaction: resends carry the same one. */
  readonly pgEventId: string;
  /** The status the PG reports: only `deposited` moves the payment. */
  readonly status: 'deposited' | 'other';
  /** The PG's raw status, for logs and answers. */
  readonly pgStatus: string;
  readonly secret: string;
}

function sameSecret(expected: string, presented: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(presented, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * @throws PaymentNotFoundError for an order this store does not know (4xx: the PG resends, nothing is lost)
 * @throws InvalidSignatureError when the secret does not match (or the payment has none)
 * @throws DepositNotConfirmedError when the PG's lookup does not show the deposit
 * @throws AmountMismatchError when the PG reports another amount than the payment's
 */
export async function recordVerifiedDepositUseCase(deps: VerifiedDepositDeps, callback: DepositCallback): Promise<ChangeOutcome> {
  const current = await deps.repository.getPayment(callback.paymentId);
  if (!current) throw new PaymentNotFoundError(callback.paymentId);
  const expected = await deps.attempts.getCallbackSecret(callback.paymentId);
  if (expected === undefined || !sameSecret(expected, callback.secret)) {
    throw new InvalidSignatureError('The callback secret does not match the one the payment gateway issued for this payment');
  }
  if (callback.status !== 'deposited') {
    // A deposit the PG took back (Toss moves DONE back to WAITING_FOR_DEPOSIT on a deposit error)
    // after we announced it: refused, so the PG keeps resending and an operator is told.
    if (current.status === 'APPROVED' && current.depositedAt !== undefined) {
      throw new InvalidStateTransitionError(current.status, 'take back the deposit of', `the PG reports ${callback.pgStatus}; an operator must settle it`);
    }
    // Anything else (the account issued, or closed by our own cancel) is acknowledged and changes
    // nothing: a payment is approved only by money that arrived.
    return { payment: current, statusCode: 200, replayed: false };
  }
  // A resend after the deposit was recorded (under this or any earlier callback).
  if (current.status === 'APPROVED' && current.depositedAt !== undefined) return { payment: current, statusCode: 200, replayed: true };

  const idempotency = {
    key: `pg:deposit:${callback.pgEventId}`,
    requestHash: requestFingerprint('deposit-callback', { paymentId: callback.paymentId, pgEventId: callback.pgEventId, status: callback.pgStatus }),
    successStatus: 200,
  };
  return commitWithRetries(deps, { paymentId: callback.paymentId, successStatus: 200, idempotency, reads: 'payment' }, async ({ payment }, context) => {
    if (!payment) throw new PaymentNotFoundError(callback.paymentId);
    const finding = await deps.deposits.findDeposit({ paymentId: callback.paymentId });
    if (finding.status !== 'deposited') {
      throw new DepositNotConfirmedError(callback.paymentId, finding.status === 'not-found' ? 'unknown to the PG' : finding.pgStatus);
    }
    if (finding.amount !== payment.amount) throw new AmountMismatchError(payment.amount, finding.amount);
    return {
      change: recordDeposit(payment, { pgTransactionId: finding.pgTransactionId, amount: finding.amount, depositedAt: finding.depositedAt }, context()),
    };
  });
}
