/**
 * The payment store down, for real: DynamoDB Local is killed under a running stack, and every
 * route answers 503 STORE_UNAVAILABLE with Retry-After (the caller retries), never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { confirm, createPayment, newOrderId } from '../support/payment-api-client';

let stack: LocalStack;
let paymentId: string;

beforeAll(async () => {
  stack = await startTestStack({ consumers: false, startPaused: true });
  ({ paymentId } = await createPayment(stack, 'CARD'));
  process.kill(stack.pids.dynamodb, 'SIGKILL');
  // Wait until the endpoint refuses connections.
  for (let i = 0; i < 100; i++) {
    const refused = await fetch(stack.endpoints.dynamodbEndpoint).then(
      () => false,
      () => true,
    );
    if (refused) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('DynamoDB Local still answers after SIGKILL');
});
afterAll(async () => {
  // DynamoDB Local is already gone; stop the rest.
  await stack?.stop().catch(() => undefined);
});

const expectStoreUnavailable = (response: Awaited<ReturnType<typeof callApi>>) => {
  expect(response.status, response.text).toBe(503);
  expect(response.body).toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
};

describe('with DynamoDB Local gone', () => {
  it('answers a create 503 STORE_UNAVAILABLE with Retry-After', async () => {
    expectStoreUnavailable(await callApi(stack, 'POST', '/payments', { body: { orderId: newOrderId(), amount: 15_000, currency: 'KRW', method: 'CARD' } }));
  });

  it('answers a confirm, a read and an event listing the same way', async () => {
    expectStoreUnavailable(await confirm(stack, paymentId));
    expectStoreUnavailable(await callApi(stack, 'GET', `/payments/${paymentId}`));
    expectStoreUnavailable(await callApi(stack, 'GET', `/payments/${paymentId}/events`));
  });
});
