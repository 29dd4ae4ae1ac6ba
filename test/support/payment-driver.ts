/**
 * Drives many payments through several transitions each, concurrently, over the real HTTP API.
 * Returns each payment's final version: the number of events it must produce.
 */
import { expect } from 'vitest';
import type { LocalStack } from './local-stack-harness';
import { cancel, confirm, createPayment, deposit } from './payment-api-client';

type Script = (stack: LocalStack) => Promise<[string, number]>;

/** Card: created → approved → cancelled (3 events). */
const cardApprovedThenCancelled: Script = async (stack) => {
  const payment = await createPayment(stack, 'CARD');
  expect((await confirm(stack, payment.paymentId)).status).toBe(200);
  expect((await cancel(stack, payment.paymentId)).status).toBe(200);
  return [payment.paymentId, 3];
};

/** Card declined: created → failed (2 events). */
const cardDeclined: Script = async (stack) => {
  const payment = await createPayment(stack, 'CARD');
  expect((await confirm(stack, payment.paymentId, 'tok_decline')).status).toBe(200);
  return [payment.paymentId, 2];
};

/** Virtual account: created → approved by deposit → cancelled (3 events). */
const virtualAccountDepositedThenCancelled: Script = async (stack) => {
  const payment = await createPayment(stack, 'VIRTUAL_ACCOUNT');
  expect((await deposit(stack, payment)).status).toBe(200);
  expect((await cancel(stack, payment.paymentId)).status).toBe(200);
  return [payment.paymentId, 3];
};

/** Easy pay: created → approved (2 events). */
const easyPay: Script = async (stack) => {
  const payment = await createPayment(stack, 'EASY_PAY');
  expect((await confirm(stack, payment.paymentId)).status).toBe(200);
  return [payment.paymentId, 2];
};

const SCRIPTS: readonly Script[] = [cardApprovedThenCancelled, cardDeclined, virtualAccountDepositedThenCancelled, easyPay];

export async function drivePayments(stack: LocalStack, count: number, concurrency = 16): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const script = SCRIPTS[next++ % SCRIPTS.length] as Script;
      const [paymentId, version] = await script(stack);
      versions.set(paymentId, version);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return versions;
}
