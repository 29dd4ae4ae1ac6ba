/** The payment aggregate and its state machine. Pure: no I/O, no AWS. */
import { InvalidStateTransitionError, AmountMismatchError } from './errors';
import { newEnvelope, type EventEnvelope, type PaymentEventType } from './event-envelope';

export const PAYMENT_METHODS = ['CARD', 'EASY_PAY', 'VIRTUAL_ACCOUNT'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const PAYMENT_STATUSES = ['READY', 'WAITING_FOR_DEPOSIT', 'APPROVED', 'FAILED', 'CANCELLED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export interface VirtualAccount {
  readonly bank: string;
  readonly accountNumber: string;
  readonly dueAt: string;
}

export interface Payment {
  readonly paymentId: string;
  readonly orderId: string;
  /** Integer amount in the currency's minor unit. */
  readonly amount: number;
  /** ISO 4217 code. */
  readonly currency: string;
  readonly method: PaymentMethod;
  readonly status: PaymentStatus;
  /** Number of events this payment has produced; the sequence of its latest event. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly virtualAccount?: VirtualAccount;
  readonly pgTransactionId?: string;
  readonly approvedAt?: string;
  readonly depositedAt?: string;
  readonly failedAt?: string;
  readonly failureReason?: string;
  readonly cancelledAt?: string;
  readonly cancelReason?: string;
  /** The PG's reference of the refund, on an approved payment that was cancelled. */
  readonly refundId?: string;
}

/** One state change: the payment after it and the single event that announces it. */
export interface PaymentChange {
  readonly payment: Payment;
  /** Version the stored payment must still have for the change to apply (0 = must not exist). */
  readonly expectedVersion: number;
  readonly event: EventEnvelope;
}

/** What a transition needs from the outside world, injected so the domain stays pure. */
export interface ChangeContext {
  readonly now: string;
  readonly eventId: string;
}

export interface NewPayment {
  readonly paymentId: string;
  readonly orderId: string;
  readonly amount: number;
  readonly currency: string;
  readonly method: PaymentMethod;
  readonly virtualAccount?: VirtualAccount;
  /** The PG's id of the payment when it assigns one as it issues the virtual account (Toss's `paymentKey`). */
  readonly pgTransactionId?: string;
}

export function createPayment(input: NewPayment, ctx: ChangeContext): PaymentChange {
  const isVirtualAccount = input.method === 'VIRTUAL_ACCOUNT';
  if (isVirtualAccount !== (input.virtualAccount !== undefined)) {
    throw new Error('A virtual account is issued for VIRTUAL_ACCOUNT payments, and only for them');
  }
  const { pgTransactionId, ...fields } = input;
  const payment: Payment = {
    ...fields,
    status: isVirtualAccount ? 'WAITING_FOR_DEPOSIT' : 'READY',
    version: 1,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    ...(pgTransactionId !== undefined && { pgTransactionId }),
  };
  return change(payment, 0, 'payment.created', ctx);
}

/** Card / easy-pay confirmation: the PG's answer is known at once. */
export function assertConfirmable(payment: Payment): void {
  if (payment.method === 'VIRTUAL_ACCOUNT') {
    throw new InvalidStateTransitionError(
      payment.status,
      'confirm',
      'virtual-account payments are approved by the deposit callback',
    );
  }
  if (payment.status !== 'READY') throw new InvalidStateTransitionError(payment.status, 'confirm');
}

export type AuthorizationResult =
  | { readonly approved: true; readonly pgTransactionId: string }
  | { readonly approved: false; readonly reason: string };

export function confirmPayment(payment: Payment, result: AuthorizationResult, ctx: ChangeContext): PaymentChange {
  assertConfirmable(payment);
  if (result.approved) {
    return transition(payment, { status: 'APPROVED', approvedAt: ctx.now, pgTransactionId: result.pgTransactionId }, 'payment.approved', ctx);
  }
  return transition(payment, { status: 'FAILED', failedAt: ctx.now, failureReason: result.reason }, 'payment.failed', ctx);
}

export interface Deposit {
  readonly pgTransactionId: string;
  readonly amount: number;
  readonly depositedAt: string;
}

/** Virtual-account deposit reported by the PG: approves the payment if the amount matches. */
export function recordDeposit(payment: Payment, deposit: Deposit, ctx: ChangeContext): PaymentChange {
  if (payment.method !== 'VIRTUAL_ACCOUNT') {
    throw new InvalidStateTransitionError(payment.status, 'record a deposit on', `method is ${payment.method}`);
  }
  if (payment.status !== 'WAITING_FOR_DEPOSIT') {
    throw new InvalidStateTransitionError(payment.status, 'record a deposit on');
  }
  if (deposit.amount !== payment.amount) throw new AmountMismatchError(payment.amount, deposit.amount);
  return transition(
    payment,
    { status: 'APPROVED', approvedAt: ctx.now, depositedAt: deposit.depositedAt, pgTransactionId: deposit.pgTransactionId },
    'payment.approved',
    ctx,
  );
}

const CANCELLABLE: ReadonlySet<PaymentStatus> = new Set(['READY', 'WAITING_FOR_DEPOSIT', 'APPROVED']);

export function assertCancellable(payment: Payment): void {
  if (!CANCELLABLE.has(payment.status)) throw new InvalidStateTransitionError(payment.status, 'cancel');
}

/** Whether cancelling moves money back: an approved payment is refunded at the PG first. */
export function cancelNeedsRefund(payment: Payment): boolean {
  return payment.status === 'APPROVED';
}

/**
 * Cancels a payment; an approved one only with the PG's refund (`refundId`), so that no
 * `payment.cancelled` announces a cancellation whose money is still taken.
 */
export function cancelPayment(payment: Payment, reason: string, ctx: ChangeContext, refund?: { readonly refundId: string }): PaymentChange {
  assertCancellable(payment);
  if (cancelNeedsRefund(payment) && refund === undefined) {
    throw new InvalidStateTransitionError(payment.status, 'cancel', 'an approved payment is cancelled only with its refund');
  }
  return transition(
    payment,
    { status: 'CANCELLED', cancelledAt: ctx.now, cancelReason: reason, ...(refund && { refundId: refund.refundId }) },
    'payment.cancelled',
    ctx,
  );
}

function transition(
  payment: Payment,
  patch: Partial<Payment> & { status: PaymentStatus },
  type: PaymentEventType,
  ctx: ChangeContext,
): PaymentChange {
  const next: Payment = { ...payment, ...patch, version: payment.version + 1, updatedAt: ctx.now };
  return change(next, payment.version, type, ctx);
}

function change(payment: Payment, expectedVersion: number, type: PaymentEventType, ctx: ChangeContext): PaymentChange {
  return { payment, expectedVersion, event: newEnvelope(payment, type, ctx) };
}
