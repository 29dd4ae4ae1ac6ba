/**
 * Toss Payments behind the PG port (https://docs.tosspayments.com/reference). Our payment id is
 * the `orderId` Toss knows the payment by; every call that moves money carries the open
 * attempt's key as `Idempotency-Key`, so a repeat gets Toss's first answer and moves nothing.
 *
 * - authorize: `POST /v1/payments/confirm` with the buyer's `paymentKey`, our payment id and its amount;
 * - refund: `POST /v1/payments/{paymentKey}/cancel` (a full cancel), the refund being the cancel's `transactionKey`;
 * - issueVirtualAccount: `POST /v1/virtual-accounts`, keeping the payment's `paymentKey` and callback `secret`;
 * - closeVirtualAccount: the same cancel, before any deposit (Toss then accepts none);
 * - lookup / findDeposit: `GET /v1/payments/orders/{orderId}`.
 *
 * Toss's errors become named domain errors (toss-error-codes.ts): a decline is a `declined`
 * answer, a repeat Toss already processed is resolved by a lookup, a refused credential is
 * PgRequestRejectedError, our own bad key PgMisconfiguredError, anything else PgUnavailableError.
 */
import { PgMisconfiguredError, PgRequestRejectedError, PgUnavailableError } from '../../domain/errors';
import type { PgAnswer } from '../../domain/pg-attempt';
import { TOSS_SECRET_KEY_PLACEHOLDER } from '../../platform/payment-gateways';
import type { Clock } from '../../ports/clock';
import type { DepositFinding, DepositLookup, IssuedVirtualAccount, PaymentGateway } from '../../ports/payment-gateway';
import { tossErrorKind } from './toss-error-codes';
import { TossApiError, TossHttpClient, type TossHttpClientOptions, type TossRequest } from './toss-http-client';
import { latestCancel, parseTossPayment, tossTimeToIso, TossResponseError, type TossPayment } from './toss-payment';

/** The currency Toss settles domestic payments in. */
export const TOSS_CURRENCIES = ['KRW'] as const;

/** Toss keeps `cancelReason` to 200 characters; ours may be longer. */
const MAX_CANCEL_REASON = 200;
/** Seconds callers wait after Toss refused our own key: an operator has to act first. */
const MISCONFIGURED_RETRY_AFTER_SECONDS = 30;

export interface TossPaymentGatewayOptions extends Omit<TossHttpClientOptions, 'fetch'> {
  readonly virtualAccount: {
    /** Bank code accounts are issued at (e.g. `20`, Woori Bank). */
    readonly bank: string;
    /** Hours an account accepts the deposit. */
    readonly validHours: number;
  };
  readonly clock: Clock;
  readonly fetch?: typeof fetch;
}

export class TossPaymentGateway implements PaymentGateway, DepositLookup {
  readonly name = 'toss';
  readonly supportedCurrencies = TOSS_CURRENCIES;
  private readonly http: TossHttpClient;

  constructor(private readonly options: TossPaymentGatewayOptions) {
    this.http = new TossHttpClient({
      ...options,
      secretKey: async () => {
        const key = await options.secretKey();
        // The stack's new secret holds a placeholder until the key is put: never sent to Toss.
        if (key.startsWith(TOSS_SECRET_KEY_PLACEHOLDER.slice(0, 'REPLACE_ME'.length))) throw this.misconfigured('the Toss secret key has not been put into its secret yet');
        return key;
      },
    });
  }

  async authorize(request: Parameters<PaymentGateway['authorize']>[0]): ReturnType<PaymentGateway['authorize']> {
    if (request.paymentKey === undefined) throw this.misconfigured('a Toss stack confirms with a paymentKey, not a card token');
    try {
      const payment = await this.payment({
        method: 'POST',
        path: '/v1/payments/confirm',
        body: { paymentKey: request.paymentKey, orderId: request.paymentId, amount: request.amount },
        idempotencyKey: request.idempotencyKey,
      });
      return this.authorization(payment, request.amount);
    } catch (error) {
      if (!(error instanceof TossApiError)) throw error;
      const kind = tossErrorKind(error.code, error.httpStatus);
      if (kind === 'declined') return { outcome: 'declined', reason: error.code };
      if (kind === 'already-processed') {
        const answer = await this.lookupAuthorization(request.paymentId);
        if (answer.outcome !== 'not-found') return answer;
      }
      throw this.translate(error);
    }
  }

  async refund(request: Parameters<PaymentGateway['refund']>[0]): ReturnType<PaymentGateway['refund']> {
    try {
      const payment = await this.payment({
        method: 'POST',
        path: `/v1/payments/${encodeURIComponent(request.pgTransactionId)}/cancel`,
        body: { cancelReason: request.reason.slice(0, MAX_CANCEL_REASON) },
        idempotencyKey: request.idempotencyKey,
      });
      return this.refunded(payment);
    } catch (error) {
      if (!(error instanceof TossApiError)) throw error;
      if (tossErrorKind(error.code, error.httpStatus) === 'already-processed') {
        const answer = await this.lookupRefund(request.paymentId);
        if (answer.outcome === 'refunded') return answer;
      }
      throw this.translate(error);
    }
  }

  async issueVirtualAccount(request: Parameters<PaymentGateway['issueVirtualAccount']>[0]): Promise<IssuedVirtualAccount> {
    const payment = await this.payment({
      method: 'POST',
      path: '/v1/virtual-accounts',
      body: {
        amount: request.amount,
        orderId: request.paymentId,
        orderName: `Order ${request.orderId}`.slice(0, 100),
        // The API takes no buyer name; the order id stands in for it on the account's statement.
        customerName: request.orderId.slice(0, 100),
        bank: this.options.virtualAccount.bank,
        validHours: this.options.virtualAccount.validHours,
      },
      idempotencyKey: request.idempotencyKey,
    }).catch((error: unknown) => {
      throw error instanceof TossApiError ? this.translate(error) : error;
    });
    const account = payment.virtualAccount;
    if (!account || payment.secret === undefined) throw this.unexpected(new TossResponseError('a virtual-account answer without virtualAccount or secret'));
    return {
      account: { bank: account.bankCode, accountNumber: account.accountNumber, dueAt: tossTimeToIso(account.dueDate) },
      pgTransactionId: payment.paymentKey,
      callbackSecret: payment.secret,
    };
  }

  async closeVirtualAccount(request: Parameters<PaymentGateway['closeVirtualAccount']>[0]): Promise<void> {
    let paymentKey = request.pgTransactionId;
    if (paymentKey === undefined) {
      const found = await this.findByOrder(request.paymentId);
      if (!found) return;
      paymentKey = found.paymentKey;
    }
    try {
      await this.payment({
        method: 'POST',
        path: `/v1/payments/${encodeURIComponent(paymentKey)}/cancel`,
        body: { cancelReason: 'The payment was cancelled before the deposit' },
        idempotencyKey: request.idempotencyKey,
      });
    } catch (error) {
      if (!(error instanceof TossApiError)) throw error;
      // Closed already (by us or in Toss's dashboard): nothing can be deposited.
      if (error.code === 'ALREADY_CANCELED_PAYMENT') return;
      // Deposited meanwhile: Toss refuses without a refund account, and the deposit callback approves the payment.
      throw this.translate(error);
    }
  }

  async lookup(request: Parameters<PaymentGateway['lookup']>[0]): Promise<PgAnswer> {
    return request.operation === 'authorize' ? this.lookupAuthorization(request.paymentId) : this.lookupRefund(request.paymentId);
  }

  async findDeposit(request: { readonly paymentId: string }): Promise<DepositFinding> {
    const payment = await this.findByOrder(request.paymentId);
    if (!payment) return { status: 'not-found' };
    if (payment.status !== 'DONE' || payment.virtualAccount === undefined) return { status: 'not-deposited', pgStatus: payment.status };
    return {
      status: 'deposited',
      pgTransactionId: payment.paymentKey,
      amount: payment.totalAmount,
      depositedAt: payment.approvedAt ? tossTimeToIso(payment.approvedAt) : this.options.clock.now().toISOString(),
    };
  }

  /** What Toss shows for our order, as the answer to an authorize. */
  private async lookupAuthorization(paymentId: string): Promise<Extract<PgAnswer, { outcome: 'approved' | 'declined' | 'not-found' }>> {
    const payment = await this.findByOrder(paymentId);
    if (!payment) return { outcome: 'not-found' };
    switch (payment.status) {
      case 'DONE':
      case 'CANCELED':
      case 'PARTIAL_CANCELED':
        // It was charged (a later cancel at Toss does not undo the charge's record).
        return { outcome: 'approved', pgTransactionId: payment.paymentKey };
      case 'ABORTED':
        return { outcome: 'declined', reason: payment.failure?.code || 'ABORTED' };
      default:
        // READY, IN_PROGRESS, EXPIRED, WAITING_FOR_DEPOSIT: no charge was made.
        return { outcome: 'not-found' };
    }
  }

  /** What Toss shows for our order, as the answer to a full refund. */
  private async lookupRefund(paymentId: string): Promise<PgAnswer> {
    const payment = await this.findByOrder(paymentId);
    const cancel = payment && payment.status === 'CANCELED' ? latestCancel(payment) : undefined;
    return cancel ? { outcome: 'refunded', refundId: cancel.transactionKey } : { outcome: 'not-found' };
  }

  private async findByOrder(paymentId: string): Promise<TossPayment | undefined> {
    try {
      return await this.payment({ method: 'GET', path: `/v1/payments/orders/${encodeURIComponent(paymentId)}` });
    } catch (error) {
      if (error instanceof TossApiError && error.httpStatus === 404) return undefined;
      throw error instanceof TossApiError ? this.translate(error) : error;
    }
  }

  private authorization(payment: TossPayment, amount: number): Extract<PgAnswer, { outcome: 'approved' | 'declined' }> {
    if (payment.status === 'DONE' && payment.totalAmount === amount) return { outcome: 'approved', pgTransactionId: payment.paymentKey };
    if (payment.status === 'ABORTED') return { outcome: 'declined', reason: payment.failure?.code || 'ABORTED' };
    // Anything else leaves the attempt open: the reconciler looks the order up.
    throw this.unexpected(new TossResponseError(`a confirm answered status ${payment.status}, amount ${payment.totalAmount} (expected DONE, ${amount})`));
  }

  private refunded(payment: TossPayment): Extract<PgAnswer, { outcome: 'refunded' }> {
    const cancel = latestCancel(payment);
    if (payment.status !== 'CANCELED' || !cancel) throw this.unexpected(new TossResponseError(`a cancel answered status ${payment.status} without its cancel`));
    return { outcome: 'refunded', refundId: cancel.transactionKey };
  }

  private async payment(request: TossRequest): Promise<TossPayment> {
    const body = await this.http.send(request);
    try {
      return parseTossPayment(body);
    } catch (error) {
      throw error instanceof TossResponseError ? this.unexpected(error) : error;
    }
  }

  /** Toss's error answer as the domain error it means (declines and repeats are handled by the callers). */
  private translate(error: TossApiError): Error {
    const detail = `Toss ${error.httpStatus} ${error.code}`;
    switch (tossErrorKind(error.code, error.httpStatus)) {
      case 'rejected':
      case 'declined':
        return new PgRequestRejectedError(error.code, error.tossMessage);
      case 'misconfigured':
        return new PgMisconfiguredError(MISCONFIGURED_RETRY_AFTER_SECONDS, detail);
      default:
        return new PgUnavailableError(error.retryAfterSeconds ?? this.http.retryAfterSeconds, detail);
    }
  }

  private misconfigured(detail: string): PgMisconfiguredError {
    return new PgMisconfiguredError(MISCONFIGURED_RETRY_AFTER_SECONDS, detail);
  }

  /** An answer we cannot read: treated as no answer, so nothing is recorded until a lookup settles it. */
  private unexpected(error: TossResponseError): PgUnavailableError {
    return new PgUnavailableError(this.http.retryAfterSeconds, error.message);
  }
}
