import { describe, expect, it } from 'vitest';
import {
  cancelPaymentSchema,
  confirmPaymentSchema,
  createPaymentSchema,
  depositNotificationSchema,
  parseCommand,
} from '../../lambdas/domain/commands';
import { ValidationError } from '../../lambdas/domain/errors';

const valid = { orderId: 'order-2026.11:25_a', amount: 15000, currency: 'KRW', method: 'CARD' };

function validationError(schema: Parameters<typeof parseCommand>[0], input: unknown): ValidationError {
  try {
    parseCommand(schema, input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('create payment command', () => {
  it.each(['KRW', 'USD', 'EUR', 'JPY'])('accepts currency %s', (currency) => {
    expect(parseCommand(createPaymentSchema, { ...valid, currency })).toEqual({ ...valid, currency });
  });

  it.each([
    ['orderId', { ...valid, orderId: undefined }, 'is required'],
    ['orderId', { ...valid, orderId: '' }, 'must not be empty'],
    ['orderId', { ...valid, orderId: 'x'.repeat(65) }, 'at most 64'],
    ['orderId', { ...valid, orderId: 'order 1' }, 'may contain only'],
    ['amount', { ...valid, amount: -1 }, 'positive'],
    ['amount', { ...valid, amount: 0 }, 'positive'],
    ['amount', { ...valid, amount: 10.5 }, 'integer'],
    ['amount', { ...valid, amount: '100' }, 'must be a number'],
    ['amount', { ...valid, amount: 1e12 + 1 }, 'at most'],
    ['currency', { ...valid, currency: 'krw' }, 'three upper-case'],
    ['currency', { ...valid, currency: 'ABC' }, 'ISO 4217'],
    ['method', { ...valid, method: 'CASH' }, 'must be one of'],
    ['extra', { ...valid, extra: true }, 'not a known field'],
    ['body', [], 'JSON object'],
    ['body', null, 'JSON object'],
  ])('names %s in the error for %j', (field, input, message) => {
    const error = validationError(createPaymentSchema, input);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('accepts the largest allowed amount', () => {
    expect(parseCommand(createPaymentSchema, { ...valid, amount: 1e12 }).amount).toBe(1e12);
  });
});

describe('other commands', () => {
  it('requires a card token to confirm', () => {
    expect(validationError(confirmPaymentSchema, {}).field).toBe('cardToken');
  });

  it('requires a reason to cancel', () => {
    expect(validationError(cancelPaymentSchema, { reason: '' }).field).toBe('reason');
  });

  it('requires an ISO-8601 depositedAt in a deposit notification', () => {
    const input = { pgTransactionId: 'pg-1', paymentId: 'p-1', amount: 100, depositedAt: 'yesterday' };
    expect(validationError(depositNotificationSchema, input).field).toBe('depositedAt');
    expect(parseCommand(depositNotificationSchema, { ...input, depositedAt: '2026-11-25T10:00:00+09:00' })).toMatchObject({ amount: 100 });
  });
});
