/**
 * Domain errors. Each carries a stable, machine-readable `code`; the HTTP layer
 * maps codes to status codes in one place (`http/error-mapper.ts`).
 */
export abstract class PaymentDomainError extends Error {
  abstract readonly code: string;
}

export class ValidationError extends PaymentDomainError {
  readonly code = 'VALIDATION_ERROR';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'ValidationError';
  }
}

export class InvalidSignatureError extends PaymentDomainError {
  readonly code = 'INVALID_SIGNATURE';
  constructor(message = 'The request signature is missing or does not match the body') {
    super(message);
    this.name = 'InvalidSignatureError';
  }
}

export class PaymentNotFoundError extends PaymentDomainError {
  readonly code = 'PAYMENT_NOT_FOUND';
  constructor(readonly paymentId: string) {
    super(`Payment ${paymentId} does not exist`);
    this.name = 'PaymentNotFoundError';
  }
}

export class InvalidStateTransitionError extends PaymentDomainError {
  readonly code = 'INVALID_STATE_TRANSITION';
  constructor(
    readonly from: string,
    readonly action: string,
    detail?: string,
  ) {
    super(`Cannot ${action} a payment in status ${from}${detail ? `: ${detail}` : ''}`);
    this.name = 'InvalidStateTransitionError';
  }
}

export class ConcurrentModificationError extends PaymentDomainError {
  readonly code = 'CONCURRENT_MODIFICATION';
  constructor(readonly paymentId: string) {
    super(`Payment ${paymentId} was modified concurrently; retry the request`);
    this.name = 'ConcurrentModificationError';
  }
}

export class PayloadTooLargeError extends PaymentDomainError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(readonly limitBytes: number) {
    super(`The request body exceeds ${limitBytes} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

export class IdempotencyKeyReusedError extends PaymentDomainError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(readonly key: string) {
    super(`Idempotency key ${key} was already used with a different request`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

export class AmountMismatchError extends PaymentDomainError {
  readonly code = 'AMOUNT_MISMATCH';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`The amount ${actual} does not match the payment amount ${expected}`);
    this.name = 'AmountMismatchError';
  }
}

export class PgAttemptInProgressError extends PaymentDomainError {
  readonly code = 'PG_ATTEMPT_IN_PROGRESS';
  constructor(
    readonly paymentId: string,
    readonly operation: string,
  ) {
    super(`Payment ${paymentId} has a PG ${operation} in progress; retry once it has finished`);
    this.name = 'PgAttemptInProgressError';
  }
}

/** A dependency cannot take the request now: the caller is told to retry after `retryAfterSeconds` (503 with Retry-After). */
export abstract class RetryLaterError extends PaymentDomainError {
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The payment store (DynamoDB) throttled the request, failed on its side, or could not be reached,
 * after the SDK's own retries. A transaction applies whole or not at all; when the connection was
 * lost its outcome is unknown, and the same request retried (with its Idempotency-Key) answers what
 * was committed: every change is conditioned on the payment's version, so none applies twice.
 */
export class StoreUnavailableError extends RetryLaterError {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(retryAfterSeconds: number, detail: string) {
    super(retryAfterSeconds, `The payment store is unavailable (${detail}); retry in ${retryAfterSeconds} s`);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The PG is down, timed out, or answered that it cannot take the request now. Nothing changed on
 * our side; an open attempt stays open and is resumed by a retry or by the reconciler.
 */
export class PgUnavailableError extends RetryLaterError {
  readonly code = 'PG_UNAVAILABLE';
  constructor(retryAfterSeconds: number, detail: string) {
    super(retryAfterSeconds, `The payment gateway is unavailable (${detail}); retry in ${retryAfterSeconds} s`);
    this.name = 'PgUnavailableError';
  }
}

/**
 * The PG refused the request itself (an unknown or expired payment session, an order id or amount
 * that does not match the one the buyer was shown): no money moved and the payment did not
 * change, so the caller may confirm again with a valid credential.
 */
export class PgRequestRejectedError extends PaymentDomainError {
  readonly code = 'PG_REJECTED';
  constructor(
    readonly pgCode: string,
    pgMessage: string,
  ) {
    super(`The payment gateway refused the request (${pgCode}): ${pgMessage}`);
    this.name = 'PgRequestRejectedError';
  }
}

/**
 * The PG refused our own credentials or request format (a wrong or revoked secret key, a request
 * this code built wrongly): the operator's mistake, never the caller's. Callers get 503
 * PG_UNAVAILABLE; the error is logged as such and alarmed on.
 */
export class PgMisconfiguredError extends RetryLaterError {
  readonly code = 'PG_UNAVAILABLE';
  constructor(
    retryAfterSeconds: number,
    readonly detail: string,
  ) {
    super(retryAfterSeconds, `The payment gateway is unavailable (the PG refused this service's request: ${detail}); retry in ${retryAfterSeconds} s`);
    this.name = 'PgMisconfiguredError';
  }
}

/** The stack's PG does not settle payments in this currency. */
export class CurrencyNotSupportedError extends PaymentDomainError {
  readonly code = 'CURRENCY_NOT_SUPPORTED';
  constructor(
    readonly currency: string,
    readonly supported: readonly string[],
    readonly gateway: string,
  ) {
    super(`currency: ${currency} is not settled by this stack's payment gateway (${gateway}); use ${supported.join(', ')}`);
    this.name = 'CurrencyNotSupportedError';
  }
}

/**
 * A PG deposit callback whose payment the PG itself does not (yet) show as deposited: nothing is
 * recorded, and the PG's resend is answered again once its lookup agrees.
 */
export class DepositNotConfirmedError extends PaymentDomainError {
  readonly code = 'DEPOSIT_NOT_CONFIRMED';
  constructor(
    readonly paymentId: string,
    pgStatus: string,
  ) {
    super(`The payment gateway does not show payment ${paymentId} as deposited (its status is ${pgStatus}); nothing was recorded`);
    this.name = 'DepositNotConfirmedError';
  }
}

/**
 * Raised by a repository when the conditional write lost a race (version moved on,
 * the event already exists, or DynamoDB reported a transaction conflict). Use cases
 * retry it; callers never see it directly.
 */
export class PaymentVersionConflictError extends Error {
  constructor(
    readonly paymentId: string,
    readonly expectedVersion: number,
  ) {
    super(`Payment ${paymentId} is no longer at version ${expectedVersion}`);
    this.name = 'PaymentVersionConflictError';
  }
}

/**
 * Raised by a repository when a change's read met a transaction in flight on the same items (DynamoDB
 * cancels a TransactGetItems then). Like a lost commit, the change reads again; callers never see it.
 */
export class ChangeReadConflictError extends Error {
  constructor(readonly paymentId: string) {
    super(`The read of payment ${paymentId} met a transaction in flight`);
    this.name = 'ChangeReadConflictError';
  }
}

/** Raised by a repository when the idempotency record of the write already exists. */
export class IdempotencyRecordExistsError extends Error {
  constructor(readonly key: string) {
    super(`Idempotency record ${key} already exists`);
    this.name = 'IdempotencyRecordExistsError';
  }
}
