import { describe, expect, it } from 'vitest';
import { AmountMismatchError, InvalidStateTransitionError } from '../../lambdas/domain/errors';
import {
  assertCancellable,
  cancelNeedsRefund,
  cancelPayment,
  confirmPayment,
  createPayment,
  recordDeposit,
  type Payment,
  type PaymentMethod,
} from '../../lambdas/domain/payment';

let counter = 0;
const ctx = () => ({ now: `2026-11-25T10:00:${String(counter % 60).padStart(2, '0')}.000Z`, eventId: `evt-${++counter}` });
const account = { bank: 'SANDBOX_BANK', accountNumber: '123-456789-01234', dueAt: '2026-11-28T10:00:00.000Z' };

function newPayment(method: PaymentMethod): Payment {
  return createPayment(
    { paymentId: 'pay-1', orderId: 'order-1', amount: 15000, currency: 'KRW', method, ...(method === 'VIRTUAL_ACCOUNT' ? { virtualAccount: account } : {}) },
    ctx(),
  ).payment;
}

describe('createPayment', () => {
  it.each(['CARD', 'EASY_PAY'] as const)('starts a %s payment READY at version 1 with a payment.created event', (method) => {
    const change = createPayment({ paymentId: 'p', orderId: 'o', amount: 100, currency: 'USD', method }, { now: 't0', eventId: 'e1' });
    expect(change.expectedVersion).toBe(0);
    expect(change.payment).toMatchObject({ status: 'READY', version: 1, createdAt: 't0', updatedAt: 't0' });
    expect(change.event).toEqual({
      eventId: 'e1',
      type: 'payment.created',
      aggregateType: 'payment',
      aggregateId: 'p',
      sequence: 1,
      occurredAt: 't0',
      schemaVersion: 1,
      data: change.payment,
    });
  });

  it('starts a virtual-account payment WAITING_FOR_DEPOSIT with its bank account', () => {
    const payment = newPayment('VIRTUAL_ACCOUNT');
    expect(payment.status).toBe('WAITING_FOR_DEPOSIT');
    expect(payment.virtualAccount).toEqual(account);
  });

  it('refuses a virtual account on a card payment', () => {
    expect(() =>
      createPayment({ paymentId: 'p', orderId: 'o', amount: 1, currency: 'KRW', method: 'CARD', virtualAccount: account }, ctx()),
    ).toThrow(/only for them/);
  });
});

describe('confirmPayment', () => {
  it.each(['CARD', 'EASY_PAY'] as const)('approves a READY %s payment: version 2, payment.approved', (method) => {
    const change = confirmPayment(newPayment(method), { approved: true, pgTransactionId: 'tx-1' }, { now: 't1', eventId: 'e2' });
    expect(change.expectedVersion).toBe(1);
    expect(change.payment).toMatchObject({ status: 'APPROVED', version: 2, approvedAt: 't1', pgTransactionId: 'tx-1', updatedAt: 't1' });
    expect(change.event).toMatchObject({ type: 'payment.approved', sequence: 2, eventId: 'e2' });
  });

  it('fails a declined payment with payment.failed and the reason', () => {
    const change = confirmPayment(newPayment('CARD'), { approved: false, reason: 'CARD_DECLINED' }, ctx());
    expect(change.payment).toMatchObject({ status: 'FAILED', failureReason: 'CARD_DECLINED', version: 2 });
    expect(change.event.type).toBe('payment.failed');
  });

  it('refuses to confirm a virtual-account payment', () => {
    expect(() => confirmPayment(newPayment('VIRTUAL_ACCOUNT'), { approved: true, pgTransactionId: 'x' }, ctx())).toThrow(
      InvalidStateTransitionError,
    );
  });

  it.each(['APPROVED', 'FAILED', 'CANCELLED'] as const)('refuses to confirm a %s payment', (status) => {
    const payment = { ...newPayment('CARD'), status };
    const error = catchError(() => confirmPayment(payment, { approved: true, pgTransactionId: 'x' }, ctx()));
    expect(error).toBeInstanceOf(InvalidStateTransitionError);
    expect((error as InvalidStateTransitionError).code).toBe('INVALID_STATE_TRANSITION');
  });
});

describe('recordDeposit', () => {
  const deposit = { pgTransactionId: 'pg-1', amount: 15000, depositedAt: '2026-11-25T11:00:00+09:00' };

  it('approves a waiting virtual-account payment when the amount matches', () => {
    const change = recordDeposit(newPayment('VIRTUAL_ACCOUNT'), deposit, { now: 't2', eventId: 'e9' });
    expect(change.payment).toMatchObject({ status: 'APPROVED', depositedAt: deposit.depositedAt, pgTransactionId: 'pg-1', version: 2 });
    expect(change.event).toMatchObject({ type: 'payment.approved', sequence: 2 });
  });

  it('refuses a deposit of another amount with AMOUNT_MISMATCH', () => {
    const error = catchError(() => recordDeposit(newPayment('VIRTUAL_ACCOUNT'), { ...deposit, amount: 14999 }, ctx()));
    expect(error).toBeInstanceOf(AmountMismatchError);
    expect((error as AmountMismatchError).code).toBe('AMOUNT_MISMATCH');
  });

  it('refuses a deposit on a card payment', () => {
    expect(() => recordDeposit(newPayment('CARD'), deposit, ctx())).toThrow(InvalidStateTransitionError);
  });

  it.each(['APPROVED', 'CANCELLED'] as const)('refuses a deposit on a %s virtual-account payment', (status) => {
    expect(() => recordDeposit({ ...newPayment('VIRTUAL_ACCOUNT'), status }, deposit, ctx())).toThrow(InvalidStateTransitionError);
  });
});

describe('cancelPayment', () => {
  it.each([
    ['READY', 'CARD'],
    ['WAITING_FOR_DEPOSIT', 'VIRTUAL_ACCOUNT'],
    ['APPROVED', 'EASY_PAY'],
  ] as const)('cancels a %s payment with payment.cancelled', (status, method) => {
    const payment = { ...newPayment(method), status, version: 2 };
    // An approved payment is cancelled only with the PG's refund.
    const refund = status === 'APPROVED' ? { refundId: 'refund-1' } : undefined;
    const change = cancelPayment(payment, 'customer request', { now: 't3', eventId: 'e3' }, refund);
    expect(change.expectedVersion).toBe(2);
    expect(change.payment).toMatchObject({ status: 'CANCELLED', cancelReason: 'customer request', cancelledAt: 't3', version: 3 });
    expect(change.event).toMatchObject({ type: 'payment.cancelled', sequence: 3 });
    expect(change.payment.refundId).toBe(refund?.refundId);
    expect(change.event.data.refundId).toBe(refund?.refundId);
  });

  it('refuses to cancel an APPROVED payment without a refund', () => {
    const payment = { ...newPayment('CARD'), status: 'APPROVED' as const, version: 2 };
    expect(() => cancelPayment(payment, 'customer request', ctx())).toThrow(InvalidStateTransitionError);
  });

  it.each(['READY', 'WAITING_FOR_DEPOSIT', 'APPROVED', 'FAILED', 'CANCELLED'] as const)('cancelNeedsRefund on a %s payment', (status) => {
    expect(cancelNeedsRefund({ ...newPayment('CARD'), status })).toBe(status === 'APPROVED');
  });

  it.each(['FAILED', 'CANCELLED'] as const)('assertCancellable refuses a %s payment', (status) => {
    expect(() => assertCancellable({ ...newPayment('CARD'), status })).toThrow(InvalidStateTransitionError);
  });

  it.each(['FAILED', 'CANCELLED'] as const)('refuses to cancel a %s payment', (status) => {
    expect(() => cancelPayment({ ...newPayment('CARD'), status }, 'r', ctx())).toThrow(InvalidStateTransitionError);
  });
});

describe('event sequence', () => {
  it('numbers a payment’s events 1, 2, 3 with no gap, one event per transition', () => {
    const created = createPayment({ paymentId: 'p', orderId: 'o', amount: 1, currency: 'EUR', method: 'CARD' }, ctx());
    const approved = confirmPayment(created.payment, { approved: true, pgTransactionId: 't' }, ctx());
    const cancelled = cancelPayment(approved.payment, 'refund', ctx(), { refundId: 'r' });
    expect([created, approved, cancelled].map((c) => c.event.sequence)).toEqual([1, 2, 3]);
    expect(new Set([created, approved, cancelled].map((c) => c.event.eventId)).size).toBe(3);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
