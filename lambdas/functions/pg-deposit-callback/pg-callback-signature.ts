import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidSignatureError } from '../../domain/errors';

const PREFIX = 'sha256=';

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as the PG sends it in X-PG-Signature. */
export function signPgBody(body: Buffer | string, secret: string): string {
  return PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

/** Throws InvalidSignatureError unless `signature` is the HMAC of exactly these bytes. */
export function verifyPgSignature(body: Buffer, signature: string | undefined, secret: string): void {
  if (!signature?.startsWith(PREFIX)) throw new InvalidSignatureError('X-PG-Signature header is missing or malformed');
  const expected = Buffer.from(signPgBody(body, secret), 'utf8');
  const presented = Buffer.from(signature, 'utf8');
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) {
    throw new InvalidSignatureError();
  }
}
