/**
 * The error codes toss-local answers with, each with the HTTP status Toss documents for it
 * (https://docs.tosspayments.com/reference/error-codes) and its message. Messages in Korean are
 * Toss's documented text; the few in English are ours, for codes whose documented message was
 * not available (clients switch on `code`, never on `message`).
 *
 * Codes under "toss-local's own" are not Toss codes: they answer the test-control routes
 * (`/_local/...`) and the 413 for an oversized body.
 */

export interface TossErrorDefinition {
  readonly status: number;
  readonly message: string;
}

/** Codes a payment session may name as its decline (`declineCode`), from Toss's confirm-API error table. */
export const TOSS_CONFIRM_FAILURES = {
  REJECT_CARD_PAYMENT: { status: 403, message: '한도초과 혹은 잔액부족으로 결제에 실패했습니다.' },
  REJECT_CARD_COMPANY: { status: 403, message: '결제 승인이 거절되었습니다.' },
  REJECT_ACCOUNT_PAYMENT: { status: 403, message: '잔액부족으로 결제에 실패했습니다.' },
  REJECT_TOSSPAY_INVALID_ACCOUNT: { status: 403, message: 'The Toss Pay account cannot be used (toss-local placeholder message).' },
  EXCEED_MAX_AUTH_COUNT: { status: 403, message: '최대 인증 횟수를 초과했습니다. 카드사로 문의해주세요.' },
  EXCEED_MAX_ONE_DAY_AMOUNT: { status: 403, message: 'The daily amount limit was exceeded (toss-local placeholder message).' },
  INVALID_PASSWORD: { status: 403, message: '결제 비밀번호가 일치하지 않습니다.' },
  FDS_ERROR: { status: 403, message: 'Refused by fraud detection (toss-local placeholder message).' },
  NOT_AVAILABLE_BANK: { status: 403, message: '은행 서비스 시간이 아닙니다.' },
  INVALID_REJECT_CARD: { status: 400, message: '카드 사용이 거절되었습니다. 카드사 문의가 필요합니다.' },
  INVALID_STOPPED_CARD: { status: 400, message: '정지된 카드 입니다.' },
  INVALID_CARD_EXPIRATION: { status: 400, message: 'The card expiry date is wrong (toss-local placeholder message).' },
  INVALID_CARD_NUMBER: { status: 400, message: 'The card number is wrong (toss-local placeholder message).' },
  INVALID_CARD_LOST_OR_STOLEN: { status: 400, message: 'The card was reported lost or stolen (toss-local placeholder message).' },
  EXCEED_MAX_DAILY_PAYMENT_COUNT: { status: 400, message: '하루 결제 가능 횟수를 초과했습니다.' },
  EXCEED_MAX_PAYMENT_AMOUNT: { status: 400, message: '하루 결제 가능 금액을 초과했습니다.' },
  EXCEED_MAX_AMOUNT: { status: 400, message: '거래금액 한도를 초과했습니다.' },
  NOT_ALLOWED_POINT_USE: { status: 400, message: 'Card points cannot be used (toss-local placeholder message).' },
  PROVIDER_ERROR: { status: 400, message: '일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.' },
  FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING: {
    status: 500,
    message: '결제 기관(카드사, 은행, 국세청 등) 오류입니다. 결제 기관에서 보내 준 에러 메시지가 표시됩니다.',
  },
  UNKNOWN_PAYMENT_ERROR: { status: 500, message: '결제에 실패했어요. 같은 문제가 반복된다면 은행이나 카드사로 문의해주세요.' },
} as const satisfies Record<string, TossErrorDefinition>;

export type TossConfirmFailureCode = keyof typeof TOSS_CONFIRM_FAILURES;

/** The decline a payment session gets when it names none. */
export const DEFAULT_DECLINE_CODE: TossConfirmFailureCode = 'REJECT_CARD_PAYMENT';

export const TOSS_ERRORS = {
  ...TOSS_CONFIRM_FAILURES,
  // Authentication (https://docs.tosspayments.com/reference/using-api/authorization)
  UNAUTHORIZED_KEY: { status: 401, message: '인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.' },
  INCORRECT_BASIC_AUTH_FORMAT: {
    status: 403,
    message: "Authorization must be 'Basic ' + base64(secretKey + ':') (toss-local placeholder message).",
  },
  // Idempotency (https://docs.tosspayments.com/reference/using-api/authorization, 멱등키 헤더)
  INVALID_IDEMPOTENCY_KEY: { status: 400, message: '멱등키는 300자 이하여야 합니다.' },
  IDEMPOTENT_REQUEST_PROCESSING: { status: 409, message: '이전 멱등 요청이 처리중입니다.' },
  // Requests
  INVALID_REQUEST: { status: 400, message: '잘못된 요청입니다.' },
  INVALID_ORDER_ID: { status: 400, message: '`orderId`는 영문 대소문자, 숫자, 특수문자(-, _) 만 허용합니다. 6자 이상 64자 이하여야 합니다.' },
  BELOW_ZERO_AMOUNT: { status: 400, message: '금액은 0보다 커야 합니다.' },
  INVALID_BANK: { status: 400, message: '유효하지 않은 은행입니다.' },
  NOT_FOUND: { status: 404, message: '존재하지 않는 정보 입니다.' },
  NOT_FOUND_PAYMENT: { status: 404, message: '존재하지 않는 결제 정보 입니다.' },
  NOT_FOUND_PAYMENT_SESSION: { status: 404, message: '결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.' },
  ALREADY_PROCESSED_PAYMENT: { status: 400, message: '이미 처리된 결제 입니다.' },
  DUPLICATED_ORDER_ID: { status: 400, message: '이미 승인 및 취소가 진행된 중복된 주문번호 입니다. 다른 주문번호로 진행해주세요.' },
  // Cancel (https://docs.tosspayments.com/reference#결제-취소)
  ALREADY_CANCELED_PAYMENT: { status: 400, message: '이미 취소된 결제 입니다.' },
  NOT_CANCELABLE_PAYMENT: { status: 403, message: '취소 할 수 없는 결제 입니다.' },
  NOT_CANCELABLE_AMOUNT: { status: 403, message: '취소 할 수 없는 금액 입니다.' },
  NOT_MATCHES_REFUNDABLE_AMOUNT: { status: 400, message: 'refundableAmount does not match the refundable balance (toss-local placeholder message).' },
  NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT: {
    status: 403,
    message: 'Before the deposit only the full amount can be cancelled (toss-local placeholder message).',
  },
  INVALID_REFUND_ACCOUNT_INFO: {
    status: 400,
    message: 'A deposited virtual-account payment needs refundReceiveAccount {bank, accountNumber, holderName} (toss-local placeholder message).',
  },
  INVALID_REFUND_ACCOUNT_NUMBER: { status: 400, message: 'The refund account number is wrong (toss-local placeholder message).' },
  // Virtual accounts (https://docs.tosspayments.com/reference#가상계좌-발급-요청)
  INVALID_VALID_HOURS_WITH_DUE_DATE_AND_SINGLE: { status: 400, message: 'Send validHours or dueDate, not both (toss-local placeholder message).' },
  EXCEED_MAX_VALID_HOURS: { status: 400, message: 'validHours is at most 2160 (toss-local placeholder message).' },
  EXCEED_MAX_DUE_DATE: { status: 400, message: 'dueDate is at most 90 days away (toss-local placeholder message).' },
  // Outages
  FAILED_INTERNAL_SYSTEM_PROCESSING: { status: 500, message: '내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요.' },
  UNKNOWN_ERROR: { status: 500, message: '확인되지 않은 오류입니다. 잠시 후 다시 시도해주세요.' },
  // toss-local's own
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than 1 MiB.' },
  NOT_WAITING_FOR_DEPOSIT: { status: 409, message: 'The payment is not waiting for a deposit.' },
  NO_CALLBACK: { status: 404, message: 'No DEPOSIT_CALLBACK was made for this order.' },
  NO_WEBHOOK_URL: { status: 409, message: 'No webhook URL is set (--webhook-url, PUT /_local/webhook-url or setWebhookUrl).' },
} as const satisfies Record<string, TossErrorDefinition>;

export type TossErrorCode = keyof typeof TOSS_ERRORS;

export function isConfirmFailureCode(code: string): code is TossConfirmFailureCode {
  return Object.hasOwn(TOSS_CONFIRM_FAILURES, code);
}

/**
 * An answer with Toss's error object `{code, message}` and the code's HTTP status. Thrown by
 * the payment model and by the library's control operations (`createPaymentSession`, `deposit`, ...).
 */
export class TossLocalError extends Error {
  readonly status: number;

  constructor(
    readonly code: TossErrorCode,
    /** Replaces the table's message, e.g. to name the offending field. */
    message?: string,
  ) {
    super(message ?? TOSS_ERRORS[code].message);
    this.name = 'TossLocalError';
    this.status = TOSS_ERRORS[code].status;
  }

  /** The JSON error object Toss answers with. */
  body(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}
