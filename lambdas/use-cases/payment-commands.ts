import type { CancelPaymentCommand, ConfirmPaymentCommand, CreatePaymentCommand, DepositNotification } from '../domain/commands';
import { CurrencyNotSupportedError, PaymentNotFoundError } from '../domain/errors';
import {
  assertCancellable,
  assertConfirmable,
  cancelNeedsRefund,
  cancelPayment,
  confirmPayment,
  createPayment,
  recordDeposit,
  type AuthorizationResult,
  type ChangeContext,
  type Payment,
} from '../domain/payment';
import { PG_OPERATIONS, type PaymentCredential, type PgAnswer } from '../domain/pg-attempt';
import type { IssuedVirtualAccount } from '../ports/payment-gateway';
import { applyChange, commitWithRetries, type ChangeOutcome, type UseCaseDeps } from './apply-change';
import { changeWithPg, type PgChangeDeps } from './change-with-pg';
import { requestFingerprint } from './request-fingerprint';

export type PaymentCommandDeps = PgChangeDeps;

/** Namespaces keep a caller's key from ever colliding with a PG transaction id. */
const callerKey = (key: string) => `api:${key}`;
const pgDepositKey = (pgTransactionId: string) => `pg:deposit:${pgTransactionId}`;

function existing(current: Payment | undefined, paymentId: string): Payment {
  if (!current) throw new PaymentNotFoundError(paymentId);
  return current;
}

function callerIdempotency(operation: string, request: unknown, key: string | undefined, successStatus: number) {
  return key === undefined
    ? undefined
    : { key: callerKey(key), requestHash: requestFingerprint(operation, request), successStatus };
}

/** POST /payments: a new payment (READY, or WAITING_FOR_DEPOSIT with a bank account) and its `payment.created` event. */
export async function createPaymentUseCase(
  deps: PaymentCommandDeps,
  command: CreatePaymentCommand,
  idempotencyKey?: string,
): Promise<ChangeOutcome> {
  const { supportedCurrencies } = deps.gateway;
  if (supportedCurrencies && !supportedCurrencies.includes(command.currency)) {
    throw new CurrencyNotSupportedError(command.currency, supportedCurrencies, deps.gateway.name);
  }
  const idempotency = callerIdempotency('create', command, idempotencyKey, 201);
  const paymentId = deps.ids.newId();
  // No buyer has seen this account yet: should the commit below fail, nobody deposits into it.
  // Issued once, after the replay check (a replay asks the PG for no other account), and reused by every round.
  let issued: Promise<IssuedVirtualAccount> | undefined;
  const issueAccount = () =>
    (issued ??= deps.gateway.issueVirtualAccount({
      paymentId,
      orderId: command.orderId,
      amount: command.amount,
      currency: command.currency,
      idempotencyKey: `${paymentId}:issue-account:1`,
    }));
  // A fresh id cannot exist: no read of the payment; the commit's conditions guard it (and the key's record).
  return commitWithRetries(deps, { paymentId, successStatus: 201, reads: 'new-payment', ...(idempotency && { idempotency }) }, async (_read, context) => {
    const account = command.method === 'VIRTUAL_ACCOUNT' ? await issueAccount() : undefined;
    return {
      change: createPayment(
        {
          paymentId,
          ...command,
          ...(account && { virtualAccount: account.account }),
          ...(account?.pgTransactionId !== undefined && { pgTransactionId: account.pgTransactionId }),
        },
        context(),
      ),
      ...(account?.callbackSecret !== undefined && { attempts: { callbackSecret: account.callbackSecret } }),
    };
  });
}

/**
 * POST /payments/{id}/confirm: the PG authorizes under the payment's open attempt (recorded
 * first); its answer is committed with `payment.approved` or `payment.failed`, closing the attempt.
 */
export function confirmPaymentUseCase(
  deps: PaymentCommandDeps,
  paymentId: string,
  command: ConfirmPaymentCommand,
  idempotencyKey?: string,
): Promise<ChangeOutcome> {
  const idempotency = callerIdempotency(`confirm:${paymentId}`, command, idempotencyKey, 200);
  return changeWithPg(deps, { paymentId, successStatus: 200, ...(idempotency && { idempotency }) }, (payment) => {
    assertConfirmable(payment);
    return {
      request: { operation: 'authorize', ...credentialOf(command) },
      decide: (answer: PgAnswer, ctx: ChangeContext) => confirmPayment(payment, authorizationOf(answer), ctx),
    };
  });
}

/**
 * POST /payments/{id}/cancel: an approved payment is refunded at the PG first (under its own
 * attempt) and its `payment.cancelled` carries the refund; a payment not yet charged is cancelled
 * without a PG call, and not while a charge of it is in flight.
 */
export function cancelPaymentUseCase(
  deps: PaymentCommandDeps,
  paymentId: string,
  command: CancelPaymentCommand,
  idempotencyKey?: string,
): Promise<ChangeOutcome> {
  const idempotency = callerIdempotency(`cancel:${paymentId}`, command, idempotencyKey, 200);
  return changeWithPg(deps, { paymentId, successStatus: 200, ...(idempotency && { idempotency }) }, (payment) => {
    assertCancellable(payment);
    if (!cancelNeedsRefund(payment)) {
      return {
        noneOpen: PG_OPERATIONS,
        // An issued account is closed at the PG first, so no deposit lands on a cancelled payment.
        ...(payment.status === 'WAITING_FOR_DEPOSIT' && {
          prepare: () =>
            deps.gateway.closeVirtualAccount({
              paymentId: payment.paymentId,
              ...(payment.pgTransactionId !== undefined && { pgTransactionId: payment.pgTransactionId }),
              idempotencyKey: `${payment.paymentId}:close-account:1`,
            }),
        }),
        decide: (_answer: undefined, ctx: ChangeContext) => cancelPayment(payment, command.reason, ctx),
      };
    }
    return {
      request: { operation: 'refund', reason: command.reason, pgTransactionId: payment.pgTransactionId ?? '' },
      decide: (answer: PgAnswer, ctx: ChangeContext) => cancelPayment(payment, command.reason, ctx, refundOf(answer)),
    };
  });
}

/** The credential of a confirm, exactly one of the two (the API's schema for the stack's PG allows only its own). */
function credentialOf(command: ConfirmPaymentCommand): PaymentCredential {
  if (command.paymentKey !== undefined) return { paymentKey: command.paymentKey };
  if (command.cardToken !== undefined) return { cardToken: command.cardToken };
  throw new Error('A confirm carries a cardToken or a paymentKey');
}

/** The PG's answer to an authorize, as the payment's state machine takes it. */
export function authorizationOf(answer: PgAnswer): AuthorizationResult {
  if (answer.outcome === 'approved') return { approved: true, pgTransactionId: answer.pgTransactionId };
  if (answer.outcome === 'declined') return { approved: false, reason: answer.reason };
  throw new Error(`An authorize cannot answer ${answer.outcome}`);
}

/** The PG's answer to a refund, as the cancellation takes it. */
export function refundOf(answer: PgAnswer): { refundId: string } {
  if (answer.outcome !== 'refunded') throw new Error(`A refund cannot answer ${answer.outcome}`);
  return { refundId: answer.refundId };
}

/**
 * POST /pg/webhooks/deposits: the PG resends until it gets 200, so the PG transaction id is the
 * idempotency key; a resend answers the first result and writes nothing.
 */
export function recordDepositUseCase(deps: UseCaseDeps, notification: DepositNotification): Promise<ChangeOutcome> {
  const idempotency = {
    key: pgDepositKey(notification.pgTransactionId),
    requestHash: requestFingerprint('deposit', notification),
    successStatus: 200,
  };
  return applyChange(deps, { paymentId: notification.paymentId, successStatus: 200, idempotency }, (current, ctx) =>
    recordDeposit(existing(current, notification.paymentId), notification, ctx),
  );
}
