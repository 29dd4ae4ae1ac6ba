/**
 * Webhook signing as the Standard Webhooks specification says (https://www.standardwebhooks.com/), and
 * the verification helper for services that receive payment webhooks. Any receiver verifies our requests
 * with a stock Standard Webhooks library in its own language (`standardwebhooks` on npm, PyPI, Go, Java,
 * Ruby, PHP, Rust, C#...).
 *
 * Every webhook request carries:
 *
 * | header              | value                                                                        |
 * | ------------------- | ---------------------------------------------------------------------------- |
 * | `webhook-id`        | the event's id: the same on every retry of one event (deduplicate on it)      |
 * | `webhook-timestamp` | when the request was signed, Unix seconds                                    |
 * | `webhook-signature` | `v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")>`; during a key rotation one such entry per key, separated by spaces |
 * | `X-Event-Id`        | the event's id (= `webhook-id`)                                              |
 * | `X-Event-Type`      | e.g. `payment.approved`                                                      |
 * | `X-Event-Sequence`  | 1, 2, 3, ... per payment                                                     |
 * | `X-Aggregate-Id`    | the payment id                                                               |
 *
 * The body is the event envelope as JSON. The signature covers the id, the timestamp and the exact body
 * bytes; the `X-` headers are copies of body fields for routing, and `verifyWebhook` checks that they
 * (and `webhook-id`) agree with the signed body.
 *
 * A key is a Standard Webhooks secret: `whsec_` followed by the key bytes in base64; the prefix is
 * optional (the stack's Secrets Manager secret is 64 base64 characters, which the stock libraries take as
 * they are). A secret value holding several keys separated by spaces signs with each: that is a rotation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The Standard Webhooks headers, lower case as the specification writes them. */
export const STANDARD_WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** Our routing headers, copies of signed body fields. */
export const WEBHOOK_HEADERS = {
  eventId: 'X-Event-Id',
  eventType: 'X-Event-Type',
  sequence: 'X-Event-Sequence',
  aggregateId: 'X-Aggregate-Id',
} as const;

/** The prefix of a Standard Webhooks secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

const SIGNATURE_VERSION = 'v1';
const SIGNATURE_ENTRY = /^v1,[A-Za-z0-9+/]{43}=$/;
const TIMESTAMP_FORMAT = /^\d{1,12}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Default accepted distance between a request's timestamp and the receiver's clock (the specification's 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A secret value that is not one or more Standard Webhooks keys. */
export class WebhookSecretFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSecretFormatError';
  }
}

/** The routing fields of the event a webhook request carries. */
export interface WebhookEventFields {
  readonly eventId: string;
  readonly type: string;
  readonly sequence: number;
  readonly aggregateId: string;
}

/**
 * The HMAC keys of a secret value: each space-separated `whsec_<base64>` (or bare base64) entry, decoded.
 * @throws WebhookSecretFormatError naming what is wrong (never the secret itself)
 */
export function webhookSigningKeys(secret: string): Buffer[] {
  const entries = secret.split(/\s+/).filter((entry) => entry !== '');
  if (entries.length === 0) throw new WebhookSecretFormatError('the webhook secret is empty');
  return entries.map((entry, index) => {
    const base64 = entry.startsWith(WEBHOOK_SECRET_PREFIX) ? entry.slice(WEBHOOK_SECRET_PREFIX.length) : entry;
    if (base64 === '' || !BASE64.test(base64)) {
      throw new WebhookSecretFormatError(`webhook secret key ${index + 1} of ${entries.length} is not ${WEBHOOK_SECRET_PREFIX}<base64> (nor base64)`);
    }
    return Buffer.from(base64, 'base64');
  });
}

/** A new random secret, as `npm start` gives its webhook subscribers: `whsec_` + 32 random bytes in base64. */
export function formatWebhookSecret(key: Uint8Array): string {
  return WEBHOOK_SECRET_PREFIX + Buffer.from(key).toString('base64');
}

/** `v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>`. */
export function webhookSignature(key: Uint8Array, id: string, timestamp: number, body: string | Uint8Array): string {
  const mac = createHmac('sha256', key)
    .update(`${id}.${timestamp}.`)
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest('base64');
  return `${SIGNATURE_VERSION},${mac}`;
}

/**
 * The headers of a webhook request for `event` with `body`, signed at `timestamp` (Unix seconds) with
 * every key of `secret`. `Content-Type` is included; the HTTP client adds nothing the signature depends on.
 * @throws WebhookSecretFormatError when `secret` is not a Standard Webhooks secret
 */
export function signedWebhookHeaders(options: {
  readonly event: WebhookEventFields;
  readonly body: string;
  readonly secret: string;
  readonly timestamp: number;
}): Record<string, string> {
  const { event, body, secret, timestamp } = options;
  const signatures = webhookSigningKeys(secret).map((key) => webhookSignature(key, event.eventId, timestamp, body));
  return {
    'Content-Type': 'application/json',
    [STANDARD_WEBHOOK_HEADERS.id]: event.eventId,
    [STANDARD_WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [STANDARD_WEBHOOK_HEADERS.signature]: signatures.join(' '),
    [WEBHOOK_HEADERS.eventId]: event.eventId,
    [WEBHOOK_HEADERS.eventType]: event.type,
    [WEBHOOK_HEADERS.sequence]: String(event.sequence),
    [WEBHOOK_HEADERS.aggregateId]: event.aggregateId,
  };
}

/** Request headers as Node's `IncomingHttpHeaders`, a plain object, or a Fetch API `Headers`. */
export type WebhookHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

export interface VerifyWebhookInput {
  /** The body exactly as received (bytes or the undecoded string). */
  readonly rawBody: string | Uint8Array;
  /** Header names are matched ignoring case. */
  readonly headers: WebhookHeaders;
  /** The subscriber's secret: one or more keys (space-separated, or a list); during a rotation any one may match. */
  readonly secret: string | readonly string[];
  /** Largest accepted distance between `webhook-timestamp` and `now`, either way. @default 300 */
  readonly toleranceSeconds?: number;
  /** The receiver's clock. @default new Date() */
  readonly now?: Date | number;
}

export type WebhookRejection =
  /** `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent. */
  | 'missing-header'
  /** A header is present but malformed (no `v1,<base64>` entry, not whole seconds, repeated). */
  | 'bad-format'
  /** The timestamp is older than the tolerance: possibly a replayed request. */
  | 'stale-timestamp'
  /** The timestamp is ahead of the receiver's clock by more than the tolerance. */
  | 'future-timestamp'
  /** No key produces any of the signatures over this id, timestamp and body. */
  | 'signature-mismatch'
  /** The signed body is not a payment event (no eventId, type, sequence or aggregateId). */
  | 'invalid-body'
  /** `webhook-id` or an `X-Event-*` / `X-Aggregate-Id` header disagrees with the signed body. */
  | 'header-mismatch';

export type VerifyWebhookResult =
  | {
      readonly ok: true;
      /** The request's signing time, Unix seconds. */
      readonly timestamp: number;
      /** From the signed body: trust these, not the unsigned headers. */
      readonly event: WebhookEventFields;
    }
  | { readonly ok: false; readonly reason: WebhookRejection; readonly message: string };

/**
 * Verifies a webhook request as Standard Webhooks says: the timestamp is within `toleranceSeconds` of
 * `now` (replay protection), one of the `v1` signatures matches the id, timestamp and body under one of
 * the keys (compared in constant time); then that `webhook-id` and the event headers agree with the signed
 * body. Never throws for a bad request.
 * @throws WebhookSecretFormatError when the receiver's own secret is malformed (its configuration, not the request)
 */
export function verifyWebhook(input: VerifyWebhookInput): VerifyWebhookResult {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowMs = input.now === undefined ? Date.now() : typeof input.now === 'number' ? input.now : input.now.getTime();
  const keys = (typeof input.secret === 'string' ? [input.secret] : input.secret).flatMap(webhookSigningKeys);
  const reject = (reason: WebhookRejection, message: string): VerifyWebhookResult => ({ ok: false, reason, message });

  const id = headerValue(input.headers, STANDARD_WEBHOOK_HEADERS.id);
  const timestampHeader = headerValue(input.headers, STANDARD_WEBHOOK_HEADERS.timestamp);
  const signatureHeader = headerValue(input.headers, STANDARD_WEBHOOK_HEADERS.signature);
  for (const [name, value] of [
    [STANDARD_WEBHOOK_HEADERS.id, id],
    [STANDARD_WEBHOOK_HEADERS.timestamp, timestampHeader],
    [STANDARD_WEBHOOK_HEADERS.signature, signatureHeader],
  ] as const) {
    if (value === undefined) return reject('missing-header', `${name} header is missing`);
    if (value === null) return reject('bad-format', `${name} header is repeated with different values`);
  }
  if (!TIMESTAMP_FORMAT.test(timestampHeader!)) return reject('bad-format', `${STANDARD_WEBHOOK_HEADERS.timestamp} must be whole Unix seconds`);
  // Entries of other versions are skipped, as the specification asks; at least one v1 entry must be there.
  const presented = signatureHeader!.split(' ').filter((entry) => SIGNATURE_ENTRY.test(entry));
  if (presented.length === 0) return reject('bad-format', `${STANDARD_WEBHOOK_HEADERS.signature} has no v1,<base64 HMAC-SHA256> entry`);

  const timestamp = Number(timestampHeader);
  const ageSeconds = nowMs / 1000 - timestamp;
  if (ageSeconds > tolerance) {
    return reject('stale-timestamp', `${STANDARD_WEBHOOK_HEADERS.timestamp} is ${Math.floor(ageSeconds)} s old (tolerance ${tolerance} s)`);
  }
  if (-ageSeconds > tolerance) {
    return reject('future-timestamp', `${STANDARD_WEBHOOK_HEADERS.timestamp} is ${Math.ceil(-ageSeconds)} s ahead (tolerance ${tolerance} s)`);
  }

  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
  // Every key and entry is compared, so the time taken does not tell which one (or whether any) matched.
  let matched = false;
  for (const key of keys) {
    const expected = Buffer.from(webhookSignature(key, id!, timestamp, body), 'utf8');
    for (const entry of presented) {
      const candidate = Buffer.from(entry, 'utf8');
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    }
  }
  if (!matched) return reject('signature-mismatch', `${STANDARD_WEBHOOK_HEADERS.signature} does not match the body`);

  const event = eventFields(body);
  if (!event) return reject('invalid-body', 'the signed body is not a payment event');
  if (id !== event.eventId) return reject('header-mismatch', `${STANDARD_WEBHOOK_HEADERS.id} header disagrees with the signed body`);
  const mismatch = headerMismatch(input.headers, event);
  if (mismatch) return reject('header-mismatch', `${mismatch} header disagrees with the signed body`);
  return { ok: true, timestamp, event };
}

/**
 * The value of a header, ignoring case: `undefined` when absent, `null` when it is repeated
 * with different values (ambiguous, so refused).
 */
function headerValue(headers: WebhookHeaders, name: string): string | undefined | null {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers as Readonly<Record<string, string | readonly string[] | undefined>>)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    if (typeof value === 'string') values.push(value);
    else values.push(...value);
  }
  if (values.length === 0) return undefined;
  return values.every((value) => value === values[0]) ? (values[0] as string) : null;
}

function eventFields(body: Uint8Array): WebhookEventFields | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object') return undefined;
  const { eventId, type, sequence, aggregateId } = json as Record<string, unknown>;
  if (typeof eventId !== 'string' || typeof type !== 'string' || typeof aggregateId !== 'string') return undefined;
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence)) return undefined;
  return { eventId, type, sequence, aggregateId };
}

function headerMismatch(headers: WebhookHeaders, event: WebhookEventFields): string | undefined {
  const expected: ReadonlyArray<[string, string]> = [
    [WEBHOOK_HEADERS.eventId, event.eventId],
    [WEBHOOK_HEADERS.eventType, event.type],
    [WEBHOOK_HEADERS.sequence, String(event.sequence)],
    [WEBHOOK_HEADERS.aggregateId, event.aggregateId],
  ];
  for (const [name, value] of expected) {
    const presented = headerValue(headers, name);
    if (presented !== undefined && presented !== value) return name;
  }
  return undefined;
}
