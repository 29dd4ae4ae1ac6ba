/**
 * The PG resends its deposit callback until it gets 200. Twenty copies of one callback arriving at
 * once must make one state change, one event and one message, and all twenty must get 200.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PAYMENT_EVENTS_QUEUE, receiveMessages, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { createPayment, decodeMessage, deposit, events } from '../support/payment-api-client';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ consumers: false });
});
afterAll(() => stack?.stop());

it('20 concurrent copies of one deposit callback: twenty 200s, one change, one event, one message', async () => {
  const payment = await createPayment(stack, 'VIRTUAL_ACCOUNT', { amount: 50_000 });
  const pgTransactionId = `pg-concurrent-${Date.now()}`;

  const responses = await Promise.all(Array.from({ length: 20 }, () => deposit(stack, payment, { pgTransactionId })));

  expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
  expect(new Set(responses.map((r) => (r.body as { version: number }).version))).toEqual(new Set([2]));
  const stored = await events(stack, payment.paymentId);
  expect(stored.map((e) => e.type)).toEqual(['payment.created', 'payment.approved']);

  const messages = (await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { timeoutMs: 8_000 })).map(decodeMessage);
  const approvals = messages.filter((m) => m.envelope.aggregateId === payment.paymentId && m.envelope.type === 'payment.approved');
  expect(approvals).toHaveLength(1);
  expect(approvals[0]?.envelope.eventId).toBe(stored[1]?.eventId);
});

it('a later callback with another transaction id for an approved payment is refused, not applied twice', async () => {
  const payment = await createPayment(stack, 'VIRTUAL_ACCOUNT');
  expect((await deposit(stack, payment, { pgTransactionId: 'first-tx' })).status).toBe(200);
  const second = await deposit(stack, payment, { pgTransactionId: 'second-tx' });
  expect(second.status).toBe(409);
  expect(second.body).toMatchObject({ error: { code: 'INVALID_STATE_TRANSITION' } });
  expect((await events(stack, payment.paymentId)).map((e) => e.sequence)).toEqual([1, 2]);
});
