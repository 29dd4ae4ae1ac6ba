/**
 * What each Toss Payments error code means for us. Toss documents the codes and their HTTP
 * statuses (https://docs.tosspayments.com/reference/error-codes) but not which of them are a
 * buyer's decline, a caller's mistake, our own misconfiguration or an outage; this grouping is
 * ours. A code not listed here is treated as an outage: the attempt stays open and the
 * reconciler asks Toss what happened, which is safe whatever the code meant.
 */

export type TossErrorKind =
  /** The card or account refused the charge: a FAILED payment, no money moved. */
  | 'declined'
  /** Toss already handled this payment (a confirm or cancel repeated without our key): look it up. */
  | 'already-processed'
  /** The caller's credential or the buyer's session is not valid for this payment: nothing moved, nothing changes. */
  | 'rejected'
  /** Toss refused our own key or request format: the operator must fix the configuration. */
  | 'misconfigured'
  /** Toss or a card company is down or busy: the outcome is unknown until a lookup. */
  | 'unavailable';

const DECLINED = [
  'REJECT_CARD_PAYMENT',
  'REJECT_CARD_COMPANY',
  'INVALID_REJECT_CARD',
  'INVALID_STOPPED_CARD',
  'INVALID_CARD_LOST_OR_STOLEN',
  'INVALID_CARD_EXPIRATION',
  'INVALID_CARD_NUMBER',
  'EXCEED_MAX_DAILY_PAYMENT_COUNT',
  'EXCEED_MAX_PAYMENT_AMOUNT',
  'EXCEED_MAX_AMOUNT',
  'EXCEED_MAX_ONE_DAY_AMOUNT',
  'EXCEED_MAX_MONTHLY_PAYMENT_AMOUNT',
  'EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT',
  'EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT',
  'EXCEED_MAX_AUTH_COUNT',
  'REJECT_ACCOUNT_PAYMENT',
  'REJECT_TOSSPAY_INVALID_ACCOUNT',
  'RESTRICTED_TRANSFER_ACCOUNT',
  'INVALID_ACCOUNT_INFO_RE_REGISTER',
  'NOT_ALLOWED_POINT_USE',
  'NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN',
  'NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT',
  'NOT_AVAILABLE_PAYMENT',
  'INVALID_PASSWORD',
  'FDS_ERROR',
];

const ALREADY_PROCESSED = ['ALREADY_PROCESSED_PAYMENT', 'ALREADY_CANCELED_PAYMENT', 'ALREADY_REFUND_PAYMENT'];

const REJECTED = [
  // The paymentKey the caller sent is unknown, expired or for another order or amount.
  'NOT_FOUND_PAYMENT_SESSION',
  'NOT_FOUND_PAYMENT',
  'INVALID_PAYMENT_KEY',
  'INVALID_REQUEST',
  'BELOW_MINIMUM_AMOUNT',
  'BELOW_ZERO_AMOUNT',
  'EXPIRED_PAYMENT',
  // A refund Toss will not make as asked (a deposited virtual account needs the buyer's refund account).
  'NOT_CANCELABLE_PAYMENT',
  'NOT_CANCELABLE_AMOUNT',
  'INVALID_REFUND_ACCOUNT_INFO',
  'INVALID_REFUND_ACCOUNT_NUMBER',
  'REFUND_REJECTED',
  'NOT_ALLOWED_PARTIAL_REFUND',
  'NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT',
  'EXCEED_MAX_REFUND_DUE',
  'NOT_CANCELABLE_PAYMENT_FOR_DORMANT_USER',
];

const MISCONFIGURED = [
  'UNAUTHORIZED_KEY',
  'INVALID_API_KEY',
  'INCORRECT_BASIC_AUTH_FORMAT',
  'FORBIDDEN_REQUEST',
  'INVALID_ORDER_ID',
  'INVALID_IDEMPOTENCY_KEY',
  'INVALID_BANK',
  'INVALID_CURRENCY',
  'INVALID_AUTHORIZE_AUTH',
  'NOT_FOUND_TERMINAL_ID',
  'INVALID_UNREGISTERED_SUBMALL',
  'NOT_REGISTERED_BUSINESS',
  'UNAPPROVED_ORDER_ID',
  'INVALID_VALID_HOURS_WITH_DUE_DATE_AND_SINGLE',
  'EXCEED_MAX_VALID_HOURS',
  'EXCEED_MAX_DUE_DATE',
];

const KIND_BY_CODE: ReadonlyMap<string, TossErrorKind> = new Map([
  ...DECLINED.map((code) => [code, 'declined'] as const),
  ...ALREADY_PROCESSED.map((code) => [code, 'already-processed'] as const),
  ...REJECTED.map((code) => [code, 'rejected'] as const),
  ...MISCONFIGURED.map((code) => [code, 'misconfigured'] as const),
]);

/** The kind of a Toss error answer, from its code (and its HTTP status for codes we do not know). */
export function tossErrorKind(code: string, httpStatus: number): TossErrorKind {
  const known = KIND_BY_CODE.get(code);
  if (known) return known;
  if (httpStatus === 401) return 'misconfigured';
  return 'unavailable';
}
