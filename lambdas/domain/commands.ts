/**
 * Input rules for every command, as schemas. Parsing returns typed commands or throws a
 * ValidationError that names the offending field.
 *
 * Schemas are written with `zod/mini`: the same zod v4 core (same checks, same issues) as the
 * classic `zod` API, but tree-shakable and without loading every locale at import, so a Lambda
 * bundle carries ~20 KiB of validation instead of ~440 KiB.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { ValidationError } from './errors';
import { PAYMENT_METHODS } from './payment';
import type { PaymentCredential } from './pg-attempt';

export const MAX_AMOUNT = 1_000_000_000_000;

/** ISO 4217 codes as known to the runtime's ICU data (KRW, USD, EUR, JPY, ...). */
const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));

/**
 * zod's English messages, for the issues a schema gives no message of its own (zod/mini loads no
 * locale; the classic API loaded this one at import). Passed to every parse, never set globally.
 */
export const ENGLISH_ISSUE_MESSAGES: z.core.ParseContext<z.core.$ZodIssue> = { error: en().localeError };

const amount = z
  .number({ error: 'must be a number' })
  .check(
    z.int('must be an integer number of minor units'),
    z.positive('must be positive'),
    z.maximum(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`),
  );

const identifier = z
  .string({ error: 'must be a string' })
  .check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(64, 'must be at most 64 characters'),
    z.regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
  );

/** A string of 1 to `max` characters. */
const boundedText = (max: number) =>
  z.string({ error: 'must be a string' }).check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));

export const createPaymentSchema = z.strictObject({
  orderId: identifier,
  amount,
  currency: z
    .string({ error: 'must be a string' })
    .check(
      z.regex(/^[A-Z]{3}$/, 'must be three upper-case letters'),
      z.refine((code) => ISO_4217.has(code), 'is not an ISO 4217 currency code'),
    ),
  method: z.enum(PAYMENT_METHODS, { error: `must be one of ${PAYMENT_METHODS.join(', ')}` }),
});
export type CreatePaymentCommand = z.infer<typeof createPaymentSchema>;

/** A confirm on the sandbox PG: the card token. */
export const confirmPaymentSchema = z.strictObject({
  cardToken: boundedText(256),
});

/** A confirm on Toss Payments: the `paymentKey` Toss's payment window returned to the buyer's browser (at most 200 characters). */
export const confirmWithPaymentKeySchema = z.strictObject({
  paymentKey: boundedText(200),
});

/** Either schema's result: exactly one credential. */
export type ConfirmPaymentCommand = PaymentCredential;

export const cancelPaymentSchema = z.strictObject({
  reason: boundedText(500),
});
export type CancelPaymentCommand = z.infer<typeof cancelPaymentSchema>;

export const depositNotificationSchema = z.strictObject({
  pgTransactionId: identifier,
  paymentId: identifier,
  amount,
  depositedAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }),
});
export type DepositNotification = z.infer<typeof depositNotificationSchema>;

export const paymentIdSchema = identifier;

export const idempotencyKeySchema = z
  .string()
  .check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(255, 'must be at most 255 characters'),
    z.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  );

/** Parses `input` with `schema`, turning the first issue into a ValidationError naming its field. */
export function parseCommand<S extends z.ZodMiniType>(schema: S, input: unknown, fieldPrefix = ''): z.infer<S> {
  const result = schema.safeParse(input, ENGLISH_ISSUE_MESSAGES);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ValidationError(fieldPrefix, 'is invalid');
  if (issue.code === 'unrecognized_keys') {
    const field = [fieldPrefix, ...issue.path.map(String), issue.keys[0] ?? ''].filter(Boolean).join('.');
    throw new ValidationError(field, 'is not a known field');
  }
  const field = [fieldPrefix, ...issue.path.map(String)].filter(Boolean).join('.') || 'body';
  if (issue.path.length === 0) throw new ValidationError(field, 'must be a JSON object');
  const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
  throw new ValidationError(field, missing ? 'is required' : issue.message);
}

/** The value at `path` inside `input`, or undefined where the path leaves the objects. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
