/**
 * Each payment flow through the real HTTP API ends as FIFO messages on payment-events.fifo:
 * group id = payment id, dedup id = event id, the right types, sequences 1..n with no gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentEventType } from '../../lambdas/domain/event-envelope';
import type { Payment } from '../../lambdas/domain/payment';
import { PAYMENT_EVENTS_QUEUE, receiveMessages, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { cancel, confirm, createPayment, decodeMessage, deposit, events } from '../support/payment-api-client';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ consumers: false });
});
afterAll(() => stack?.stop());

/** Reads the queue until the payment's `types.length` messages arrived; checks every FIFO attribute. */
async function expectPublished(payment: Payment, types: PaymentEventType[]) {
  const messages = (await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: types.length, timeoutMs: 20_000 }))
    .map(decodeMessage)
    .filter((m) => m.envelope.aggregateId === payment.paymentId);
  const stored = await events(stack, payment.paymentId);
  expect(messages.map((m) => m.envelope.type)).toEqual(types);
  expect(messages.map((m) => m.envelope.sequence)).toEqual(types.map((_, i) => i + 1));
  for (const [i, message] of messages.entries()) {
    expect(message.groupId).toBe(payment.paymentId);
    expect(message.deduplicationId).toBe(message.envelope.eventId);
    expect(message.eventTypeAttribute).toBe(types[i]);
    expect(message.sequenceAttribute).toBe(String(i + 1));
    expect(message.envelope).toEqual(stored[i]);
  }
}

describe('payment flows end as ordered FIFO messages', () => {
  it('card approved: payment.created, payment.approved', async () => {
    const payment = await createPayment(stack, 'CARD');
    const confirmed = await confirm(stack, payment.paymentId);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'APPROVED', version: 2 });
    await expectPublished(payment, ['payment.created', 'payment.approved']);
  });

  it('card declined: payment.created, payment.failed', async () => {
    const payment = await createPayment(stack, 'CARD');
    const confirmed = await confirm(stack, payment.paymentId, 'tok_decline_do_not_honor');
    expect(confirmed.body).toMatchObject({ status: 'FAILED', failureReason: 'CARD_DECLINED' });
    await expectPublished(payment, ['payment.created', 'payment.failed']);
  });

  it('easy pay: payment.created, payment.approved', async () => {
    const payment = await createPayment(stack, 'EASY_PAY', { currency: 'USD', amount: 1999 });
    expect((await confirm(stack, payment.paymentId)).body).toMatchObject({ status: 'APPROVED' });
    await expectPublished(payment, ['payment.created', 'payment.approved']);
  });

  it('virtual account + PG deposit callback: payment.created, payment.approved', async () => {
    const payment = await createPayment(stack, 'VIRTUAL_ACCOUNT', { amount: 30_000 });
    expect(payment).toMatchObject({ status: 'WAITING_FOR_DEPOSIT', virtualAccount: { bank: 'SANDBOX_BANK' } });
    const callback = await deposit(stack, payment);
    expect(callback.status).toBe(200);
    expect(callback.body).toMatchObject({ status: 'APPROVED', version: 2 });
    await expectPublished(payment, ['payment.created', 'payment.approved']);
  });

  it('cancel after approval: payment.created, payment.approved, payment.cancelled', async () => {
    const payment = await createPayment(stack, 'CARD');
    await confirm(stack, payment.paymentId);
    const cancelled = await cancel(stack, payment.paymentId);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', version: 3 });
    await expectPublished(payment, ['payment.created', 'payment.approved', 'payment.cancelled']);
  });

  it('an Idempotency-Key replay returns the same payment and publishes nothing more', async () => {
    const first = await createPayment(stack, 'CARD', { idempotencyKey: `replay-${Date.now()}` });
    await expectPublished(first, ['payment.created']);
    const again = await createPayment(stack, 'CARD', { idempotencyKey: 'unused' }).catch(() => undefined);
    expect(again?.paymentId).not.toBe(first.paymentId);
    const extra = await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 1, timeoutMs: 10_000 });
    expect(extra.map(decodeMessage).map((m) => m.envelope.aggregateId)).not.toContain(first.paymentId);
  });
});
