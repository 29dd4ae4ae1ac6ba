/**
 * Input rules for every command, as schemas. Parsing returns typed commands or throws a
 * ValidationError that names the offending field.
 */
import { z } from 'zod';
import { ValidationError } from './errors';
import { PAYMENT_METHODS } from './payment';
import type { PaymentCredential } from './pg-attempt';

export const MAX_AMOUNT = 1_000_000_000_000;

/** ISO 4217 codes as known to the runtime's ICU data (KRW, USD, EUR, JPY, ...). */
const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));

const amount = z
  .number({ error: 'must be a number' })
  .int('must be an integer number of minor units')
  .positive('must be positive')
  .max(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`);

const identifier = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -');

export const createPaymentSchema = z.strictObject({
  orderId: identifier,
  amount,
  currency: z
    .string({ error: 'must be a string' })
    .regex(/^[A-Z]{3}$/, 'must be three upper-case letters')
    .refine((code) => ISO_4217.has(code), 'is not an ISO 4217 currency code'),
  method: z.enum(PAYMENT_METHODS, { error: `must be one of ${PAYMENT_METHODS.join(', ')}` }),
});
export type CreatePaymentCommand = z.infer<typeof createPaymentSchema>;

/** A confirm on the sandbox PG: the card token. */
export const confirmPaymentSchema = z.strictObject({
  cardToken: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
});

/** A confirm on Toss Payments: the `paymentKey` Toss's payment window returned to the buyer's browser (at most 200 characters). */
export const confirmWithPaymentKeySchema = z.strictObject({
  paymentKey: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});

/** Either schema's result: exactly one credential. */
export type ConfirmPaymentCommand = PaymentCredential;

export const cancelPaymentSchema = z.strictObject({
  reason: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(500, 'must be at most 500 characters'),
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
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** Parses `input` with `schema`, turning the first issue into a ValidationError naming its field. */
export function parseCommand<S extends z.ZodType>(schema: S, input: unknown, fieldPrefix = ''): z.infer<S> {
  const result = schema.safeParse(input);
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
