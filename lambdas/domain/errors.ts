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

/**
 * The PG is down, timed out, or answered that it cannot take the request now. Nothing changed on
 * our side; an open attempt stays open and is resumed by a retry or by the reconciler.
 */
export class PgUnavailableError extends PaymentDomainError {
  readonly code = 'PG_UNAVAILABLE';
  constructor(
    readonly retryAfterSeconds: number,
    detail: string,
  ) {
    super(`The payment gateway is unavailable (${detail}); retry in ${retryAfterSeconds} s`);
    this.name = 'PgUnavailableError';
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

/** Raised by a repository when the idempotency record of the write already exists. */
export class IdempotencyRecordExistsError extends Error {
  constructor(readonly key: string) {
    super(`Idempotency record ${key} already exists`);
    this.name = 'IdempotencyRecordExistsError';
  }
}
