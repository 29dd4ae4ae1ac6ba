/**
 * What DynamoDB's failures mean to the payment API: throttling, a fault on DynamoDB's side (5xx),
 * a timeout or a connection that could not be made, once the SDK's own retries are spent, is the
 * store being unavailable (503 with Retry-After), never our bug (500). Everything else (a condition
 * that failed, a malformed request) is left as it is for the caller of the adapter to judge.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import { StoreUnavailableError } from '../domain/errors';

/** Seconds a caller waits before retrying a request the store could not take. */
export const STORE_RETRY_AFTER_SECONDS = 1;

/** The SDK's error shape the classification reads (name, HTTP status, Node's error code, retry traits). */
type ClassifiedError = Parameters<typeof isTransientError>[0];

/** `StoreUnavailableError` for a throttled, failed-on-DynamoDB's-side or unreachable request; `undefined` otherwise. */
export function storeUnavailable(error: unknown): StoreUnavailableError | undefined {
  if (!(error instanceof Error)) return undefined;
  const classified = error as ClassifiedError;
  if (!isThrottlingError(classified) && !isTransientError(classified) && !isServerError(classified)) return undefined;
  const code = (error as { code?: unknown }).code;
  return new StoreUnavailableError(STORE_RETRY_AFTER_SECONDS, `${error.name}${typeof code === 'string' ? ` ${code}` : ''}`);
}

/**
 * Runs one DynamoDB call, turning the store's unavailability into `StoreUnavailableError`.
 * @throws StoreUnavailableError, or the call's own error when it is not about availability
 */
export async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storeUnavailable(error) ?? error;
  }
}

/** A transaction cancelled because one of its items was throttled (its CancellationReasons say so). */
export function cancelledByThrottling(reasons: ReadonlyArray<{ readonly Code?: string | undefined }>): boolean {
  return reasons.some((reason) => reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded');
}
