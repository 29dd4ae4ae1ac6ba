/**
 * The rules of a subscriber's name and of its webhook settings, without a schema library: the subscriber
 * parser (subscribers.ts, zod) applies them to the configuration at synth time, and the webhook dispatcher
 * reads its own settings back with them at cold start, whose bundle then carries no validator
 * (issue 11: every bundle at most 300 KiB). Same limits, same messages, one definition.
 */

/** Webhook defaults, applied by the parser. */
export const WEBHOOK_DEFAULTS = {
  timeoutSeconds: 5,
  maxAttempts: 8,
  backoff: { baseSeconds: 2, maxSeconds: 300 },
} as const;

/** Bounds of the webhook settings (inclusive). */
export const WEBHOOK_LIMITS = {
  /** Below API Gateway-like 30 s; the dispatcher Lambda's timeout must exceed it. */
  timeoutSeconds: { min: 1, max: 29 },
  maxAttempts: { min: 1, max: 20 },
  /** Visibility timeouts are whole seconds. */
  backoffBaseSeconds: { min: 1, max: 3_600 },
  /** SQS allows at most 12 hours of visibility timeout. */
  backoffMaxSeconds: { min: 1, max: 43_200 },
} as const;

export const SUBSCRIBER_NAME_MAX_LENGTH = 40;

/** Lower-case words of letters and digits joined by single hyphens. */
export const SUBSCRIBER_NAME_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const SUBSCRIBER_NAME_MESSAGES = {
  empty: 'must not be empty',
  tooLong: `must be at most ${SUBSCRIBER_NAME_MAX_LENGTH} characters`,
  notKebab: 'must be kebab case (a-z, 0-9, single hyphens between words)',
  reserved: 'must not end in -dlq (reserved for dead-letter queues)',
} as const;

/** Hosts a plain-http webhook may point at (local mode: the dispatcher and the receiver share a machine). */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

/** Why `name` cannot be a subscriber's name (the first problem, in the parser's order), or `undefined`. */
export function subscriberNameProblem(name: string): string | undefined {
  if (name.length === 0) return SUBSCRIBER_NAME_MESSAGES.empty;
  if (name.length > SUBSCRIBER_NAME_MAX_LENGTH) return SUBSCRIBER_NAME_MESSAGES.tooLong;
  if (!SUBSCRIBER_NAME_PATTERN.test(name)) return SUBSCRIBER_NAME_MESSAGES.notKebab;
  if (name.endsWith('-dlq')) return SUBSCRIBER_NAME_MESSAGES.reserved;
  return undefined;
}

/** `must be between <min> and <max>`: the message of a whole number out of its bounds. */
export function rangeMessage({ min, max }: { readonly min: number; readonly max: number }): string {
  return `must be between ${min} and ${max}`;
}

/** Why `url` cannot be a webhook URL, or `undefined` when it can. */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.username || parsed.password) return 'must not carry credentials (the request is signed instead)';
  if (parsed.hash) return 'must not have a fragment';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && LOCAL_HOSTS.has(parsed.hostname)) return undefined;
  if (parsed.protocol === 'http:') return 'must use https (plain http only for localhost or 127.0.0.1)';
  return 'must use https';
}
