import type { APIGatewayProxyResult } from 'aws-lambda';
import { PaymentDomainError, PgMisconfiguredError, RetryLaterError } from '../domain/errors';
import { jsonResponse } from './responses';

/** The one place that turns domain error codes into HTTP status codes. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  VALIDATION_ERROR: 400,
  INVALID_SIGNATURE: 401,
  PAYMENT_NOT_FOUND: 404,
  INVALID_STATE_TRANSITION: 409,
  CONCURRENT_MODIFICATION: 409,
  PAYLOAD_TOO_LARGE: 413,
  IDEMPOTENCY_KEY_REUSED: 422,
  AMOUNT_MISMATCH: 422,
  PG_ATTEMPT_IN_PROGRESS: 409,
  PG_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  PG_REJECTED: 422,
  CURRENCY_NOT_SUPPORTED: 422,
  DEPOSIT_NOT_CONFIRMED: 409,
};

/** What a caller is told when the PG refuses our credentials: not their mistake, and not the detail of ours. */
const PG_MISCONFIGURED_MESSAGE = 'The payment gateway is unavailable; retry later';

export interface MappedError {
  readonly response: APIGatewayProxyResult;
  /** False for the caller's mistakes; true when the error is ours and must be logged as such. */
  readonly unexpected: boolean;
}

/** Maps any thrown value to the API's error body; raw errors never reach the caller. */
export function mapError(error: unknown): MappedError {
  if (error instanceof PaymentDomainError) {
    const status = STATUS_BY_CODE[error.code];
    if (status !== undefined) {
      // A misconfigured PG is our mistake: the caller is told to retry, and it is logged as an error.
      const misconfigured = error instanceof PgMisconfiguredError;
      const response = errorResponse(status, error.code, misconfigured ? PG_MISCONFIGURED_MESSAGE : error.message);
      if (error instanceof RetryLaterError) {
        return { response: { ...response, headers: { ...response.headers, 'Retry-After': String(error.retryAfterSeconds) } }, unexpected: misconfigured };
      }
      return { response, unexpected: false };
    }
  }
  return {
    response: errorResponse(500, 'INTERNAL_ERROR', 'The request could not be processed; it is safe to retry'),
    unexpected: true,
  };
}

export function errorResponse(statusCode: number, code: string, message: string): APIGatewayProxyResult {
  return jsonResponse(statusCode, { error: { code, message } });
}
