import { describe, expect, it } from 'vitest';
import { PgAttemptInProgressError } from '../../lambdas/domain/errors';
import type { Payment } from '../../lambdas/domain/payment';
import {
  attemptsToReconcile,
  closeAttempt,
  oldestOpenAttemptAgeSeconds,
  pgIdempotencyKey,
  planAttempt,
  type PgAnswer,
  type PgAttempt,
  type PgAttemptRequest,
} from '../../lambdas/domain/pg-attempt';

const NOW = '2026-11-25T10:00:00.000Z';
const LATER = '2026-11-25T10:00:05.000Z';

const payment: Payment = {
  paymentId: 'pay-1',
  orderId: 'order-1',
  amount: 15000,
  currency: 'KRW',
  method: 'CARD',
  status: 'READY',
  version: 1,
  createdAt: NOW,
  updatedAt: NOW,
};

const authorize: PgAttemptRequest = { operation: 'authorize', cardToken: 'tok_visa' };
const refund: PgAttemptRequest = { operation: 'refund', reason: 'customer request', pgTransactionId: 'pg-tx-1' };

function opened(request: PgAttemptRequest, on: Payment = payment, attempts: PgAttempt[] = []): PgAttempt {
  const plan = planAttempt(on, request, attempts, NOW);
  if (plan.kind !== 'open') throw new Error('expected a new attempt');
  return plan.attempt;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('pgIdempotencyKey', () => {
  it('is <paymentId>:<operation>:<generation>', () => {
    expect(pgIdempotencyKey('pay-1', 'authorize', 1)).toBe('pay-1:authorize:1');
    expect(pgIdempotencyKey('pay-1', 'refund', 3)).toBe('pay-1:refund:3');
  });
});

describe('planAttempt', () => {
  it('opens generation 1 on a fresh payment with the derived key and the payment version', () => {
    const plan = planAttempt(payment, authorize, [], NOW);
    expect(plan).toEqual({
      kind: 'open',
      attempt: {
        paymentId: 'pay-1',
        operation: 'authorize',
        generation: 1,
        pgIdempotencyKey: 'pay-1:authorize:1',
        request: authorize,
        paymentVersion: 1,
        amount: 15000,
        currency: 'KRW',
        startedAt: NOW,
        status: 'open',
      },
    });
    expect(plan).not.toHaveProperty('replaces');
  });

  it('plans on the payment version it read', () => {
    const approved = { ...payment, status: 'APPROVED' as const, version: 2, pgTransactionId: 'pg-tx-1' };
    expect(opened(refund, approved)).toMatchObject({ operation: 'refund', generation: 1, pgIdempotencyKey: 'pay-1:refund:1', paymentVersion: 2 });
  });

  it('resumes an identical open attempt, keeping its key and start', () => {
    const open = opened(authorize);
    const plan = planAttempt(payment, { operation: 'authorize', cardToken: 'tok_visa' }, [open], LATER);
    expect(plan).toEqual({ kind: 'resume', attempt: open });
  });

  it('refuses a different request of the same operation while one is open with PG_ATTEMPT_IN_PROGRESS', () => {
    const open = opened(authorize);
    const error = catchError(() => planAttempt(payment, { operation: 'authorize', cardToken: 'tok_other' }, [open], LATER));
    expect(error).toBeInstanceOf(PgAttemptInProgressError);
    expect(error).toMatchObject({ code: 'PG_ATTEMPT_IN_PROGRESS', paymentId: 'pay-1', operation: 'authorize' });
  });

  it('refuses another operation while one is open with PG_ATTEMPT_IN_PROGRESS naming the open one', () => {
    const open = opened(authorize);
    const error = catchError(() => planAttempt(payment, refund, [open], LATER));
    expect(error).toBeInstanceOf(PgAttemptInProgressError);
    expect(error).toMatchObject({ operation: 'authorize' });
  });

  it('is not blocked by closed attempts of another operation', () => {
    const closedRefund = closeAttempt(opened(refund), { outcome: 'not-found' }, LATER);
    expect(planAttempt(payment, authorize, [closedRefund], LATER)).toMatchObject({ kind: 'open', attempt: { generation: 1 } });
  });

  it('opens the next generation after a closed not-found attempt, replacing it', () => {
    const first = closeAttempt(opened(authorize), { outcome: 'not-found' }, LATER);
    const plan = planAttempt(payment, { operation: 'authorize', cardToken: 'tok_other' }, [first], LATER);
    expect(plan).toEqual({
      kind: 'open',
      attempt: expect.objectContaining({ generation: 2, pgIdempotencyKey: 'pay-1:authorize:2', status: 'open', startedAt: LATER }),
      replaces: first,
    });
  });

  it('numbers after the highest generation of the operation, whatever the order', () => {
    const g1 = { ...closeAttempt(opened(authorize), { outcome: 'not-found' }, LATER), generation: 1 };
    const g3 = { ...g1, generation: 3, pgIdempotencyKey: 'pay-1:authorize:3' };
    const g2 = { ...g1, generation: 2, pgIdempotencyKey: 'pay-1:authorize:2' };
    const refundAttempt = { ...closeAttempt(opened(refund), { outcome: 'not-found' }, LATER), generation: 7 };
    const plan = planAttempt(payment, authorize, [g1, g3, refundAttempt, g2], LATER);
    expect(plan).toMatchObject({ kind: 'open', attempt: { generation: 4, pgIdempotencyKey: 'pay-1:authorize:4' }, replaces: g3 });
  });

  // A stored attempt comes back from DynamoDB with its map attributes in the store's order, not
  // in the order they were written (DynamoDB Local already reorders maps by a hash of their keys).
  it('resumes an open attempt whose stored request has its fields in another order', () => {
    const open = opened(refund);
    const stored: PgAttempt = { ...open, request: { pgTransactionId: 'pg-tx-1', reason: 'customer request', operation: 'refund' } };
    expect(planAttempt({ ...payment, status: 'APPROVED' }, refund, [stored], LATER)).toEqual({ kind: 'resume', attempt: stored });
  });
});

describe('closeAttempt', () => {
  const answers: Record<string, PgAnswer> = {
    approved: { outcome: 'approved', pgTransactionId: 'pg-tx-1' },
    declined: { outcome: 'declined', reason: 'CARD_DECLINED' },
    refunded: { outcome: 'refunded', refundId: 'refund-1' },
    'not-found': { outcome: 'not-found' },
  };

  it.each([
    ['authorize', 'approved'],
    ['authorize', 'declined'],
    ['authorize', 'not-found'],
    ['refund', 'refunded'],
    ['refund', 'not-found'],
  ] as const)('closes a %s attempt %s', (operation, outcome) => {
    const attempt = opened(operation === 'authorize' ? authorize : refund);
    expect(closeAttempt(attempt, answers[outcome]!, LATER)).toEqual({ ...attempt, status: 'closed', outcome, closedAt: LATER });
  });

  it.each([
    ['authorize', 'refunded'],
    ['refund', 'approved'],
    ['refund', 'declined'],
  ] as const)('refuses to close a %s attempt %s', (operation, outcome) => {
    const attempt = opened(operation === 'authorize' ? authorize : refund);
    expect(() => closeAttempt(attempt, answers[outcome]!, LATER)).toThrow(`A ${operation} attempt cannot end ${outcome}`);
  });

  it('does not change the attempt it closes', () => {
    const attempt = opened(authorize);
    closeAttempt(attempt, answers.approved!, LATER);
    expect(attempt).toMatchObject({ status: 'open' });
    expect(attempt).not.toHaveProperty('outcome');
  });
});

describe('attemptsToReconcile', () => {
  const at = (paymentId: string, startedAt: string, status: 'open' | 'closed' = 'open'): PgAttempt => ({
    ...opened(authorize, { ...payment, paymentId }),
    startedAt,
    status,
  });
  const now = new Date('2026-11-25T10:10:00.000Z');

  it('returns open attempts older than the grace period, oldest first', () => {
    const attempts = [
      at('b', '2026-11-25T10:05:00.000Z'),
      at('young', '2026-11-25T10:09:30.000Z'),
      at('a', '2026-11-25T10:01:00.000Z'),
      at('closed', '2026-11-25T09:00:00.000Z', 'closed'),
      at('edge', '2026-11-25T10:09:00.000Z'),
    ];
    expect(attemptsToReconcile(attempts, now, 60).map((a) => a.paymentId)).toEqual(['a', 'b', 'edge']);
  });

  it('returns nothing when every attempt is within the grace period', () => {
    expect(attemptsToReconcile([at('a', '2026-11-25T10:09:59.000Z')], now, 60)).toEqual([]);
  });

  it('with no grace returns every open attempt', () => {
    expect(attemptsToReconcile([at('a', '2026-11-25T10:10:00.000Z')], now, 0)).toHaveLength(1);
  });
});

describe('oldestOpenAttemptAgeSeconds', () => {
  const at = (startedAt: string, status: 'open' | 'closed' = 'open'): PgAttempt => ({ ...opened(authorize), startedAt, status });
  const now = new Date('2026-11-25T10:10:00.000Z');

  it('is 0 with no open attempt', () => {
    expect(oldestOpenAttemptAgeSeconds([], now)).toBe(0);
    expect(oldestOpenAttemptAgeSeconds([at('2026-11-25T09:00:00.000Z', 'closed')], now)).toBe(0);
  });

  it('is the age of the oldest open attempt in whole seconds, ignoring closed ones', () => {
    const attempts = [at('2026-11-25T10:09:00.000Z'), at('2026-11-25T10:07:29.500Z'), at('2026-11-25T08:00:00.000Z', 'closed')];
    expect(oldestOpenAttemptAgeSeconds(attempts, now)).toBe(150);
  });

  it('is never negative (an attempt started after now, a clock skew)', () => {
    expect(oldestOpenAttemptAgeSeconds([at('2026-11-25T10:11:00.000Z')], now)).toBe(0);
  });
});
