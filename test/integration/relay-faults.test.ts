/**
 * Relay faults on the real local stack: the SNS topic rejects some entries of a PublishBatch,
 * throttles calls, or the relay process dies mid-batch. Every event still reaches the example consumer exactly once, in order.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startTestStack, type LocalStack } from '../support/local-stack-harness';
import { violations, waitUntilApplied } from '../support/consumer-projection';
import { drivePayments } from '../support/payment-driver';
import { clearPublishFaults, crashAware, injectPublishFaults, installPublishFaults } from '../../chaos/faults/publish-faults';

let stack: LocalStack;
beforeAll(async () => {
  // The faults go on the clients each function is given (the relay's SNS and DynamoDB calls).
  stack = await startTestStack({ consumers: true, functionClients: (_fn, clients) => installPublishFaults(clients) });
});
afterEach(() => {
  clearPublishFaults();
  stack.pollers.stream('outbox-relay').invokeWrapper = undefined;
});
afterAll(() => stack?.stop());

/** A seeded generator, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

it('loses nothing and applies nothing twice when the topic rejects some entries of a batch', async () => {
  const random = seeded(7);
  const counters = injectPublishFaults({ failEntry: () => random() < 0.2 });
  const versions = await drivePayments(stack, 60);
  const applied = await waitUntilApplied(stack, versions);
  expect(counters.failedEntries).toBeGreaterThan(0);
  expect(violations(versions, applied)).toEqual([]);
});

it('loses nothing when SNS throttles whole PublishBatch calls', async () => {
  const random = seeded(11);
  const counters = injectPublishFaults({ throttleCall: () => random() < 0.3 });
  const versions = await drivePayments(stack, 40);
  const applied = await waitUntilApplied(stack, versions);
  expect(counters.throttledCalls).toBeGreaterThan(0);
  expect(violations(versions, applied)).toEqual([]);
});

it('loses nothing when the relay process dies mid-batch and the batch is retried', async () => {
  const random = seeded(23);
  // Crash only after at least one call went through in the invocation, so part of the batch was sent.
  let callsInInvocation = 0;
  const counters = injectPublishFaults({ crashBeforeCall: () => callsInInvocation++ > 0 && random() < 0.5 });
  stack.pollers.stream('outbox-relay').invokeWrapper = (event, invoke) => {
    callsInInvocation = 0;
    return crashAware(event, invoke);
  };
  const versions = await drivePayments(stack, 60, 32);
  const applied = await waitUntilApplied(stack, versions);
  expect(counters.crashes).toBeGreaterThan(0);
  expect(stack.pollers.stream('outbox-relay').stats.retries).toBeGreaterThan(0);
  expect(violations(versions, applied)).toEqual([]);
});
