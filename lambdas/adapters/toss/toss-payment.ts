/**
 * The parts of Toss Payments' Payment object (https://docs.tosspayments.com/reference#payment-객체)
 * this adapter reads, checked as it reads them: Toss adds fields without a version change, so
 * anything else is ignored.
 */

export const TOSS_PAYMENT_STATUSES = [
  'READY',
  'IN_PROGRESS',
  'WAITING_FOR_DEPOSIT',
  'DONE',
  'CANCELED',
  'PARTIAL_CANCELED',
  'ABORTED',
  'EXPIRED',
] as const;
export type TossPaymentStatus = (typeof TOSS_PAYMENT_STATUSES)[number];

export interface TossCancel {
  readonly transactionKey: string;
  readonly cancelAmount: number;
  readonly canceledAt?: string;
}

export interface TossPayment {
  readonly paymentKey: string;
  readonly orderId: string;
  readonly status: TossPaymentStatus;
  readonly totalAmount: number;
  readonly approvedAt?: string;
  readonly lastTransactionKey?: string;
  readonly cancels: readonly TossCancel[];
  readonly virtualAccount?: { readonly accountNumber: string; readonly bankCode: string; readonly dueDate: string };
  readonly secret?: string;
  readonly failure?: { readonly code: string; readonly message: string };
}

/** A 200 answer from Toss that is not the Payment object its documentation describes. */
export class TossResponseError extends Error {
  constructor(detail: string) {
    super(`Toss answered with an unexpected body: ${detail}`);
    this.name = 'TossResponseError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function text(source: Record<string, unknown>, field: string): string {
  const value = source[field];
  if (typeof value !== 'string' || value === '') throw new TossResponseError(`${field} is not a string`);
  return value;
}

function optionalText(source: Record<string, unknown>, field: string): string | undefined {
  const value = source[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function amount(source: Record<string, unknown>, field: string): number {
  const value = source[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TossResponseError(`${field} is not a number`);
  return value;
}

/** The Payment object in `body`, with the fields this adapter uses. */
export function parseTossPayment(body: unknown): TossPayment {
  if (!isRecord(body)) throw new TossResponseError('not a JSON object');
  const status = text(body, 'status');
  if (!(TOSS_PAYMENT_STATUSES as readonly string[]).includes(status)) throw new TossResponseError(`status ${status} is not a payment status`);
  const cancels = Array.isArray(body.cancels)
    ? body.cancels.filter(isRecord).map((cancel) => ({
        transactionKey: text(cancel, 'transactionKey'),
        cancelAmount: amount(cancel, 'cancelAmount'),
        ...(optionalText(cancel, 'canceledAt') !== undefined && { canceledAt: optionalText(cancel, 'canceledAt') }),
      }))
    : [];
  const account = isRecord(body.virtualAccount) ? body.virtualAccount : undefined;
  const failure = isRecord(body.failure) ? body.failure : undefined;
  const approvedAt = optionalText(body, 'approvedAt');
  const lastTransactionKey = optionalText(body, 'lastTransactionKey');
  const secret = optionalText(body, 'secret');
  return {
    paymentKey: text(body, 'paymentKey'),
    orderId: text(body, 'orderId'),
    status: status as TossPaymentStatus,
    totalAmount: amount(body, 'totalAmount'),
    cancels,
    ...(approvedAt !== undefined && { approvedAt }),
    ...(lastTransactionKey !== undefined && { lastTransactionKey }),
    ...(secret !== undefined && { secret }),
    ...(account && {
      virtualAccount: {
        accountNumber: text(account, 'accountNumber'),
        // Before API version 2022-11-16 the bank was `bank`; since then `bankCode` (numeric).
        bankCode: optionalText(account, 'bankCode') ?? text(account, 'bank'),
        dueDate: text(account, 'dueDate'),
      },
    }),
    ...(failure && { failure: { code: String(failure.code ?? ''), message: String(failure.message ?? '') } }),
  };
}

/** The cancel a full refund made: the one `lastTransactionKey` names, else the latest. */
export function latestCancel(payment: TossPayment): TossCancel | undefined {
  return payment.cancels.find((cancel) => cancel.transactionKey === payment.lastTransactionKey) ?? payment.cancels.at(-1);
}

/**
 * Toss's date-times as ISO 8601 UTC. Toss writes `yyyy-MM-ddTHH:mm:ss±hh:mm`, and some fields
 * (a virtual account's `dueDate`, a callback's `createdAt`) without an offset, which is Korea's time.
 */
export function tossTimeToIso(value: string): string {
  const withOffset = /([+-]\d{2}:\d{2}|Z)$/.test(value) ? value : `${value}+09:00`;
  const time = Date.parse(withOffset);
  if (Number.isNaN(time)) throw new TossResponseError(`${value} is not a date-time`);
  return new Date(time).toISOString();
}
