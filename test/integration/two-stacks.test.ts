/**
 * Two local stacks in one process: each function is built from its own stack's configuration and
 * clients, so a payment on one stack is stored, relayed and delivered there, and only there. The
 * second is a staged stack (`stage: 'qa'`): the runner takes every name from its template, so its
 * topic and queues are `qa-...` and the pipeline works under those names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATE_DIR } from '../../local/paths';
import { loadTemplate } from '../../local/template/template-cache';
import { callApi, PAYMENT_EVENTS_QUEUE, receiveMessages, startTestStack, type LocalStack } from '../support/local-stack-harness';

const STAGE = 'qa';
const STAGED_QUEUE = `${STAGE}-${PAYMENT_EVENTS_QUEUE}`;

let first: LocalStack;
let second: LocalStack;

beforeAll(async () => {
  const { template: staged } = await loadTemplate(DEFAULT_STATE_DIR, { appStackPropsOverrides: { stage: STAGE } });
  [first, second] = await Promise.all([startTestStack({ consumers: false }), startTestStack({ consumers: false, template: staged })]);
});
afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
});

async function approvedCardPayment(stack: LocalStack, orderId: string): Promise<string> {
  const created = await callApi(stack, 'POST', '/payments', { body: { orderId, amount: 12_000, currency: 'KRW', method: 'CARD' } });
  expect(created.status).toBe(201);
  const paymentId = (created.body as { paymentId: string }).paymentId;
  const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken: 'tok_visa' } });
  expect(confirmed.status).toBe(200);
  expect((confirmed.body as { status: string }).status).toBe('APPROVED');
  return paymentId;
}

const bodies = (messages: { Body?: string }[]) => messages.map((m) => JSON.parse(m.Body ?? '{}') as { aggregateId: string; type: string; sequence: number });

describe('two local stacks in one process', () => {
  it('run side by side on their own emulators, ports and state directories', () => {
    expect(first.apiUrl).not.toBe(second.apiUrl);
    expect(first.endpoints.dynamodbEndpoint).not.toBe(second.endpoints.dynamodbEndpoint);
    expect(first.endpoints.sqsEndpoint).not.toBe(second.endpoints.sqsEndpoint);
    expect(first.endpoints.pgCallbackSecret).not.toBe(second.endpoints.pgCallbackSecret);
    expect(first.stateDir).not.toBe(second.stateDir);
  });

  it('name the staged stack\'s topic and queues after its template: every one carries the stage', () => {
    expect(Object.keys(second.endpoints.topics)).toEqual([`${STAGE}-payment-events.fifo`]);
    expect(Object.keys(second.endpoints.queues).length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(second.endpoints.queues).filter((name) => !name.startsWith(`${STAGE}-`))).toEqual([]);
    expect(Object.keys(first.endpoints.queues)).toContain(PAYMENT_EVENTS_QUEUE);
  });

  it('drive a payment each through API, outbox, relay and topic to that stack’s queue only', async () => {
    const [onFirst, onSecond] = await Promise.all([approvedCardPayment(first, 'order-first'), approvedCardPayment(second, 'order-second')]);

    const [firstEvents, secondEvents] = await Promise.all([
      receiveMessages(first, PAYMENT_EVENTS_QUEUE, { count: 2, timeoutMs: 20_000 }),
      receiveMessages(second, STAGED_QUEUE, { count: 2, timeoutMs: 20_000 }),
    ]);
    expect(bodies(firstEvents).map((e) => [e.aggregateId, e.type, e.sequence])).toEqual([
      [onFirst, 'payment.created', 1],
      [onFirst, 'payment.approved', 2],
    ]);
    expect(bodies(secondEvents).map((e) => [e.aggregateId, e.type, e.sequence])).toEqual([
      [onSecond, 'payment.created', 1],
      [onSecond, 'payment.approved', 2],
    ]);

    expect((await callApi(first, 'GET', `/payments/${onSecond}`)).status).toBe(404);
    expect((await callApi(second, 'GET', `/payments/${onFirst}`)).status).toBe(404);
    // Nothing more arrives on either queue: no event crossed over.
    const [moreOnFirst, moreOnSecond] = await Promise.all([
      receiveMessages(first, PAYMENT_EVENTS_QUEUE, { timeoutMs: 1_500 }),
      receiveMessages(second, STAGED_QUEUE, { timeoutMs: 1_500 }),
    ]);
    expect([...moreOnFirst, ...moreOnSecond]).toEqual([]);
  });
});
