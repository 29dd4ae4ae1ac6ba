/**
 * What a webhook attempt's result means, pure: delivered, retry after a delay, or dead-letter.
 *
 * - 2xx: delivered.
 * - 5xx, 429, 408, a timeout, a connection error: retryable. Before the last attempt, retry
 *   after the backoff delay, or after `Retry-After` when the response carries one; at the last
 *   attempt, dead-letter (`attempts-exhausted`).
 * - Any other status (other 4xx, and 3xx: redirects are not followed, a webhook URL must answer
 *   itself): dead-letter at once (`rejected`); retrying cannot change the answer.
 *
 * Backoff: full jitter over whole seconds (visibility timeouts are whole seconds), at least
 * `MIN_RETRY_DELAY_SECONDS`: `delay = max(1, ceil(random × min(max, base × 2^(attempt − 1))))`.
 */
import type { WebhookBackoff } from './subscribers';

/**
 * Messages of one payment a webhook subscriber's queue is assumed to hold at once, for its redrive
 * backstop: a payment has at most 3 events (`payment.created`, `payment.approved`, `payment.cancelled`);
 * the rest leaves room for copies a DLQ redrive or an outbox replay adds to the same message group.
 */
export const WEBHOOK_GROUP_DEPTH_BOUND = 10;

/**
 * Receives of a webhook message that reach no POST in its group, allowed on top of the ordering bound of
 * {@link webhookMaxReceiveCount}: invocations that crash or time out, messages released for lack of time,
 * delivery-log reads that fail (each such receive comes back after the queue's visibility timeout).
 */
export const WEBHOOK_REDRIVE_MARGIN = 20;

/** The most receives SQS allows before redrive (RedrivePolicy maxReceiveCount). */
export const SQS_MAX_RECEIVE_COUNT = 1000;

/**
 * The redrive backstop (SQS maxReceiveCount) of a webhook subscriber's queue:
 * `min(1000, maxAttempts x WEBHOOK_GROUP_DEPTH_BOUND + WEBHOOK_REDRIVE_MARGIN)`, i.e. 100 receives for the
 * default 8 attempts and 220 for the maximum of 20.
 *
 * The dispatcher counts each event's POSTs in the delivery log and dead-letters the event itself, with its
 * reason, after `maxAttempts` of them; SQS's receive count is not that count. On AWS a receive returns a
 * group's later messages together with its first one; when the first fails, the later ones are handed
 * back without a POST, and each such receive counts. A message is therefore received at most once per POST
 * of itself and of each message ahead of it in its group: at most `depth x maxAttempts` times, plus the
 * receives that reach no POST. Only a message the dispatcher fails on again and again (a crash loop) gets
 * that far, and only then does SQS move it to the DLQ without a reason.
 */
export function webhookMaxReceiveCount(maxAttempts: number): number {
  return Math.min(SQS_MAX_RECEIVE_COUNT, maxAttempts * WEBHOOK_GROUP_DEPTH_BOUND + WEBHOOK_REDRIVE_MARGIN);
}

/** A retry never comes back sooner than this (no hot loop on a `Retry-After: 0`). */
export const MIN_RETRY_DELAY_SECONDS = 1;

/** The result of one POST, as the HTTP client reports it. */
export type WebhookAttemptResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      /** The `Retry-After` header, as sent. */
      readonly retryAfter?: string;
      /** The start of the response body, for the delivery record (truncated by the client). */
      readonly bodyExcerpt?: string;
    }
  /** No answer within the per-request timeout. */
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  /** Connection refused or reset, DNS failure, TLS failure, ... */
  | { readonly kind: 'network-error'; readonly message: string };

export interface RetryPolicy {
  /** Attempts before dead-lettering (the first POST is attempt 1). */
  readonly maxAttempts: number;
  readonly backoff: WebhookBackoff;
}

export type DeadLetterReason =
  /** The receiver answered a status that retrying cannot change (4xx other than 408/429, 3xx). */
  | 'rejected'
  /** Every attempt failed with a retryable outcome. */
  | 'attempts-exhausted'
  /** The queue message is not a payment event: nothing can be signed or sent. */
  | 'invalid-message';

export type DeliveryDecision =
  | { readonly action: 'delivered'; readonly statusCode: number }
  | {
      readonly action: 'retry';
      readonly delaySeconds: number;
      /** Whether `Retry-After` chose the delay (capped at `backoff.maxSeconds`). */
      readonly delaySource: 'backoff' | 'retry-after';
      readonly error: string;
      readonly statusCode?: number;
    }
  | {
      readonly action: 'dead-letter';
      readonly reason: Exclude<DeadLetterReason, 'invalid-message'>;
      readonly error: string;
      readonly statusCode?: number;
    };

export interface DecideInput {
  readonly result: WebhookAttemptResult;
  /** 1 for the first POST of this message. */
  readonly attempt: number;
  readonly policy: RetryPolicy;
  /** To read a `Retry-After` HTTP date. */
  readonly now: Date;
  /** Uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** True for the statuses worth another attempt: 5xx, 429 Too Many Requests, 408 Request Timeout. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export function decideDelivery(input: DecideInput): DeliveryDecision {
  const { result, attempt, policy } = input;
  if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
    return { action: 'delivered', statusCode: result.status };
  }
  const error = describeAttempt(result);
  const statusCode = result.kind === 'response' ? result.status : undefined;
  const withStatus = statusCode === undefined ? {} : { statusCode };
  if (result.kind === 'response' && !isRetryableStatus(result.status)) {
    return { action: 'dead-letter', reason: 'rejected', error, ...withStatus };
  }
  if (attempt >= policy.maxAttempts) {
    return { action: 'dead-letter', reason: 'attempts-exhausted', error, ...withStatus };
  }
  const retryAfter = result.kind === 'response' ? parseRetryAfter(result.retryAfter, input.now) : undefined;
  if (retryAfter !== undefined) {
    const delaySeconds = Math.max(MIN_RETRY_DELAY_SECONDS, Math.min(policy.backoff.maxSeconds, retryAfter));
    return { action: 'retry', delaySeconds, delaySource: 'retry-after', error, ...withStatus };
  }
  const delaySeconds = backoffDelaySeconds(attempt, policy.backoff, input.random ?? Math.random);
  return { action: 'retry', delaySeconds, delaySource: 'backoff', error, ...withStatus };
}

/** The upper bound of the delay after failed attempt `attempt`: `min(max, base × 2^(attempt − 1))`. */
export function backoffCapSeconds(attempt: number, backoff: WebhookBackoff): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^exponent overflows nothing below 2^1023; cap the exponent anyway to keep the arithmetic exact.
  return Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** Math.min(exponent, 30));
}

/** Full jitter over whole seconds: uniform in [1, cap]. */
export function backoffDelaySeconds(attempt: number, backoff: WebhookBackoff, random: () => number): number {
  const cap = backoffCapSeconds(attempt, backoff);
  return Math.max(MIN_RETRY_DELAY_SECONDS, Math.min(cap, Math.ceil(random() * cap)));
}

/**
 * `Retry-After` in seconds from `now`: delta-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`; a past date gives 0). `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds : undefined;
  }
  // An HTTP date names a weekday and GMT; refuse bare numbers-with-signs and the like.
  if (!/^[A-Za-z]{3},\s/.test(text) && !/GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/** One line for logs and the delivery record, e.g. `HTTP 503: upstream down`, `timeout after 5000 ms`. */
export function describeAttempt(result: WebhookAttemptResult): string {
  switch (result.kind) {
    case 'response': {
      const excerpt = result.bodyExcerpt?.trim();
      return `HTTP ${result.status}${excerpt ? `: ${excerpt}` : ''}`;
    }
    case 'timeout':
      return `timeout after ${result.timeoutMs} ms`;
    case 'network-error':
      return `connection error: ${result.message}`;
  }
}
