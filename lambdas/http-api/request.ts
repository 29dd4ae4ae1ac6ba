import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from 'zod/mini';
import { idempotencyKeySchema, parseCommand, paymentIdSchema } from '../domain/commands';
import { PayloadTooLargeError, ValidationError } from '../domain/errors';

/** Request bodies above this size are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The raw body bytes as the caller sent them (signatures are computed over these). */
export function rawBody(event: APIGatewayProxyEvent): Buffer {
  const body = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  return bytes;
}

export function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) throw new ValidationError('body', 'is required');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ValidationError('body', 'is not valid JSON');
  }
}

/** Size check, JSON parse and schema validation of the body, in that order. */
export function parseBody<S extends z.ZodMiniType>(event: APIGatewayProxyEvent, schema: S): z.infer<S> {
  return parseCommand(schema, parseJson(rawBody(event)));
}

export function paymentIdParam(event: APIGatewayProxyEvent): string {
  return parseCommand(paymentIdSchema, event.pathParameters?.paymentId, 'paymentId');
}

/** Header lookup ignoring case, as HTTP requires. */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

export function idempotencyKeyHeader(event: APIGatewayProxyEvent): string | undefined {
  const key = header(event, 'Idempotency-Key');
  return key === undefined ? undefined : parseCommand(idempotencyKeySchema, key, 'Idempotency-Key');
}
