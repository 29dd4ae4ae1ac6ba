/**
 * Webhook signing, and the verification helper for services that receive payment webhooks.
 *
 * Every webhook request carries:
 *
 * | header             | value                                                        |
 * | ------------------ | ------------------------------------------------------------ |
 * | `X-Event-Id`       | the event's id (unique; deduplicate on it)                   |
 * | `X-Event-Type`     | e.g. `payment.approved`                                      |
 * | `X-Event-Sequence` | 1, 2, 3, ... per payment                                     |
 * | `X-Aggregate-Id`   | the payment id                                               |
 * | `X-Timestamp`      | when the request was signed, Unix seconds                    |
 * | `X-Signature`      | `sha256=` + hex HMAC-SHA256(secret, `<X-Timestamp>.<raw body>`) |
 *
 * The body is the event envelope as JSON. The signature covers the timestamp and the exact body
 * bytes; the four event headers are copies of body fields for routing, and `verifyWebhook`
 * checks that they agree with the signed body.
 *
 * Receiving service (Node):
 * ```ts
 * import { verifyWebhook } from './webhook-signature';
 *
 * const rawBody = await readRawBody(request);            // the bytes as received: do not re-serialise
 * const result = verifyWebhook({ rawBody, headers: request.headers, secret: process.env.WEBHOOK_SECRET! });
 * if (!result.ok) return respond(401, result.reason);     // log result.message
 * if (await alreadyProcessed(result.event.eventId)) return respond(200);
 * ...apply the event in result.event.sequence order per result.event.aggregateId, then respond 2xx
 * ```
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_HEADERS = {
  eventId: 'X-Event-Id',
  eventType: 'X-Event-Type',
  sequence: 'X-Event-Sequence',
  aggregateId: 'X-Aggregate-Id',
  timestamp: 'X-Timestamp',
  signature: 'X-Signature',
} as const;

const SIGNATURE_PREFIX = 'sha256=';
const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/;
const TIMESTAMP_FORMAT = /^\d{1,12}$/;

/** Default accepted distance between a request's timestamp and the receiver's clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The routing fields of the event a webhook request carries. */
export interface WebhookEventFields {
  readonly eventId: string;
  readonly type: string;
  readonly sequence: number;
  readonly aggregateId: string;
}

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`. */
export function webhookSignature(secret: string, timestamp: number, body: string | Uint8Array): string {
  return (
    SIGNATURE_PREFIX +
    createHmac('sha256', secret)
      .update(`${timestamp}.`)
      .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
      .digest('hex')
  );
}

/**
 * The headers of a webhook request for `event` with `body`, signed at `timestamp` (Unix seconds).
 * `Content-Type` is included; the HTTP client adds nothing that the signature depends on.
 */
export function signedWebhookHeaders(options: {
  readonly event: WebhookEventFields;
  readonly body: string;
  readonly secret: string;
  readonly timestamp: number;
}): Record<string, string> {
  const { event, body, secret, timestamp } = options;
  return {
    'Content-Type': 'application/json',
    [WEBHOOK_HEADERS.eventId]: event.eventId,
    [WEBHOOK_HEADERS.eventType]: event.type,
    [WEBHOOK_HEADERS.sequence]: String(event.sequence),
    [WEBHOOK_HEADERS.aggregateId]: event.aggregateId,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: webhookSignature(secret, timestamp, body),
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
  /** The subscriber's signing key; several during a rotation (any one may match). */
  readonly secret: string | readonly string[];
  /** Largest accepted distance between `X-Timestamp` and `now`, either way. @default 300 */
  readonly toleranceSeconds?: number;
  /** The receiver's clock. @default new Date() */
  readonly now?: Date | number;
}

export type WebhookRejection =
  /** `X-Timestamp` or `X-Signature` is absent. */
  | 'missing-header'
  /** A header is present but malformed (not `sha256=<64 hex>`, not whole seconds, repeated). */
  | 'bad-format'
  /** The timestamp is older than the tolerance: possibly a replayed request. */
  | 'stale-timestamp'
  /** The timestamp is ahead of the receiver's clock by more than the tolerance. */
  | 'future-timestamp'
  /** No secret produces this signature over this timestamp and body. */
  | 'signature-mismatch'
  /** The signed body is not a payment event (no eventId, type, sequence or aggregateId). */
  | 'invalid-body'
  /** An `X-Event-*` / `X-Aggregate-Id` header disagrees with the signed body. */
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
 * Verifies a webhook request: the timestamp is within `toleranceSeconds` of `now` (replay
 * protection), the signature matches the body under the secret (compared in constant time), and
 * the event headers agree with the signed body. Never throws for a bad request.
 */
export function verifyWebhook(input: VerifyWebhookInput): VerifyWebhookResult {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowMs = input.now === undefined ? Date.now() : typeof input.now === 'number' ? input.now : input.now.getTime();
  const reject = (reason: WebhookRejection, message: string): VerifyWebhookResult => ({ ok: false, reason, message });

  const timestampHeader = headerValue(input.headers, WEBHOOK_HEADERS.timestamp);
  const signatureHeader = headerValue(input.headers, WEBHOOK_HEADERS.signature);
  if (timestampHeader === undefined) return reject('missing-header', `${WEBHOOK_HEADERS.timestamp} header is missing`);
  if (signatureHeader === undefined) return reject('missing-header', `${WEBHOOK_HEADERS.signature} header is missing`);
  if (timestampHeader === null || !TIMESTAMP_FORMAT.test(timestampHeader)) {
    return reject('bad-format', `${WEBHOOK_HEADERS.timestamp} must be whole Unix seconds`);
  }
  if (signatureHeader === null || !SIGNATURE_FORMAT.test(signatureHeader)) {
    return reject('bad-format', `${WEBHOOK_HEADERS.signature} must be sha256=<64 lower-case hex digits>`);
  }

  const timestamp = Number(timestampHeader);
  const ageSeconds = nowMs / 1000 - timestamp;
  if (ageSeconds > tolerance) {
    return reject('stale-timestamp', `${WEBHOOK_HEADERS.timestamp} is ${Math.floor(ageSeconds)} s old (tolerance ${tolerance} s)`);
  }
  if (-ageSeconds > tolerance) {
    return reject('future-timestamp', `${WEBHOOK_HEADERS.timestamp} is ${Math.ceil(-ageSeconds)} s ahead (tolerance ${tolerance} s)`);
  }

  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
  const presented = Buffer.from(signatureHeader, 'utf8');
  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  // Every secret is tried, so the time taken does not tell which one (or whether any) matched.
  let matched = false;
  for (const secret of secrets) {
    const expected = Buffer.from(webhookSignature(secret, timestamp, body), 'utf8');
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) matched = true;
  }
  if (!matched) return reject('signature-mismatch', `${WEBHOOK_HEADERS.signature} does not match the body`);

  const event = eventFields(body);
  if (!event) return reject('invalid-body', 'the signed body is not a payment event');
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
