/**
 * The use-case rules a Toss stack adds: the PG's currencies at create, the callback secret kept
 * beside the payment (never in it), a refused credential closing its attempt without a change,
 * and deposit callbacks verified by secret and by the PG's own lookup.
 */
import { testRuntime } from '../support/function-runtime';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AmountMismatchError,
  CurrencyNotSupportedError,
  DepositNotConfirmedError,
  InvalidSignatureError,
  InvalidStateTransitionError,
  PaymentNotFoundError,
  PgMisconfiguredError,
  PgRequestRejectedError,
} from '../../lambdas/domain/errors';
import type { Logger } from '@aws-lambda-powertools/logger';
import { apiHandler } from '../../lambdas/http-api/api-handler';
import { mapError } from '../../lambdas/http-api/error-mapper';
import { PG_MISCONFIGURED_LOG_MESSAGE } from '../../lambdas/platform/observability';
import type { PaymentGateway, DepositFinding, IssuedVirtualAccount } from '../../lambdas/ports/payment-gateway';
import { confirmPaymentUseCase, createPaymentUseCase, type PaymentCommandDeps } from '../../lambdas/use-cases/payment-commands';
import { recordVerifiedDepositUseCase, type DepositCallback } from '../../lambdas/use-cases/record-verified-deposit';
import { InMemoryPaymentGateway } from '../support/in-memory-payment-gateway';
import { InMemoryPaymentRepository } from '../support/in-memory-payment-repository';

const clock = { now: () => new Date('2026-12-01T10:00:00.000Z') };

/** The in-memory PG dressed as Toss: KRW only, a paymentKey and a secret with every account, deposits looked up. */
class TossLikeGateway extends InMemoryPaymentGateway {
  override readonly name: string = 'toss-like';
  readonly supportedCurrencies = ['KRW'];
  deposit: DepositFinding = { status: 'not-deposited', pgStatus: 'WAITING_FOR_DEPOSIT' };
  lookups = 0;
  rejectNextAuthorize = false;

  override async issueVirtualAccount(request: Parameters<PaymentGateway['issueVirtualAccount']>[0]): Promise<IssuedVirtualAccount> {
    const issued = await super.issueVirtualAccount(request);
    return { ...issued, pgTransactionId: `pk_${request.paymentId}`, callbackSecret: `ps_secret_${request.paymentId}` };
  }

  override async authorize(request: Parameters<PaymentGateway['authorize']>[0]): ReturnType<PaymentGateway['authorize']> {
    if (this.rejectNextAuthorize) {
      this.rejectNextAuthorize = false;
      throw new PgRequestRejectedError('NOT_FOUND_PAYMENT_SESSION', 'the payment session expired');
    }
    return super.authorize(request);
  }

  async findDeposit(): Promise<DepositFinding> {
    this.lookups++;
    return this.deposit;
  }
}

let repository: InMemoryPaymentRepository;
let gateway: TossLikeGateway;
let deps: PaymentCommandDeps & { gateway: TossLikeGateway };

beforeEach(() => {
  repository = new InMemoryPaymentRepository();
  gateway = new TossLikeGateway(clock);
  let id = 0;
  deps = { repository, attempts: repository, clock, ids: { newId: () => `id-${++id}` }, gateway, retry: { maxAttempts: 3, baseDelayMs: 0 } };
});

const order = { orderId: 'order-1', amount: 15_000, currency: 'KRW', method: 'VIRTUAL_ACCOUNT' } as const;

describe('create on a PG that settles only some currencies', () => {
  it('refuses a currency the PG does not settle, before anything is written or asked', async () => {
    await expect(createPaymentUseCase(deps, { ...order, currency: 'USD' })).rejects.toThrow(CurrencyNotSupportedError);
    await expect(createPaymentUseCase(deps, { ...order, currency: 'USD' })).rejects.toThrow(/USD is not settled by this stack's payment gateway \(toss-like\); use KRW/);
    expect(repository.payments.size).toBe(0);
    expect(gateway.calls).toEqual([]);
  });

  it("keeps the account's callback secret beside the payment, never in it or its event", async () => {
    const { payment } = await createPaymentUseCase(deps, order);
    expect(payment.pgTransactionId).toBe(`pk_${payment.paymentId}`);
    expect(await repository.getCallbackSecret(payment.paymentId)).toBe(`ps_secret_${payment.paymentId}`);
    expect(JSON.stringify(payment)).not.toContain('ps_secret');
    expect(JSON.stringify(repository.allEvents())).not.toContain('ps_secret');
  });
});

describe('confirm with a credential the PG refuses', () => {
  it('closes the attempt as never charged, changes nothing, and lets a corrected confirm charge once', async () => {
    const { payment } = await createPaymentUseCase(deps, { ...order, method: 'CARD' });
    gateway.rejectNextAuthorize = true;
    await expect(confirmPaymentUseCase(deps, payment.paymentId, { paymentKey: 'pk_expired' })).rejects.toThrow(PgRequestRejectedError);
    expect(await repository.getPayment(payment.paymentId)).toMatchObject({ status: 'READY', version: 1 });
    expect(await repository.listAttempts(payment.paymentId)).toEqual([
      expect.objectContaining({ operation: 'authorize', generation: 1, status: 'closed', outcome: 'not-found' }),
    ]);

    const retried = await confirmPaymentUseCase(deps, payment.paymentId, { paymentKey: 'pk_good' });
    expect(retried.payment.status).toBe('APPROVED');
    expect(await repository.listAttempts(payment.paymentId)).toEqual([expect.objectContaining({ generation: 2, status: 'closed', outcome: 'approved' })]);
    expect(gateway.ledgerEntry(payment.paymentId)).toMatchObject({ chargeCount: 1 });
  });
});

describe('a verified deposit callback', () => {
  async function waitingPayment() {
    const { payment } = await createPaymentUseCase(deps, order);
    return payment;
  }
  const callback = (paymentId: string, overrides: Partial<DepositCallback> = {}): DepositCallback => ({
    paymentId,
    pgEventId: 'tx-1',
    status: 'deposited',
    pgStatus: 'DONE',
    secret: `ps_secret_${paymentId}`,
    ...overrides,
  });
  const verifiedDeps = () => ({ ...deps, deposits: gateway });

  it('approves the payment with the amount and key the PG reports, once', async () => {
    const payment = await waitingPayment();
    gateway.deposit = { status: 'deposited', pgTransactionId: `pk_${payment.paymentId}`, amount: 15_000, depositedAt: '2026-12-01T10:05:00.000Z' };
    const first = await recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId));
    expect(first).toMatchObject({ statusCode: 200, replayed: false, payment: { status: 'APPROVED', depositedAt: '2026-12-01T10:05:00.000Z', pgTransactionId: `pk_${payment.paymentId}` } });

    const repeat = await recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId));
    const later = await recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId, { pgEventId: 'tx-2' }));
    expect(repeat).toMatchObject({ statusCode: 200, replayed: true, payment: { status: 'APPROVED', version: 2 } });
    expect(later).toMatchObject({ statusCode: 200, payment: { version: 2 } });
    expect(repository.allEvents().map((event) => event.type)).toEqual(['payment.created', 'payment.approved']);
    expect(gateway.lookups).toBe(1);
  });

  it('refuses a wrong secret with INVALID_SIGNATURE and asks the PG nothing', async () => {
    const payment = await waitingPayment();
    await expect(recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId, { secret: 'ps_guess' }))).rejects.toThrow(InvalidSignatureError);
    await expect(recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId, { secret: `ps_secret_${payment.paymentId}x` }))).rejects.toThrow(InvalidSignatureError);
    expect(gateway.lookups).toBe(0);
    expect(await repository.getPayment(payment.paymentId)).toMatchObject({ status: 'WAITING_FOR_DEPOSIT', version: 1 });
  });

  it('answers an unknown order with PAYMENT_NOT_FOUND, and a payment without a secret with INVALID_SIGNATURE', async () => {
    await expect(recordVerifiedDepositUseCase(verifiedDeps(), callback('nobody'))).rejects.toThrow(PaymentNotFoundError);
    const { payment } = await createPaymentUseCase({ ...deps, gateway: new InMemoryPaymentGateway(clock) }, order);
    await expect(recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId))).rejects.toThrow(InvalidSignatureError);
  });

  it('records nothing while the PG does not show the deposit, or shows another amount', async () => {
    const payment = await waitingPayment();
    await expect(recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId))).rejects.toThrow(DepositNotConfirmedError);
    gateway.deposit = { status: 'deposited', pgTransactionId: 'pk', amount: 14_999, depositedAt: '2026-12-01T10:05:00.000Z' };
    await expect(recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId))).rejects.toThrow(AmountMismatchError);
    expect(await repository.getPayment(payment.paymentId)).toMatchObject({ status: 'WAITING_FOR_DEPOSIT', version: 1 });
    expect(repository.idempotency.size).toBe(0);
  });

  it('acknowledges a status that is not a deposit without a change, but refuses one that takes an announced deposit back', async () => {
    const payment = await waitingPayment();
    const issued = await recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId, { status: 'other', pgStatus: 'WAITING_FOR_DEPOSIT' }));
    expect(issued).toMatchObject({ statusCode: 200, payment: { status: 'WAITING_FOR_DEPOSIT', version: 1 } });

    gateway.deposit = { status: 'deposited', pgTransactionId: 'pk', amount: 15_000, depositedAt: '2026-12-01T10:05:00.000Z' };
    await recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId));
    await expect(
      recordVerifiedDepositUseCase(verifiedDeps(), callback(payment.paymentId, { pgEventId: 'tx-9', status: 'other', pgStatus: 'WAITING_FOR_DEPOSIT' })),
    ).rejects.toThrow(InvalidStateTransitionError);
  });
});

describe('the HTTP mapping of the PG errors a Toss stack adds', () => {
  it('answers a PG that refuses our own key with 503 and Retry-After, logged as ours, without its detail', () => {
    const { response, unexpected } = mapError(new PgMisconfiguredError(30, 'Toss 401 UNAUTHORIZED_KEY'));
    expect(unexpected).toBe(true);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '30' });
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'PG_UNAVAILABLE', message: 'The payment gateway is unavailable; retry later' } });
  });

  it('logs a misconfigured PG at ERROR with pgMisconfigured: true (what the PgMisconfigured alarm counts)', async () => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const logger = {
      error: (message: string, fields: Record<string, unknown>) => lines.push({ level: 'ERROR', message, fields }),
      info: (message: string, fields: Record<string, unknown>) => lines.push({ level: 'INFO', message, fields }),
      addContext: () => undefined,
      logEventIfEnabled: () => undefined,
      refreshSampleRateCalculation: () => undefined,
      resetKeys: () => undefined,
      clearBuffer: () => undefined,
      setCorrelationId: () => undefined,
    } as unknown as Logger;
    const handler = apiHandler(async () => {
      throw new PgMisconfiguredError(30, 'Toss 401 UNAUTHORIZED_KEY');
    }, testRuntime({ logger }));
    const response = await handler({ httpMethod: 'POST', path: '/payments/p-1/confirm', headers: {} } as never, { getRemainingTimeInMillis: () => 1_000 } as never);
    expect(response.statusCode).toBe(503);
    expect(lines).toEqual([
      {
        level: 'ERROR',
        message: PG_MISCONFIGURED_LOG_MESSAGE,
        fields: { method: 'POST', path: '/payments/p-1/confirm', traceId: expect.stringMatching(/^[0-9a-f]{32}$/), pgMisconfigured: true, detail: 'Toss 401 UNAUTHORIZED_KEY' },
      },
    ]);
  });

  it('answers a refused credential with 422 PG_REJECTED and an unsupported currency with 422 CURRENCY_NOT_SUPPORTED, as the caller\'s', () => {
    for (const error of [new PgRequestRejectedError('NOT_FOUND_PAYMENT_SESSION', 'expired'), new CurrencyNotSupportedError('USD', ['KRW'], 'toss')]) {
      const { response, unexpected } = mapError(error);
      expect(unexpected).toBe(false);
      expect(response.statusCode).toBe(422);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: error.code } });
    }
    expect(mapError(new DepositNotConfirmedError('p', 'WAITING_FOR_DEPOSIT')).response.statusCode).toBe(409);
  });
});
