import type { CancelPaymentCommand, ConfirmPaymentCommand, CreatePaymentCommand, DepositNotification } from '../domain/commands';
import { PaymentNotFoundError } from '../domain/errors';
import {
  assertConfirmable,
  cancelPayment,
  confirmPayment,
  createPayment,
  recordDeposit,
  type Payment,
} from '../domain/payment';
import type { PaymentGateway } from '../ports/payment-gateway';
import { applyChange, type ChangeOutcome, type UseCaseDeps } from './apply-change';
import { requestFingerprint } from './request-fingerprint';

export interface PaymentCommandDeps extends UseCaseDeps {
  readonly gateway: PaymentGateway;
}

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
  const idempotency = callerIdempotency('create', command, idempotencyKey, 201);
  if (idempotency) {
    // Answer a replay before asking the PG for another bank account.
    const earlier = await deps.repository.getIdempotencyRecord(idempotency.key);
    if (earlier && earlier.requestHash === idempotency.requestHash) {
      return { payment: earlier.response, statusCode: earlier.statusCode, replayed: true };
    }
  }
  const paymentId = deps.ids.newId();
  const virtualAccount =
    command.method === 'VIRTUAL_ACCOUNT'
      ? await deps.gateway.issueVirtualAccount({ paymentId, amount: command.amount, currency: command.currency })
      : undefined;
  return applyChange(deps, { paymentId, successStatus: 201, idempotency }, (_current, ctx) =>
    createPayment({ paymentId, ...command, virtualAccount }, ctx),
  );
}

/** POST /payments/{id}/confirm: the PG authorizes once; the outcome is committed with retries. */
export async function confirmPaymentUseCase(
  deps: PaymentCommandDeps,
  paymentId: string,
  command: ConfirmPaymentCommand,
  idempotencyKey?: string,
): Promise<ChangeOutcome> {
  const idempotency = callerIdempotency(`confirm:${paymentId}`, command, idempotencyKey, 200);
  if (idempotency) {
    const earlier = await deps.repository.getIdempotencyRecord(idempotency.key);
    if (earlier && earlier.requestHash === idempotency.requestHash) {
      return { payment: earlier.response, statusCode: earlier.statusCode, replayed: true };
    }
  }
  const payment = existing(await deps.repository.getPayment(paymentId), paymentId);
  assertConfirmable(payment);
  const authorization = await deps.gateway.authorize(payment, command.cardToken);
  return applyChange(deps, { paymentId, successStatus: 200, idempotency }, (current, ctx) =>
    confirmPayment(existing(current, paymentId), authorization, ctx),
  );
}

/** POST /payments/{id}/cancel. */
export function cancelPaymentUseCase(
  deps: UseCaseDeps,
  paymentId: string,
  command: CancelPaymentCommand,
  idempotencyKey?: string,
): Promise<ChangeOutcome> {
  const idempotency = callerIdempotency(`cancel:${paymentId}`, command, idempotencyKey, 200);
  return applyChange(deps, { paymentId, successStatus: 200, idempotency }, (current, ctx) =>
    cancelPayment(existing(current, paymentId), command.reason, ctx),
  );
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
