/**
 * 200 payments driven concurrently through several transitions each: the example consumer, fed by
 * the real relay and the FIFO queue, applies every payment's events exactly once and in order.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestStack, type LocalStack } from '../support/local-stack-harness';
import { violations, waitUntilApplied } from '../support/consumer-projection';
import { drivePayments } from '../support/payment-driver';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ consumers: true });
});
afterAll(() => stack?.stop());

it('applies every event of 200 concurrent payments exactly once, in sequence order', async () => {
  const versions = await drivePayments(stack, 200);
  const totalEvents = [...versions.values()].reduce((sum, v) => sum + v, 0);
  expect(versions.size).toBe(200);
  expect(totalEvents).toBe(500);

  const applied = await waitUntilApplied(stack, versions);
  expect(violations(versions, applied)).toEqual([]);
});
