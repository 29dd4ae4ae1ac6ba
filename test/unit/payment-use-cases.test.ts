import { beforeEach, describe, expect, it } from 'vitest';
import {
  ConcurrentModificationError,
  IdempotencyKeyReusedError,
  InvalidStateTransitionError,
  PaymentNotFoundError,
  AmountMismatchError,
} from '../../lambdas/domain/errors';
import {
  cancelPaymentUseCase,
  confirmPaymentUseCase,
  createPaymentUseCase,
  recordDepositUseCase,
  type PaymentCommandDeps,
} from '../../lambdas/use-cases/payment-commands';
import { listPaymentEventsUseCase } from '../../lambdas/use-cases/payment-queries';
import { InMemoryPaymentGateway } from '../support/in-memory-payment-gateway';
import { InMemoryPaymentRepository } from '../support/in-memory-payment-repository';

const card = { orderId: 'order-1', amount: 15000, currency: 'KRW', method: 'CARD' } as const;
const virtualAccount = { ...card, method: 'VIRTUAL_ACCOUNT' } as const;

let repository: InMemoryPaymentRepository;
let gateway: InMemoryPaymentGateway;
let deps: PaymentCommandDeps;

beforeEach(() => {
  repository = new InMemoryPaymentRepository();
  let id = 0;
  const clock = { now: () => new Date('2026-11-25T10:00:00.000Z') };
  gateway = new InMemoryPaymentGateway(clock);
  deps = {
    repository,
    attempts: repository,
    clock,
    ids: { newId: () => `id-${++id}` },
    gateway,
    retry: { maxAttempts: 3, baseDelayMs: 0 },
  };
});

describe('create', () => {
  it('writes the payment and its payment.created event together', async () => {
    const outcome = await createPaymentUseCase(deps, card);
    expect(outcome).toMatchObject({ statusCode: 201, replayed: false, payment: { status: 'READY', version: 1 } });
    expect(repository.allEvents()).toEqual([expect.objectContaining({ type: 'payment.created', sequence: 1, aggregateId: outcome.payment.paymentId })]);
  });

  it('issues a bank account for a virtual-account payment', async () => {
    const { payment } = await createPaymentUseCase(deps, virtualAccount);
    expect(payment.status).toBe('WAITING_FOR_DEPOSIT');
    expect(payment.virtualAccount).toMatchObject({ bank: 'SANDBOX_BANK', dueAt: '2026-11-28T10:00:00.000Z' });
    expect(payment.virtualAccount?.accountNumber).toMatch(/^\d{3}-\d{6}-\d{5}$/);
  });

  it('answers a replay of the same key and body with the first payment and writes nothing new', async () => {
    const first = await createPaymentUseCase(deps, card, 'key-1');
    const again = await createPaymentUseCase(deps, { ...card }, 'key-1');
    expect(again).toEqual({ ...first, replayed: true });
    expect(repository.payments.size).toBe(1);
    expect(repository.allEvents()).toHaveLength(1);
  });

  it('refuses the same key with another body with IDEMPOTENCY_KEY_REUSED and writes nothing', async () => {
    await createPaymentUseCase(deps, card, 'key-1');
    await expect(createPaymentUseCase(deps, { ...card, amount: 1 }, 'key-1')).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(repository.payments.size).toBe(1);
    expect(repository.allEvents()).toHaveLength(1);
  });
});

describe('confirm', () => {
  it('approves with a card token and records payment.approved as sequence 2', async () => {
    const { payment } = await createPaymentUseCase(deps, card);
    const outcome = await confirmPaymentUseCase(deps, payment.paymentId, { cardToken: 'tok_visa' });
    expect(outcome.payment).toMatchObject({ status: 'APPROVED', version: 2 });
    expect((await listPaymentEventsUseCase(repository, payment.paymentId)).map((e) => [e.sequence, e.type])).toEqual([
      [1, 'payment.created'],
      [2, 'payment.approved'],
    ]);
  });

  it('fails a tok_decline token with payment.failed', async () => {
    const { payment } = await createPaymentUseCase(deps, card);
    const outcome = await confirmPaymentUseCase(deps, payment.paymentId, { cardToken: 'tok_decline_insufficient_funds' });
    expect(outcome.payment).toMatchObject({ status: 'FAILED', failureReason: 'CARD_DECLINED' });
    expect(repository.allEvents().map((e) => e.type)).toEqual(['payment.created', 'payment.failed']);
  });

  it('answers 404 for an unknown payment', async () => {
    await expect(confirmPaymentUseCase(deps, 'missing', { cardToken: 'tok' })).rejects.toBeInstanceOf(PaymentNotFoundError);
  });

  it('refuses a second confirm with INVALID_STATE_TRANSITION and writes nothing', async () => {
    const { payment } = await createPaymentUseCase(deps, card);
    await confirmPaymentUseCase(deps, payment.paymentId, { cardToken: 'tok' });
    await expect(confirmPaymentUseCase(deps, payment.paymentId, { cardToken: 'tok' })).rejects.toBeInstanceOf(InvalidStateTransitionError);
    expect(repository.allEvents()).toHaveLength(2);
  });

  it('retries a lost race and commits once', async () => {
    const { payment } = await createPaymentUseCase(deps, card);
    repository.failNextCommits(2);
    const outcome = await confirmPaymentUseCase(deps, payment.paymentId, { cardToken: 'tok' });
    expect(outcome.payment.status).toBe('APPROVED');
    expect(repository.allEvents()).toHaveLength(2);
    // Each round asked the PG again under the same key: one charge.
    expect(gateway.callsFor(payment.paymentId, 'authorize').map((c) => c.idempotencyKey)).toEqual(Array(3).fill(`${payment.paymentId}:authorize:1`));
    expect(gateway.chargeCount(payment.paymentId)).toBe(1);
  });

  it('gives up after the retry budget with CONCURRENT_MODIFICATION and writes nothing', async () => {
    const { payment } = await createPaymentUseCase(deps, card);
    repository.failNextCommits(3);
    await expect(confirmPaymentUseCase(deps, payment.paymentId, { cardToken: 'tok' })).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect(repository.payments.get(payment.paymentId)?.status).toBe('READY');
    expect(repository.allEvents()).toHaveLength(1);
    // The PG charged once; the attempt stays open for a retry or the reconciler.
    expect(gateway.chargeCount(payment.paymentId)).toBe(1);
    expect(repository.attempt(payment.paymentId, 'authorize')).toMatchObject({ status: 'open', generation: 1 });
  });
});

describe('cancel', () => {
  it('cancels an approved payment as sequence 3', async () => {
    const { payment } = await createPaymentUseCase(deps, card);
    await confirmPaymentUseCase(deps, payment.paymentId, { cardToken: 'tok' });
    const outcome = await cancelPaymentUseCase(deps, payment.paymentId, { reason: 'customer request' });
    expect(outcome.payment).toMatchObject({ status: 'CANCELLED', version: 3 });
    expect(repository.allEvents().map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(gateway.ledgerEntry(payment.paymentId)).toMatchObject({ chargeCount: 1, refundCount: 1, refundIds: [outcome.payment.refundId] });
  });

  it('cancels a READY payment as sequence 2 without calling the PG', async () => {
    const { payment } = await createPaymentUseCase(deps, card);
    const outcome = await cancelPaymentUseCase(deps, payment.paymentId, { reason: 'customer request' });
    expect(outcome.payment).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(outcome.payment.refundId).toBeUndefined();
    expect(gateway.calls).toEqual([]);
  });
});

describe('PG deposit callback', () => {
  async function waitingPayment() {
    return (await createPaymentUseCase(deps, virtualAccount)).payment;
  }
  const notice = (paymentId: string, amount = 15000) => ({
    pgTransactionId: 'pg-tx-1',
    paymentId,
    amount,
    depositedAt: '2026-11-25T11:00:00+09:00',
  });

  it('approves the payment once; resends answer 200 and write nothing', async () => {
    const payment = await waitingPayment();
    const first = await recordDepositUseCase(deps, notice(payment.paymentId));
    const resend = await recordDepositUseCase(deps, notice(payment.paymentId));
    expect(first).toMatchObject({ statusCode: 200, replayed: false, payment: { status: 'APPROVED', version: 2 } });
    expect(resend).toMatchObject({ statusCode: 200, replayed: true, payment: first.payment });
    expect(repository.allEvents()).toHaveLength(2);
  });

  it('answers concurrent resends with one change and one event', async () => {
    const payment = await waitingPayment();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => recordDepositUseCase(deps, notice(payment.paymentId))));
    expect(outcomes.every((o) => o.statusCode === 200 && o.payment.status === 'APPROVED')).toBe(true);
    expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
    expect(repository.allEvents().filter((e) => e.type === 'payment.approved')).toHaveLength(1);
  });

  it('refuses a wrong amount with AMOUNT_MISMATCH and records nothing', async () => {
    const payment = await waitingPayment();
    await expect(recordDepositUseCase(deps, notice(payment.paymentId, 1))).rejects.toBeInstanceOf(AmountMismatchError);
    expect(repository.idempotency.size).toBe(0);
    expect(repository.allEvents()).toHaveLength(1);
  });
});

describe('a twin request that commits right after our read', () => {
  it('answers the replay, not INVALID_STATE_TRANSITION: our commit loses on the record, the next read finds it', async () => {
    const payment = (await createPaymentUseCase(deps, virtualAccount)).payment;
    const notice = { pgTransactionId: 'pg-race', paymentId: payment.paymentId, amount: 15000, depositedAt: '2026-11-25T11:00:00+09:00' };
    // Our read finds neither the twin's change nor its record; the twin commits before our commit.
    const realRead = repository.readForChange.bind(repository);
    repository.readForChange = async (request) => {
      const found = await realRead(request);
      repository.readForChange = realRead;
      await recordDepositUseCase(deps, notice);
      return found;
    };
    const outcome = await recordDepositUseCase(deps, notice);
    expect(outcome).toMatchObject({ statusCode: 200, replayed: true, payment: { status: 'APPROVED' } });
    expect(repository.allEvents().filter((e) => e.type === 'payment.approved')).toHaveLength(1);
  });

  it('answers the replay of a create whose twin committed after our look for the key', async () => {
    const realLookup = repository.getIdempotencyRecord.bind(repository);
    let twin: Promise<unknown> | undefined;
    repository.getIdempotencyRecord = async (key: string) => {
      const found = await realLookup(key);
      repository.getIdempotencyRecord = realLookup;
      twin = createPaymentUseCase(deps, card, 'key-race');
      await twin;
      return found;
    };
    const outcome = await createPaymentUseCase(deps, card, 'key-race');
    expect(outcome).toEqual({ ...((await twin) as object), replayed: true });
    expect(repository.payments.size).toBe(1);
    expect(repository.allEvents()).toHaveLength(1);
  });
});

describe('reads per command (the lean write path)', () => {
  /** Runs `command` and answers how many reads of each kind it made. */
  async function readsOf(command: () => Promise<unknown>) {
    const before = { ...repository.reads };
    await command();
    return Object.fromEntries(Object.entries(repository.reads).map(([kind, count]) => [kind, count - before[kind as keyof typeof before]]));
  }
  const none = { getPayment: 0, getIdempotencyRecord: 0, readForChange: 0, listAttempts: 0 };
  const visa = { cardToken: 'tok_visa' };

  it('creates a payment without an Idempotency-Key without reading anything', async () => {
    expect(await readsOf(() => createPaymentUseCase(deps, card))).toEqual(none);
    expect(await readsOf(() => createPaymentUseCase(deps, virtualAccount))).toEqual(none);
    expect(repository.commitCalls).toBe(2);
  });

  it('creates a payment with a key after one read, of the key\'s record; its replay reads once and commits nothing', async () => {
    expect(await readsOf(() => createPaymentUseCase(deps, virtualAccount, 'key-reads'))).toEqual({ ...none, getIdempotencyRecord: 1 });
    expect(await readsOf(() => createPaymentUseCase(deps, virtualAccount, 'key-reads'))).toEqual({ ...none, getIdempotencyRecord: 1 });
    expect(repository.commitCalls).toBe(1);
  });

  it('confirms after one read of the payment with its attempts, with or without a key', async () => {
    const first = (await createPaymentUseCase(deps, card)).payment;
    const second = (await createPaymentUseCase(deps, { ...card, orderId: 'order-2' })).payment;
    expect(await readsOf(() => confirmPaymentUseCase(deps, first.paymentId, visa))).toEqual({ ...none, readForChange: 1 });
    expect(await readsOf(() => confirmPaymentUseCase(deps, second.paymentId, visa, 'key-confirm'))).toEqual({ ...none, readForChange: 1 });
  });

  it('cancels and records a deposit after one read each', async () => {
    const ready = (await createPaymentUseCase(deps, card)).payment;
    const waiting = (await createPaymentUseCase(deps, virtualAccount)).payment;
    expect(await readsOf(() => cancelPaymentUseCase(deps, ready.paymentId, { reason: 'r' }, 'key-cancel'))).toEqual({ ...none, readForChange: 1 });
    const notice = { pgTransactionId: 'pg-reads', paymentId: waiting.paymentId, amount: 15000, depositedAt: '2026-11-25T11:00:00+09:00' };
    expect(await readsOf(() => recordDepositUseCase(deps, notice))).toEqual({ ...none, readForChange: 1 });
  });

  it('reads once more per lost race, and a create with a key reads its record again before it retries', async () => {
    const ready = (await createPaymentUseCase(deps, card)).payment;
    repository.failNextCommits(1);
    expect(await readsOf(() => confirmPaymentUseCase(deps, ready.paymentId, visa))).toEqual({ ...none, readForChange: 2 });
    repository.failNextCommits(1);
    expect(await readsOf(() => createPaymentUseCase(deps, card, 'key-retry'))).toEqual({ ...none, getIdempotencyRecord: 2 });
    repository.failNextCommits(1);
    expect(await readsOf(() => createPaymentUseCase(deps, card))).toEqual(none);
  });
});
