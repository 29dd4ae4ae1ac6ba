import { beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidStateTransitionError,
  PgAttemptInProgressError,
  PgUnavailableError,
  type PaymentDomainError,
} from '../../lambdas/domain/errors';
import type { Payment } from '../../lambdas/domain/payment';
import { closeAttempt } from '../../lambdas/domain/pg-attempt';
import { mapError } from '../../lambdas/http-api/error-mapper';
import {
  cancelPaymentUseCase,
  confirmPaymentUseCase,
  createPaymentUseCase,
  type PaymentCommandDeps,
} from '../../lambdas/use-cases/payment-commands';
import { InMemoryPaymentGateway } from '../support/in-memory-payment-gateway';
import { InMemoryPaymentRepository } from '../support/in-memory-payment-repository';

const card = { orderId: 'order-1', amount: 15000, currency: 'KRW', method: 'CARD' } as const;
const visa = { cardToken: 'tok_visa' };
const cancel = { reason: 'customer request' };

let repository: InMemoryPaymentRepository;
let gateway: InMemoryPaymentGateway;
let deps: PaymentCommandDeps;
const clock = { now: () => new Date('2026-11-25T10:00:00.000Z') };

beforeEach(() => {
  repository = new InMemoryPaymentRepository();
  let id = 0;
  gateway = new InMemoryPaymentGateway(clock);
  deps = {
    repository,
    attempts: repository,
    clock,
    ids: { newId: () => `id-${++id}` },
    gateway,
    retry: { maxAttempts: 6, baseDelayMs: 1 },
  };
});

/** A PG that takes time to answer, so that concurrent requests retry, resume and race for real. */
function slowPg(latencyMs: () => number): void {
  gateway = new InMemoryPaymentGateway(clock, { latencyMs });
  deps = { ...deps, gateway };
}

async function readyPayment(): Promise<Payment> {
  return (await createPaymentUseCase(deps, card)).payment;
}

async function approvedPayment(): Promise<Payment> {
  const { paymentId } = await readyPayment();
  return (await confirmPaymentUseCase(deps, paymentId, visa)).payment;
}

const eventTypes = (paymentId: string) => (repository.events.get(paymentId) ?? []).map((e) => e.type);
const keysCalled = (paymentId: string, operation: 'authorize' | 'refund') => gateway.callsFor(paymentId, operation).map((c) => c.idempotencyKey);

async function rejection(promise: Promise<unknown>): Promise<PaymentDomainError> {
  try {
    await promise;
  } catch (error) {
    return error as PaymentDomainError;
  }
  throw new Error('expected a rejection');
}

describe('confirm through the PG boundary', () => {
  it('approves: one payment.approved, one charge, the attempt closed approved in the same commit', async () => {
    const { paymentId } = await readyPayment();
    const outcome = await confirmPaymentUseCase(deps, paymentId, visa);
    const { chargeIds } = gateway.ledgerEntry(paymentId);
    expect(outcome).toMatchObject({ statusCode: 200, replayed: false, payment: { status: 'APPROVED', version: 2, pgTransactionId: chargeIds[0] } });
    expect(eventTypes(paymentId)).toEqual(['payment.created', 'payment.approved']);
    expect(gateway.ledgerEntry(paymentId)).toMatchObject({ chargeCount: 1, chargedAmount: 15000, refundCount: 0 });
    expect(keysCalled(paymentId, 'authorize')).toEqual([`${paymentId}:authorize:1`]);
    expect(repository.attempt(paymentId, 'authorize')).toMatchObject({
      generation: 1,
      pgIdempotencyKey: `${paymentId}:authorize:1`,
      paymentVersion: 1,
      request: { operation: 'authorize', cardToken: 'tok_visa' },
      status: 'closed',
      outcome: 'approved',
      closedAt: '2026-11-25T10:00:00.000Z',
    });
    expect(await repository.listOpenAttempts(10)).toEqual([]);
  });

  it('declines: FAILED with payment.failed, no charge, the attempt closed declined', async () => {
    const { paymentId } = await readyPayment();
    const outcome = await confirmPaymentUseCase(deps, paymentId, { cardToken: 'tok_decline_insufficient_funds' });
    expect(outcome.payment).toMatchObject({ status: 'FAILED', failureReason: 'CARD_DECLINED', version: 2 });
    expect(eventTypes(paymentId)).toEqual(['payment.created', 'payment.failed']);
    expect(gateway.chargeCount(paymentId)).toBe(0);
    expect(repository.attempt(paymentId, 'authorize')).toMatchObject({ status: 'closed', outcome: 'declined' });
  });

  it('PG down before the charge: 503, nothing changed, the attempt open; a retry resumes it with the same key and charges once', async () => {
    const { paymentId } = await readyPayment();
    gateway.failNext(1);
    const error = await rejection(confirmPaymentUseCase(deps, paymentId, visa));
    expect(error).toBeInstanceOf(PgUnavailableError);
    expect(error).toMatchObject({ code: 'PG_UNAVAILABLE', retryAfterSeconds: 2 });
    expect(repository.payments.get(paymentId)).toMatchObject({ status: 'READY', version: 1 });
    expect(eventTypes(paymentId)).toEqual(['payment.created']);
    expect(gateway.chargeCount(paymentId)).toBe(0);
    expect(await repository.listOpenAttempts(10)).toEqual([expect.objectContaining({ paymentId, status: 'open', generation: 1 })]);

    const retried = await confirmPaymentUseCase(deps, paymentId, visa);
    expect(retried.payment.status).toBe('APPROVED');
    expect(keysCalled(paymentId, 'authorize')).toEqual([`${paymentId}:authorize:1`, `${paymentId}:authorize:1`]);
    expect(gateway.chargeCount(paymentId)).toBe(1);
    expect(eventTypes(paymentId)).toEqual(['payment.created', 'payment.approved']);
    expect(repository.attempt(paymentId, 'authorize')).toMatchObject({ generation: 1, status: 'closed', outcome: 'approved' });
  });

  it('answer lost after the charge: 503 first, the retry answers APPROVED with the first charge and charges nothing more', async () => {
    const { paymentId } = await readyPayment();
    gateway.loseNextAnswer(1);
    expect(await rejection(confirmPaymentUseCase(deps, paymentId, visa))).toBeInstanceOf(PgUnavailableError);
    expect(gateway.chargeCount(paymentId)).toBe(1);
    expect(repository.payments.get(paymentId)).toMatchObject({ status: 'READY', version: 1 });
    expect(repository.attempt(paymentId, 'authorize')).toMatchObject({ status: 'open' });

    const retried = await confirmPaymentUseCase(deps, paymentId, visa);
    expect(retried.payment).toMatchObject({ status: 'APPROVED', pgTransactionId: gateway.ledgerEntry(paymentId).chargeIds[0] });
    expect(gateway.chargeCount(paymentId)).toBe(1);
    expect(eventTypes(paymentId).filter((t) => t === 'payment.approved')).toHaveLength(1);
    expect(await repository.listOpenAttempts(10)).toEqual([]);
  });

  it('a retry with the same Idempotency-Key after a 503 resumes the attempt and answers 200', async () => {
    const { paymentId } = await readyPayment();
    gateway.loseNextAnswer(1);
    await expect(confirmPaymentUseCase(deps, paymentId, visa, 'key-1')).rejects.toBeInstanceOf(PgUnavailableError);
    const retried = await confirmPaymentUseCase(deps, paymentId, visa, 'key-1');
    const replay = await confirmPaymentUseCase(deps, paymentId, visa, 'key-1');
    expect(retried).toMatchObject({ statusCode: 200, replayed: false, payment: { status: 'APPROVED' } });
    expect(replay).toEqual({ ...retried, replayed: true });
    expect(gateway.chargeCount(paymentId)).toBe(1);
  });

  it('20 concurrent identical confirms: one charge, one payment.approved; the others get INVALID_STATE_TRANSITION or the same payment', async () => {
    const { paymentId } = await readyPayment();
    slowPg(() => 5);
    const settled = await Promise.allSettled(Array.from({ length: 20 }, () => confirmPaymentUseCase(deps, paymentId, visa)));
    const approved = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.payment] : []));
    const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as PaymentDomainError] : []));
    expect(approved.length).toBeGreaterThanOrEqual(1);
    for (const payment of approved) expect(payment).toEqual(repository.payments.get(paymentId));
    for (const error of refused) {
      expect(error).toBeInstanceOf(InvalidStateTransitionError);
      expect(mapError(error).response.statusCode).toBe(409);
    }
    expect(gateway.chargeCount(paymentId)).toBe(1);
    expect(eventTypes(paymentId)).toEqual(['payment.created', 'payment.approved']);
    // The losers resumed the open attempt: the PG was asked more than once, always under its key.
    expect(keysCalled(paymentId, 'authorize').length).toBeGreaterThan(1);
    expect(new Set(keysCalled(paymentId, 'authorize'))).toEqual(new Set([`${paymentId}:authorize:1`]));
    expect(await repository.listOpenAttempts(10)).toEqual([]);
  });

  it('20 concurrent confirms with the same Idempotency-Key: all 200 with the same payment, one charge, one payment.approved', async () => {
    const { paymentId } = await readyPayment();
    slowPg(() => 5);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => confirmPaymentUseCase(deps, paymentId, visa, 'key-1')));
    expect(outcomes.every((o) => o.statusCode === 200 && o.payment.status === 'APPROVED')).toBe(true);
    expect(new Set(outcomes.map((o) => o.payment.pgTransactionId)).size).toBe(1);
    expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
    expect(gateway.chargeCount(paymentId)).toBe(1);
    expect(eventTypes(paymentId)).toEqual(['payment.created', 'payment.approved']);
  });

  it('refuses a confirm with another cardToken while an attempt is open with PG_ATTEMPT_IN_PROGRESS, calling no PG', async () => {
    const { paymentId } = await readyPayment();
    gateway.failNext(1);
    await expect(confirmPaymentUseCase(deps, paymentId, visa)).rejects.toBeInstanceOf(PgUnavailableError);
    const callsBefore = gateway.calls.length;
    const error = await rejection(confirmPaymentUseCase(deps, paymentId, { cardToken: 'tok_mastercard' }));
    expect(error).toBeInstanceOf(PgAttemptInProgressError);
    expect(error).toMatchObject({ code: 'PG_ATTEMPT_IN_PROGRESS', operation: 'authorize' });
    expect(gateway.calls).toHaveLength(callsBefore);
    expect(repository.attempt(paymentId, 'authorize')).toMatchObject({ status: 'open', request: { cardToken: 'tok_visa' } });
    expect(repository.payments.get(paymentId)).toMatchObject({ status: 'READY', version: 1 });
  });

  it('opens generation 2 with a new key once the reconciler closed generation 1 as not-found', async () => {
    const { paymentId } = await readyPayment();
    gateway.failNext(1);
    await expect(confirmPaymentUseCase(deps, paymentId, visa)).rejects.toBeInstanceOf(PgUnavailableError);
    const first = repository.attempt(paymentId, 'authorize')!;
    await repository.closeAttempt(closeAttempt(first, { outcome: 'not-found' }, '2026-11-25T10:05:00.000Z'));

    const outcome = await confirmPaymentUseCase(deps, paymentId, { cardToken: 'tok_mastercard' });
    expect(outcome.payment.status).toBe('APPROVED');
    expect(keysCalled(paymentId, 'authorize')).toEqual([`${paymentId}:authorize:1`, `${paymentId}:authorize:2`]);
    expect(gateway.chargeCount(paymentId)).toBe(1);
    expect(repository.attempt(paymentId, 'authorize')).toMatchObject({ generation: 2, status: 'closed', outcome: 'approved' });
  });

  it('an attempt changes no payment: the version moves only with the committed change', async () => {
    const { paymentId } = await readyPayment();
    gateway.failNext(1);
    await expect(confirmPaymentUseCase(deps, paymentId, visa)).rejects.toBeInstanceOf(PgUnavailableError);
    expect(repository.payments.get(paymentId)?.version).toBe(1);
    expect(repository.commitCalls).toBe(1); // the create only
    const { payment } = await confirmPaymentUseCase(deps, paymentId, visa);
    expect(payment.version).toBe(2);
    expect(repository.events.get(paymentId)?.map((e) => e.sequence)).toEqual([1, 2]);
  });
});

describe('cancel through the PG boundary', () => {
  it('closes the issued bank account at the PG before cancelling a payment that waits for its deposit', async () => {
    const { payment } = await createPaymentUseCase(deps, { ...card, method: 'VIRTUAL_ACCOUNT' });
    const outcome = await cancelPaymentUseCase(deps, payment.paymentId, { reason: 'changed my mind' });
    expect(outcome.payment.status).toBe('CANCELLED');
    expect(gateway.closedAccounts).toEqual([payment.paymentId]);
    expect(gateway.refundCount(payment.paymentId)).toBe(0);
  });

  it('leaves the waiting payment unchanged when the PG cannot close its account', async () => {
    const { payment } = await createPaymentUseCase(deps, { ...card, method: 'VIRTUAL_ACCOUNT' });
    gateway.failNext(1);
    await expect(cancelPaymentUseCase(deps, payment.paymentId, { reason: 'changed my mind' })).rejects.toMatchObject({ code: 'PG_UNAVAILABLE' });
    expect(repository.payments.get(payment.paymentId)?.status).toBe('WAITING_FOR_DEPOSIT');
    expect(eventTypes(payment.paymentId)).toEqual(['payment.created']);
  });

  it('cancels an APPROVED payment with a refund: CANCELLED with refundId, carried by payment.cancelled', async () => {
    const { paymentId, pgTransactionId } = await approvedPayment();
    const outcome = await cancelPaymentUseCase(deps, paymentId, cancel);
    const ledger = gateway.ledgerEntry(paymentId);
    expect(ledger).toMatchObject({ chargeCount: 1, refundCount: 1, refundedAmount: 15000 });
    expect(outcome.payment).toMatchObject({ status: 'CANCELLED', version: 3, refundId: ledger.refundIds[0], cancelReason: 'customer request' });
    const cancelled = repository.events.get(paymentId)?.find((e) => e.type === 'payment.cancelled');
    expect(cancelled).toMatchObject({ sequence: 3, data: { refundId: ledger.refundIds[0], status: 'CANCELLED' } });
    expect(keysCalled(paymentId, 'refund')).toEqual([`${paymentId}:refund:1`]);
    expect(repository.attempt(paymentId, 'refund')).toMatchObject({
      request: { operation: 'refund', reason: 'customer request', pgTransactionId },
      paymentVersion: 2,
      status: 'closed',
      outcome: 'refunded',
    });
  });

  it('refund answer lost: 503, the payment stays APPROVED; the retry refunds nothing more and cancels', async () => {
    const { paymentId } = await approvedPayment();
    gateway.loseNextAnswer(1);
    expect(await rejection(cancelPaymentUseCase(deps, paymentId, cancel))).toBeInstanceOf(PgUnavailableError);
    expect(repository.payments.get(paymentId)).toMatchObject({ status: 'APPROVED', version: 2 });
    expect(gateway.refundCount(paymentId)).toBe(1);
    const outcome = await cancelPaymentUseCase(deps, paymentId, cancel);
    expect(outcome.payment).toMatchObject({ status: 'CANCELLED', refundId: gateway.ledgerEntry(paymentId).refundIds[0] });
    expect(gateway.refundCount(paymentId)).toBe(1);
    expect(keysCalled(paymentId, 'refund')).toEqual([`${paymentId}:refund:1`, `${paymentId}:refund:1`]);
  });

  it('20 concurrent cancels of an approved payment: one refund, one payment.cancelled', async () => {
    slowPg(() => 5);
    const { paymentId } = await approvedPayment();
    const settled = await Promise.allSettled(Array.from({ length: 20 }, () => cancelPaymentUseCase(deps, paymentId, cancel)));
    const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as PaymentDomainError] : []));
    expect(settled.some((s) => s.status === 'fulfilled')).toBe(true);
    for (const error of refused) expect(error).toBeInstanceOf(InvalidStateTransitionError);
    expect(gateway.ledgerEntry(paymentId)).toMatchObject({ chargeCount: 1, refundCount: 1 });
    expect(keysCalled(paymentId, 'refund').length).toBeGreaterThan(1);
    expect(new Set(keysCalled(paymentId, 'refund'))).toEqual(new Set([`${paymentId}:refund:1`]));
    expect(eventTypes(paymentId)).toEqual(['payment.created', 'payment.approved', 'payment.cancelled']);
    expect(repository.payments.get(paymentId)).toMatchObject({ status: 'CANCELLED', refundId: gateway.ledgerEntry(paymentId).refundIds[0] });
    expect(await repository.listOpenAttempts(10)).toEqual([]);
  });

  it('refuses to cancel a READY payment while an authorize attempt is open with PG_ATTEMPT_IN_PROGRESS and writes nothing', async () => {
    const { paymentId } = await readyPayment();
    gateway.failNext(1);
    await expect(confirmPaymentUseCase(deps, paymentId, visa)).rejects.toBeInstanceOf(PgUnavailableError);
    const commits = repository.commitCalls;
    const error = await rejection(cancelPaymentUseCase(deps, paymentId, cancel));
    expect(error).toBeInstanceOf(PgAttemptInProgressError);
    expect(error).toMatchObject({ code: 'PG_ATTEMPT_IN_PROGRESS', operation: 'authorize' });
    expect(repository.commitCalls).toBe(commits);
    expect(repository.payments.get(paymentId)).toMatchObject({ status: 'READY', version: 1 });
    expect(eventTypes(paymentId)).toEqual(['payment.created']);
    expect(gateway.callsFor(paymentId, 'refund')).toEqual([]);
    expect(repository.attempt(paymentId, 'authorize')).toMatchObject({ status: 'open' });
    expect(repository.attempt(paymentId, 'refund')).toBeUndefined();
  });

  it('a cancel that read no attempt loses to one opened since: the commit guard refuses it, then PG_ATTEMPT_IN_PROGRESS', async () => {
    const { paymentId } = await readyPayment();
    gateway.failNext(1);
    await expect(confirmPaymentUseCase(deps, paymentId, visa)).rejects.toBeInstanceOf(PgUnavailableError);
    // The cancel's first read of the attempts predates the confirm's openAttempt.
    const realRead = repository.readForChange.bind(repository);
    repository.readForChange = async (request) => {
      repository.readForChange = realRead;
      return { ...(await realRead(request)), attempts: [] };
    };
    const commits = repository.commitCalls;
    await expect(cancelPaymentUseCase(deps, paymentId, cancel)).rejects.toBeInstanceOf(PgAttemptInProgressError);
    expect(repository.commitCalls).toBe(commits + 1);
    expect(repository.payments.get(paymentId)).toMatchObject({ status: 'READY', version: 1 });
    expect(eventTypes(paymentId)).toEqual(['payment.created']);
  });

  it('refuses to cancel while the confirm is at the PG; once it answers, the cancel refunds', async () => {
    const { paymentId } = await readyPayment();
    const held = gateway.holdNext();
    const confirming = confirmPaymentUseCase(deps, paymentId, visa);
    await held.reached;
    await expect(cancelPaymentUseCase(deps, paymentId, cancel)).rejects.toBeInstanceOf(PgAttemptInProgressError);
    held.release();
    expect((await confirming).payment.status).toBe('APPROVED');
    expect((await cancelPaymentUseCase(deps, paymentId, cancel)).payment.status).toBe('CANCELLED');
    expect(gateway.ledgerEntry(paymentId)).toMatchObject({ chargeCount: 1, refundCount: 1 });
  });

  it('cancels a READY payment with no attempt without calling the PG', async () => {
    const { paymentId } = await readyPayment();
    const outcome = await cancelPaymentUseCase(deps, paymentId, cancel);
    expect(outcome.payment).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(outcome.payment).not.toHaveProperty('refundId');
    expect(gateway.calls).toEqual([]);
    expect(eventTypes(paymentId)).toEqual(['payment.created', 'payment.cancelled']);
  });

  it('cancels a READY payment whose authorize attempt was closed not-found', async () => {
    const { paymentId } = await readyPayment();
    gateway.failNext(1);
    await expect(confirmPaymentUseCase(deps, paymentId, visa)).rejects.toBeInstanceOf(PgUnavailableError);
    await repository.closeAttempt(closeAttempt(repository.attempt(paymentId, 'authorize')!, { outcome: 'not-found' }, '2026-11-25T10:05:00.000Z'));
    expect((await cancelPaymentUseCase(deps, paymentId, cancel)).payment.status).toBe('CANCELLED');
    expect(gateway.callsFor(paymentId, 'refund')).toEqual([]);
  });

  it('confirm and cancel racing on 30 payments: every charge ends approved or refunded, no attempt left open', async () => {
    const payments = await Promise.all(Array.from({ length: 30 }, () => readyPayment()));
    slowPg(() => Math.random() * 4);
    await Promise.allSettled(
      payments.flatMap(({ paymentId }, i) => {
        const racers = [() => confirmPaymentUseCase(deps, paymentId, visa), () => cancelPaymentUseCase(deps, paymentId, cancel)];
        return (i % 2 === 0 ? racers : racers.reverse()).map((start) => start());
      }),
    );
    for (const { paymentId } of payments) {
      const stored = repository.payments.get(paymentId)!;
      const ledger = gateway.ledgerEntry(paymentId);
      expect(ledger.chargeCount).toBeLessThanOrEqual(1);
      if (ledger.chargeCount === 1) {
        expect(stored.status === 'APPROVED' || (stored.status === 'CANCELLED' && ledger.refundCount === 1 && stored.refundId === ledger.refundIds[0])).toBe(true);
      } else {
        expect(stored.status).toBe('CANCELLED');
        expect(ledger.refundCount).toBe(0);
      }
    }
    expect(await repository.listOpenAttempts(100)).toEqual([]);
  });
});

describe('the HTTP mapping of PG errors', () => {
  it('maps PG_UNAVAILABLE to 503 with a Retry-After header, as an expected error', () => {
    const { response, unexpected } = mapError(new PgUnavailableError(7, 'timeout'));
    expect(unexpected).toBe(false);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '7' });
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'PG_UNAVAILABLE' } });
  });

  it('maps the 503 of a confirm whose PG was down with the PG’s Retry-After', async () => {
    const { paymentId } = await readyPayment();
    gateway.failNext(1);
    const { response } = mapError(await rejection(confirmPaymentUseCase(deps, paymentId, visa)));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Retry-After']).toBe('2');
  });

  it('maps PG_ATTEMPT_IN_PROGRESS to 409 without a Retry-After header', () => {
    const { response, unexpected } = mapError(new PgAttemptInProgressError('pay-1', 'authorize'));
    expect(unexpected).toBe(false);
    expect(response.statusCode).toBe(409);
    expect(response.headers).not.toHaveProperty('Retry-After');
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'PG_ATTEMPT_IN_PROGRESS' } });
  });
});
