/**
 * Toss's `DEPOSIT_CALLBACK` webhook body
 * (https://docs.tosspayments.com/reference/using-api/webhook-events#deposit_callback): flat,
 * unsigned, `{createdAt, secret, status, transactionKey, orderId}`. Toss adds fields without a
 * version change, so unknown fields are ignored.
 */
import * as z from 'zod/mini';
import { parseCommand } from '../../domain/commands';
import type { DepositCallback } from '../../use-cases/record-verified-deposit';

const text = (max: number) =>
  z.string({ error: 'must be a string' }).check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));

export const tossDepositCallbackSchema = z.object({
  createdAt: text(64),
  secret: text(200),
  status: text(64),
  transactionKey: text(200),
  orderId: text(64),
});

/** The callback in our words; a ValidationError (400) names a missing or malformed field. */
export function parseTossDepositCallback(body: unknown): DepositCallback {
  const callback = parseCommand(tossDepositCallbackSchema, body);
  return {
    paymentId: callback.orderId,
    pgEventId: callback.transactionKey,
    status: callback.status === 'DONE' ? 'deposited' : 'other',
    pgStatus: callback.status,
    secret: callback.secret,
  };
}
