/**
 * The in-memory payments of toss-local, with no HTTP in it: payment sessions (what Toss's payment
 * window leaves behind once the buyer authenticated), confirm, cancel, virtual accounts and their
 * deposits, and a ledger of the money moved per order. Every answer is a Payment object in Toss's
 * documented shape (https://docs.tosspayments.com/reference#payment-객체, version 2022-11-16);
 * every refusal is a TossLocalError with Toss's code and HTTP status.
 *
 * Idempotency keys, authentication and injected faults are the HTTP layer's (server.ts): this
 * model executes whatever reaches it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { DEFAULT_DECLINE_CODE, isConfirmFailureCode, TOSS_CONFIRM_FAILURES, TossLocalError, type TossConfirmFailureCode } from './toss-local-errors';

/** The Payment object version toss-local answers with. */
export const TOSS_API_VERSION = '2022-11-16';
/** The merchant id (`mId`) of every payment (Toss: at most 14 characters). */
export const TOSS_LOCAL_MID = 'tosslocal';
/** Toss's rule for `orderId`: letters, digits, `-`, `_`; 6 to 64 characters. */
export const ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{6,64}$/;
/** A virtual account accepts deposits for this long when the issue names neither `validHours` nor `dueDate`. */
export const DEFAULT_VALID_HOURS = 168;
export const MAX_VALID_HOURS = 2160;
export const MAX_DUE_DAYS = 90;
/** Toss expires an authenticated payment that is not confirmed within 10 minutes. */
export const DEFAULT_SESSION_TTL_MS = 10 * 60_000;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const KST_OFFSET_MS = 9 * HOUR_MS;

export type TossPaymentStatus = 'READY' | 'IN_PROGRESS' | 'WAITING_FOR_DEPOSIT' | 'DONE' | 'CANCELED' | 'PARTIAL_CANCELED' | 'ABORTED' | 'EXPIRED';
/** Toss's `method` values (Korean by default) for the methods toss-local knows. */
export type TossMethod = '카드' | '간편결제' | '가상계좌';
/** How the buyer paid in the payment window, as a test names it. */
export type TossSessionMethod = 'CARD' | 'EASY_PAY';
export type TossSessionOutcome = 'approve' | 'decline';

export interface TossFailure {
  readonly code: string;
  readonly message: string;
}

/** An item of `cancels` (https://docs.tosspayments.com/reference#cancel-객체). */
export interface TossCancelObject {
  readonly cancelAmount: number;
  readonly cancelReason: string;
  readonly taxFreeAmount: number;
  readonly taxExemptionAmount: number;
  /** What can still be refunded after this cancel. */
  readonly refundableAmount: number;
  readonly cardDiscountAmount: number;
  readonly transferDiscountAmount: number;
  readonly easyPayDiscountAmount: number;
  /** `yyyy-MM-ddTHH:mm:ss+09:00` */
  readonly canceledAt: string;
  readonly transactionKey: string;
  readonly receiptKey: string | null;
  readonly cancelStatus: 'DONE';
  readonly cancelRequestId: string | null;
}

export interface TossRefundReceiveAccount {
  readonly bankCode: string;
  readonly accountNumber: string;
  readonly holderName: string;
}

export interface TossVirtualAccountObject {
  readonly accountType: '일반';
  readonly accountNumber: string;
  /** Two-digit bank code. */
  readonly bankCode: string;
  readonly customerName: string;
  /** `yyyy-MM-ddTHH:mm:ss+09:00` */
  readonly dueDate: string;
  readonly refundStatus: 'NONE' | 'PENDING';
  /** The due date passed without a deposit. */
  readonly expired: boolean;
  readonly settlementStatus: 'INCOMPLETED';
  readonly refundReceiveAccount: TossRefundReceiveAccount | null;
  readonly depositorName: string | null;
}

export interface TossCardObject {
  readonly amount: number;
  readonly issuerCode: string;
  readonly acquirerCode: string;
  readonly number: string;
  readonly installmentPlanMonths: number;
  readonly approveNo: string;
  readonly useCardPoint: boolean;
  readonly cardType: '신용';
  readonly ownerType: '개인';
  readonly acquireStatus: 'READY' | 'CANCELED';
  readonly isInterestFree: boolean;
  readonly interestPayer: string | null;
}

export interface TossEasyPayObject {
  readonly provider: string;
  readonly amount: number;
  readonly discountAmount: number;
}

/** Toss's Payment object as toss-local renders it. */
export interface TossPaymentObject {
  readonly mId: string;
  readonly version: string;
  readonly lastTransactionKey: string | null;
  readonly paymentKey: string;
  readonly orderId: string;
  readonly orderName: string;
  readonly taxExemptionAmount: number;
  readonly status: TossPaymentStatus;
  /** `yyyy-MM-ddTHH:mm:ss+09:00` */
  readonly requestedAt: string;
  readonly approvedAt: string | null;
  readonly useEscrow: boolean;
  readonly cultureExpense: boolean;
  readonly card: TossCardObject | null;
  readonly virtualAccount: TossVirtualAccountObject | null;
  readonly transfer: null;
  readonly mobilePhone: null;
  readonly giftCertificate: null;
  readonly cashReceipt: null;
  readonly cashReceipts: null;
  readonly discount: null;
  readonly cancels: readonly TossCancelObject[] | null;
  /** Set for virtual accounts: the value their DEPOSIT_CALLBACKs carry. */
  readonly secret: string | null;
  readonly type: 'NORMAL';
  readonly easyPay: TossEasyPayObject | null;
  readonly country: 'KR';
  readonly failure: TossFailure | null;
  readonly isPartialCancelable: boolean;
  readonly receipt: { readonly url: string } | null;
  readonly checkout: { readonly url: string } | null;
  readonly currency: 'KRW';
  readonly totalAmount: number;
  readonly balanceAmount: number;
  readonly suppliedAmount: number;
  readonly vat: number;
  readonly taxFreeAmount: number;
  readonly method: TossMethod;
  readonly metadata: null;
}

export interface TossPaymentSessionInput {
  /** 6 to 64 characters of `[A-Za-z0-9_-]`. */
  readonly orderId: string;
  /** Whole KRW, above 0. */
  readonly amount: number;
  /** @default 'CARD' */
  readonly method?: TossSessionMethod;
  /** What confirming it does. @default 'approve' */
  readonly outcome?: TossSessionOutcome;
  /** The confirm failure a `decline` session answers with (a code of TOSS_CONFIRM_FAILURES). @default 'REJECT_CARD_PAYMENT' */
  readonly declineCode?: string;
  /** @default 'toss-local order' */
  readonly orderName?: string;
}

/** What Toss's payment window hands the buyer's browser (its success URL's query) after authentication. */
export interface TossPaymentSession {
  readonly paymentKey: string;
  readonly orderId: string;
  readonly amount: number;
}

/** The money toss-local moved for one order. */
export interface TossLedgerEntry {
  readonly orderId: string;
  /** The order's latest payment; null for an order toss-local does not know. */
  readonly paymentKey: string | null;
  readonly status: TossPaymentStatus | null;
  /** Approved confirms and virtual-account deposits. */
  readonly chargeCount: number;
  readonly chargedAmount: number;
  /** Cancels of money that had moved (a virtual account cancelled before its deposit is not one). */
  readonly refundCount: number;
  readonly refundedAmount: number;
  readonly depositCount: number;
  readonly depositedAmount: number;
  /** Transaction keys of the charges, deposits and refunds, in order. */
  readonly transactionKeys: readonly string[];
}

/** A virtual account changed state: the moments Toss sends a DEPOSIT_CALLBACK. */
export interface VirtualAccountChange {
  readonly transition: 'issued' | 'deposited' | 'canceled';
  readonly orderId: string;
  readonly secret: string;
  readonly status: TossPaymentStatus;
  readonly transactionKey: string;
  readonly at: Date;
}

export interface TossDepositResult {
  readonly orderId: string;
  readonly paymentKey: string;
  /** The deposit's transaction key (its DEPOSIT_CALLBACK carries it). */
  readonly transactionKey: string;
}

export interface TossLocalPaymentsOptions {
  readonly now: () => Date;
  /** The server's base URL, for `receipt.url` and `checkout.url`. */
  readonly baseUrl: () => string;
  /** @default DEFAULT_SESSION_TTL_MS */
  readonly sessionTtlMs?: number;
  readonly onVirtualAccountChange?: (change: VirtualAccountChange) => void;
}

type Body = Readonly<Record<string, unknown>>;

interface VirtualAccountRecord {
  readonly accountNumber: string;
  readonly bankCode: string;
  readonly customerName: string;
  readonly dueDate: Date;
  refundStatus: 'NONE' | 'PENDING';
  depositorName: string | null;
  refundReceiveAccount: TossRefundReceiveAccount | null;
}

interface PaymentRecord {
  readonly paymentKey: string;
  readonly orderId: string;
  readonly orderName: string;
  readonly method: TossMethod;
  readonly totalAmount: number;
  readonly requestedAt: Date;
  readonly outcome: TossSessionOutcome;
  readonly declineCode: TossConfirmFailureCode;
  readonly secret: string | null;
  readonly virtualAccount: VirtualAccountRecord | null;
  status: TossPaymentStatus;
  balanceAmount: number;
  approvedAt: Date | null;
  lastTransactionKey: string | null;
  failure: TossFailure | null;
  cancels: TossCancelObject[];
}

interface LedgerRecord {
  chargeCount: number;
  chargedAmount: number;
  refundCount: number;
  refundedAmount: number;
  depositCount: number;
  depositedAmount: number;
  transactionKeys: string[];
}

/**
 * Bank codes a request may name (`bank`): Toss answers with the two-digit code only and accepts
 * the numeric, English or Korean names in requests
 * (https://docs.tosspayments.com/reference/release-note, 2022-11-16).
 */
const BANKS: readonly (readonly [code: string, english: string, korean: string])[] = [
  ['02', 'KDBBANK', '산업'],
  ['03', 'IBK', '기업'],
  ['04', 'KOOKMIN', '국민'],
  ['07', 'SUHYEOP', '수협'],
  ['11', 'NONGHYEOP', '농협'],
  ['12', 'LOCALNONGHYEOP', '단위농협'],
  ['20', 'WOORI', '우리'],
  ['23', 'SC', 'SC제일'],
  ['27', 'CITI', '씨티'],
  ['31', 'DAEGUBANK', '대구'],
  ['32', 'BUSANBANK', '부산'],
  ['34', 'GWANGJUBANK', '광주'],
  ['35', 'JEJUBANK', '제주'],
  ['37', 'JEONBUKBANK', '전북'],
  ['39', 'KYONGNAMBANK', '경남'],
  ['45', 'SAEMAUL', '새마을'],
  ['48', 'SHINHYEOP', '신협'],
  ['50', 'SAVINGBANK', '저축'],
  ['54', 'HSBC', 'HSBC'],
  ['64', 'SANLIM', '산림'],
  ['71', 'POST', '우체국'],
  ['81', 'HANA', '하나'],
  ['88', 'SHINHAN', '신한'],
  ['89', 'KBANK', '케이'],
  ['90', 'KAKAOBANK', '카카오'],
  ['92', 'TOSSBANK', '토스'],
];
const BANK_CODES: ReadonlyMap<string, string> = new Map(
  BANKS.flatMap(([code, english, korean]) => [
    [code, code],
    [english, code],
    [korean, code],
  ]),
);

/** The two-digit code of a bank named by code, English or Korean name; undefined when unknown. */
export function bankCode(value: unknown): string | undefined {
  return typeof value === 'string' ? BANK_CODES.get(value.trim().toUpperCase()) ?? BANK_CODES.get(value.trim()) : undefined;
}

/** `yyyy-MM-ddTHH:mm:ss+09:00`: how Toss writes its date-times (Korea's time). */
export function tossDateTime(date: Date): string {
  return `${new Date(date.getTime() + KST_OFFSET_MS).toISOString().slice(0, 19)}+09:00`;
}

/** `yyyy-MM-ddTHH:mm:ss.SSSSSS`, Korea's time without an offset: a DEPOSIT_CALLBACK's `createdAt`. */
export function tossCallbackTime(date: Date): string {
  return `${new Date(date.getTime() + KST_OFFSET_MS).toISOString().slice(0, 23)}000`;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomText(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return text;
}

/** 32 upper-case hex digits, like Toss's transaction keys in its examples. */
export function newTransactionKey(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

function newPaymentKey(): string {
  return `tlocal_${randomText(24)}`;
}

function newSecret(): string {
  return `ps_${randomText(26)}`;
}

function newAccountNumber(): string {
  let digits = String(1 + randomInt(9));
  for (let i = 0; i < 13; i++) digits += String(randomInt(10));
  return digits;
}

function invalid(message: string): TossLocalError {
  return new TossLocalError('INVALID_REQUEST', `잘못된 요청입니다. ${message}`);
}

function requiredText(body: Body, field: string, max: number): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') throw invalid(`${field} is required.`);
  if (typeof value !== 'string') throw invalid(`${field} must be a string.`);
  if (value.length > max) throw invalid(`${field} must be at most ${max} characters.`);
  return value;
}

function wholeAmount(body: Body, field: string): number {
  const value = body[field];
  if (value === undefined || value === null) throw invalid(`${field} is required.`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(`${field} must be a whole number of KRW.`);
  return value;
}

function orderIdOf(body: Body): string {
  const orderId = requiredText(body, 'orderId', 1000);
  if (!ORDER_ID_PATTERN.test(orderId)) throw new TossLocalError('INVALID_ORDER_ID');
  return orderId;
}

/** `yyyy-MM-ddTHH:mm:ss` (Korea's time) or with an offset or `Z`; undefined when it is none of these. */
function parseTossDateTime(value: string): Date | undefined {
  const match = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!match) return undefined;
  const time = Date.parse(match[1] === undefined ? `${value}+09:00` : value);
  return Number.isNaN(time) ? undefined : new Date(time);
}

export class TossLocalPayments {
  private readonly byKey = new Map<string, PaymentRecord>();
  /** The latest payment of each order. */
  private readonly byOrder = new Map<string, PaymentRecord>();
  private readonly ledgerByOrder = new Map<string, LedgerRecord>();
  private readonly sessionTtlMs: number;

  constructor(private readonly options: TossLocalPaymentsOptions) {
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  }

  /**
   * A payment the buyer authenticated in the payment window (status IN_PROGRESS), waiting for the
   * merchant's confirm. An order may get a new session only while it has none, or its last one was
   * declined or expired.
   * @throws TossLocalError INVALID_REQUEST, INVALID_ORDER_ID, BELOW_ZERO_AMOUNT, DUPLICATED_ORDER_ID
   */
  createSession(session: TossPaymentSessionInput | Body): TossPaymentSession {
    const input = session as Body;
    const orderId = orderIdOf(input);
    const amount = wholeAmount(input, 'amount');
    if (amount <= 0) throw new TossLocalError('BELOW_ZERO_AMOUNT');
    const method = input.method ?? 'CARD';
    if (method !== 'CARD' && method !== 'EASY_PAY') throw invalid('method must be CARD or EASY_PAY.');
    const outcome = input.outcome ?? 'approve';
    if (outcome !== 'approve' && outcome !== 'decline') throw invalid('outcome must be approve or decline.');
    const declineCode = input.declineCode ?? DEFAULT_DECLINE_CODE;
    if (typeof declineCode !== 'string' || !isConfirmFailureCode(declineCode)) {
      throw invalid(`declineCode must be one of ${Object.keys(TOSS_CONFIRM_FAILURES).join(', ')}.`);
    }
    const orderName = input.orderName === undefined ? 'toss-local order' : requiredText(input, 'orderName', 100);
    const existing = this.current(orderId);
    if (existing && existing.status !== 'ABORTED' && existing.status !== 'EXPIRED') throw new TossLocalError('DUPLICATED_ORDER_ID');

    const record: PaymentRecord = {
      paymentKey: newPaymentKey(),
      orderId,
      orderName,
      method: method === 'CARD' ? '카드' : '간편결제',
      totalAmount: amount,
      requestedAt: this.options.now(),
      outcome,
      declineCode,
      secret: null,
      virtualAccount: null,
      status: 'IN_PROGRESS',
      balanceAmount: amount,
      approvedAt: null,
      lastTransactionKey: null,
      failure: null,
      cancels: [],
    };
    this.add(record);
    return { paymentKey: record.paymentKey, orderId, amount };
  }

  /**
   * `POST /v1/payments/confirm` (https://docs.tosspayments.com/reference#결제-승인).
   * @throws TossLocalError INVALID_REQUEST (missing field, or orderId / amount not the session's),
   *   INVALID_ORDER_ID, NOT_FOUND_PAYMENT_SESSION, ALREADY_PROCESSED_PAYMENT, or the session's decline code
   */
  confirm(body: Body): TossPaymentObject {
    const paymentKey = requiredText(body, 'paymentKey', 200);
    const orderId = requiredText(body, 'orderId', 1000);
    const amount = wholeAmount(body, 'amount');
    if (!ORDER_ID_PATTERN.test(orderId)) throw new TossLocalError('INVALID_ORDER_ID');
    const record = this.byKey.get(paymentKey);
    if (!record) throw new TossLocalError('NOT_FOUND_PAYMENT_SESSION');
    this.expireIfDue(record);
    if (record.status === 'EXPIRED') throw new TossLocalError('NOT_FOUND_PAYMENT_SESSION');
    if (record.orderId !== orderId) throw invalid('orderId is not the payment session’s.');
    if (record.totalAmount !== amount) throw invalid('amount is not the payment session’s.');
    if (record.status !== 'IN_PROGRESS') throw new TossLocalError('ALREADY_PROCESSED_PAYMENT');

    const at = this.options.now();
    const transactionKey = newTransactionKey();
    record.lastTransactionKey = transactionKey;
    if (record.outcome === 'decline') {
      const failure = new TossLocalError(record.declineCode);
      record.status = 'ABORTED';
      record.failure = failure.body();
      throw failure;
    }
    record.status = 'DONE';
    record.approvedAt = at;
    this.charge(record.orderId, record.totalAmount, transactionKey, false);
    return this.render(record);
  }

  /**
   * `POST /v1/payments/{paymentKey}/cancel` (https://docs.tosspayments.com/reference#결제-취소): a
   * full cancel, or a partial one (`cancelAmount` below the balance) of a DONE payment.
   * @throws TossLocalError INVALID_REQUEST, NOT_FOUND_PAYMENT, ALREADY_CANCELED_PAYMENT,
   *   NOT_CANCELABLE_PAYMENT, NOT_CANCELABLE_AMOUNT, NOT_MATCHES_REFUNDABLE_AMOUNT,
   *   NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT, INVALID_REFUND_ACCOUNT_INFO, INVALID_REFUND_ACCOUNT_NUMBER, INVALID_BANK
   */
  cancel(paymentKey: string, body: Body): TossPaymentObject {
    const cancelReason = requiredText(body, 'cancelReason', 200);
    const cancelAmount = body.cancelAmount === undefined || body.cancelAmount === null ? undefined : wholeAmount(body, 'cancelAmount');
    if (cancelAmount !== undefined && cancelAmount <= 0) throw invalid('cancelAmount must be above 0.');
    const refundableAmount = body.refundableAmount === undefined || body.refundableAmount === null ? undefined : wholeAmount(body, 'refundableAmount');
    const record = this.byKey.get(paymentKey);
    if (!record) throw new TossLocalError('NOT_FOUND_PAYMENT');
    this.expireIfDue(record);

    switch (record.status) {
      case 'CANCELED':
        throw new TossLocalError('ALREADY_CANCELED_PAYMENT');
      case 'WAITING_FOR_DEPOSIT': {
        // Before the deposit: only the whole amount, no refund account, no money moves.
        if (cancelAmount !== undefined && cancelAmount !== record.balanceAmount) throw new TossLocalError('NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT');
        if (refundableAmount !== undefined && refundableAmount !== record.balanceAmount) throw new TossLocalError('NOT_MATCHES_REFUNDABLE_AMOUNT');
        const cancel = this.addCancel(record, record.balanceAmount, cancelReason);
        this.announce(record, 'canceled', cancel.transactionKey);
        return this.render(record);
      }
      case 'DONE':
      case 'PARTIAL_CANCELED': {
        const amount = cancelAmount ?? record.balanceAmount;
        if (amount > record.balanceAmount) throw new TossLocalError('NOT_CANCELABLE_AMOUNT');
        if (refundableAmount !== undefined && refundableAmount !== record.balanceAmount) throw new TossLocalError('NOT_MATCHES_REFUNDABLE_AMOUNT');
        const account = record.virtualAccount;
        if (account) {
          account.refundReceiveAccount = refundReceiveAccount(body.refundReceiveAccount);
          account.refundStatus = 'PENDING';
        }
        const cancel = this.addCancel(record, amount, cancelReason);
        const ledger = this.ledgerRecord(record.orderId);
        ledger.refundCount += 1;
        ledger.refundedAmount += amount;
        ledger.transactionKeys.push(cancel.transactionKey);
        if (account) this.announce(record, 'canceled', cancel.transactionKey);
        return this.render(record);
      }
      default:
        throw new TossLocalError('NOT_CANCELABLE_PAYMENT');
    }
  }

  /**
   * `POST /v1/virtual-accounts` (https://docs.tosspayments.com/reference#가상계좌-발급-요청): a payment
   * WAITING_FOR_DEPOSIT with its account and the `secret` its DEPOSIT_CALLBACKs carry.
   * @throws TossLocalError INVALID_REQUEST, INVALID_ORDER_ID, BELOW_ZERO_AMOUNT, INVALID_BANK,
   *   INVALID_VALID_HOURS_WITH_DUE_DATE_AND_SINGLE, EXCEED_MAX_VALID_HOURS, EXCEED_MAX_DUE_DATE, DUPLICATED_ORDER_ID
   */
  issueVirtualAccount(body: Body): TossPaymentObject {
    const amount = wholeAmount(body, 'amount');
    const orderId = orderIdOf(body);
    const orderName = requiredText(body, 'orderName', 100);
    const customerName = requiredText(body, 'customerName', 100);
    const bank = requiredText(body, 'bank', 40);
    if (amount <= 0) throw new TossLocalError('BELOW_ZERO_AMOUNT');
    const code = bankCode(bank);
    if (code === undefined) throw new TossLocalError('INVALID_BANK');
    const now = this.options.now();
    const dueDate = this.dueDate(body, now);
    if (this.byOrder.has(orderId)) throw new TossLocalError('DUPLICATED_ORDER_ID');

    const transactionKey = newTransactionKey();
    const record: PaymentRecord = {
      paymentKey: newPaymentKey(),
      orderId,
      orderName,
      method: '가상계좌',
      totalAmount: amount,
      requestedAt: now,
      outcome: 'approve',
      declineCode: DEFAULT_DECLINE_CODE,
      secret: newSecret(),
      virtualAccount: {
        accountNumber: newAccountNumber(),
        bankCode: code,
        customerName,
        dueDate,
        refundStatus: 'NONE',
        depositorName: null,
        refundReceiveAccount: null,
      },
      status: 'WAITING_FOR_DEPOSIT',
      balanceAmount: amount,
      approvedAt: null,
      lastTransactionKey: transactionKey,
      failure: null,
      cancels: [],
    };
    this.add(record);
    this.announce(record, 'issued', transactionKey);
    return this.render(record);
  }

  /**
   * The buyer pays the full amount into the order's virtual account: the payment becomes DONE.
   * @throws TossLocalError NOT_FOUND_PAYMENT (no virtual account for the order), NOT_WAITING_FOR_DEPOSIT
   */
  deposit(orderId: string, depositorName?: string): TossDepositResult {
    const record = this.byOrder.get(orderId);
    if (!record?.virtualAccount) throw new TossLocalError('NOT_FOUND_PAYMENT', `No virtual account was issued for order ${orderId}.`);
    if (record.status !== 'WAITING_FOR_DEPOSIT') {
      throw new TossLocalError('NOT_WAITING_FOR_DEPOSIT', `The payment of order ${orderId} is ${record.status}, not WAITING_FOR_DEPOSIT.`);
    }
    const at = this.options.now();
    if (at.getTime() > record.virtualAccount.dueDate.getTime()) {
      throw new TossLocalError('NOT_WAITING_FOR_DEPOSIT', `The virtual account of order ${orderId} expired at ${tossDateTime(record.virtualAccount.dueDate)}.`);
    }
    const transactionKey = newTransactionKey();
    record.status = 'DONE';
    record.approvedAt = at;
    record.lastTransactionKey = transactionKey;
    record.virtualAccount.depositorName = depositorName ?? record.virtualAccount.customerName;
    this.charge(orderId, record.totalAmount, transactionKey, true);
    this.announce(record, 'deposited', transactionKey);
    return { orderId, paymentKey: record.paymentKey, transactionKey };
  }

  /** `GET /v1/payments/{paymentKey}`. @throws TossLocalError NOT_FOUND_PAYMENT */
  byPaymentKey(paymentKey: string): TossPaymentObject {
    const record = this.byKey.get(paymentKey);
    if (!record) throw new TossLocalError('NOT_FOUND_PAYMENT');
    return this.render(record);
  }

  /** `GET /v1/payments/orders/{orderId}`: the order's latest payment. @throws TossLocalError NOT_FOUND_PAYMENT */
  byOrderId(orderId: string): TossPaymentObject {
    const record = this.byOrder.get(orderId);
    if (!record) throw new TossLocalError('NOT_FOUND_PAYMENT');
    return this.render(record);
  }

  /** The money moved for an order (zeros, with a null paymentKey and status, for an order toss-local does not know). */
  ledger(orderId: string): TossLedgerEntry {
    const record = this.current(orderId);
    const ledger = this.ledgerByOrder.get(orderId);
    return {
      orderId,
      paymentKey: record?.paymentKey ?? null,
      status: record?.status ?? null,
      chargeCount: ledger?.chargeCount ?? 0,
      chargedAmount: ledger?.chargedAmount ?? 0,
      refundCount: ledger?.refundCount ?? 0,
      refundedAmount: ledger?.refundedAmount ?? 0,
      depositCount: ledger?.depositCount ?? 0,
      depositedAmount: ledger?.depositedAmount ?? 0,
      transactionKeys: [...(ledger?.transactionKeys ?? [])],
    };
  }

  /** Every order toss-local knows, in the order they first appeared. */
  ledgers(): TossLedgerEntry[] {
    return [...this.ledgerByOrder.keys()].map((orderId) => this.ledger(orderId));
  }

  private add(record: PaymentRecord): void {
    this.byKey.set(record.paymentKey, record);
    this.byOrder.set(record.orderId, record);
    this.ledgerRecord(record.orderId);
  }

  private current(orderId: string): PaymentRecord | undefined {
    const record = this.byOrder.get(orderId);
    if (record) this.expireIfDue(record);
    return record;
  }

  private ledgerRecord(orderId: string): LedgerRecord {
    let ledger = this.ledgerByOrder.get(orderId);
    if (!ledger) {
      ledger = { chargeCount: 0, chargedAmount: 0, refundCount: 0, refundedAmount: 0, depositCount: 0, depositedAmount: 0, transactionKeys: [] };
      this.ledgerByOrder.set(orderId, ledger);
    }
    return ledger;
  }

  private charge(orderId: string, amount: number, transactionKey: string, deposit: boolean): void {
    const ledger = this.ledgerRecord(orderId);
    ledger.chargeCount += 1;
    ledger.chargedAmount += amount;
    if (deposit) {
      ledger.depositCount += 1;
      ledger.depositedAmount += amount;
    }
    ledger.transactionKeys.push(transactionKey);
  }

  /** Toss expires an authenticated payment that is not confirmed in time. */
  private expireIfDue(record: PaymentRecord): void {
    if (record.status !== 'IN_PROGRESS') return;
    if (this.options.now().getTime() - record.requestedAt.getTime() < this.sessionTtlMs) return;
    record.status = 'EXPIRED';
    record.failure = { code: 'EXPIRED_PAYMENT', message: '결제가 만료되었습니다. 다시 시도해주세요.' };
  }

  private addCancel(record: PaymentRecord, amount: number, cancelReason: string): TossCancelObject {
    const transactionKey = newTransactionKey();
    record.balanceAmount -= amount;
    const cancel: TossCancelObject = {
      cancelAmount: amount,
      cancelReason,
      taxFreeAmount: 0,
      taxExemptionAmount: 0,
      refundableAmount: record.balanceAmount,
      cardDiscountAmount: 0,
      transferDiscountAmount: 0,
      easyPayDiscountAmount: 0,
      canceledAt: tossDateTime(this.options.now()),
      transactionKey,
      receiptKey: null,
      cancelStatus: 'DONE',
      cancelRequestId: null,
    };
    record.cancels.push(cancel);
    record.lastTransactionKey = transactionKey;
    record.status = record.balanceAmount === 0 ? 'CANCELED' : 'PARTIAL_CANCELED';
    return cancel;
  }

  private dueDate(body: Body, now: Date): Date {
    const hasValidHours = body.validHours !== undefined && body.validHours !== null;
    const hasDueDate = body.dueDate !== undefined && body.dueDate !== null;
    if (hasValidHours && hasDueDate) throw new TossLocalError('INVALID_VALID_HOURS_WITH_DUE_DATE_AND_SINGLE');
    if (hasDueDate) {
      const due = typeof body.dueDate === 'string' ? parseTossDateTime(body.dueDate) : undefined;
      if (!due) throw invalid('dueDate must be yyyy-MM-ddTHH:mm:ss.');
      if (due.getTime() <= now.getTime()) throw invalid('dueDate must be in the future.');
      if (due.getTime() - now.getTime() > MAX_DUE_DAYS * DAY_MS) throw new TossLocalError('EXCEED_MAX_DUE_DATE');
      return due;
    }
    const hours = hasValidHours ? body.validHours : DEFAULT_VALID_HOURS;
    if (typeof hours !== 'number' || !Number.isSafeInteger(hours) || hours <= 0) throw invalid('validHours must be a whole number of hours above 0.');
    if (hours > MAX_VALID_HOURS) throw new TossLocalError('EXCEED_MAX_VALID_HOURS');
    return new Date(now.getTime() + hours * HOUR_MS);
  }

  private announce(record: PaymentRecord, transition: VirtualAccountChange['transition'], transactionKey: string): void {
    if (record.secret === null) return;
    this.options.onVirtualAccountChange?.({
      transition,
      orderId: record.orderId,
      secret: record.secret,
      status: record.status,
      transactionKey,
      at: this.options.now(),
    });
  }

  private render(record: PaymentRecord): TossPaymentObject {
    this.expireIfDue(record);
    const now = this.options.now();
    const base = this.options.baseUrl();
    const approved = record.approvedAt !== null;
    const taxable = record.balanceAmount;
    const vat = Math.round(taxable / 11);
    const account = record.virtualAccount;
    return {
      mId: TOSS_LOCAL_MID,
      version: TOSS_API_VERSION,
      lastTransactionKey: record.lastTransactionKey,
      paymentKey: record.paymentKey,
      orderId: record.orderId,
      orderName: record.orderName,
      taxExemptionAmount: 0,
      status: record.status,
      requestedAt: tossDateTime(record.requestedAt),
      approvedAt: record.approvedAt === null ? null : tossDateTime(record.approvedAt),
      useEscrow: false,
      cultureExpense: false,
      card:
        record.method === '카드' && approved
          ? {
              amount: record.totalAmount,
              issuerCode: '61',
              acquirerCode: '31',
              number: '48902300****406*',
              installmentPlanMonths: 0,
              approveNo: record.lastTransactionKey?.slice(0, 8) ?? '00000000',
              useCardPoint: false,
              cardType: '신용',
              ownerType: '개인',
              acquireStatus: record.status === 'CANCELED' ? 'CANCELED' : 'READY',
              isInterestFree: false,
              interestPayer: null,
            }
          : null,
      virtualAccount: account
        ? {
            accountType: '일반',
            accountNumber: account.accountNumber,
            bankCode: account.bankCode,
            customerName: account.customerName,
            dueDate: tossDateTime(account.dueDate),
            refundStatus: account.refundStatus,
            expired: record.status === 'WAITING_FOR_DEPOSIT' && now.getTime() > account.dueDate.getTime(),
            settlementStatus: 'INCOMPLETED',
            refundReceiveAccount: account.refundReceiveAccount,
            depositorName: account.depositorName,
          }
        : null,
      transfer: null,
      mobilePhone: null,
      giftCertificate: null,
      cashReceipt: null,
      cashReceipts: null,
      discount: null,
      cancels: record.cancels.length === 0 ? null : [...record.cancels],
      secret: record.secret,
      type: 'NORMAL',
      easyPay: record.method === '간편결제' && approved ? { provider: '토스페이', amount: record.totalAmount, discountAmount: 0 } : null,
      country: 'KR',
      failure: record.failure,
      isPartialCancelable: true,
      receipt: approved ? { url: `${base}/_local/receipts/${encodeURIComponent(record.paymentKey)}` } : null,
      checkout: { url: `${base}/v1/payments/${encodeURIComponent(record.paymentKey)}/checkout` },
      currency: 'KRW',
      totalAmount: record.totalAmount,
      balanceAmount: record.balanceAmount,
      suppliedAmount: taxable - vat,
      vat,
      taxFreeAmount: 0,
      method: record.method,
      metadata: null,
    };
  }
}

/** A deposited virtual account's cancel must say where the refund goes. */
function refundReceiveAccount(value: unknown): TossRefundReceiveAccount {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TossLocalError('INVALID_REFUND_ACCOUNT_INFO');
  const account = value as Body;
  const code = bankCode(account.bank);
  if (code === undefined) throw new TossLocalError('INVALID_BANK');
  const { accountNumber, holderName } = account;
  if (typeof accountNumber !== 'string' || !/^\d{1,20}$/.test(accountNumber)) throw new TossLocalError('INVALID_REFUND_ACCOUNT_NUMBER');
  if (typeof holderName !== 'string' || holderName === '' || holderName.length > 60) throw new TossLocalError('INVALID_REFUND_ACCOUNT_INFO');
  return { bankCode: code, accountNumber, holderName };
}
