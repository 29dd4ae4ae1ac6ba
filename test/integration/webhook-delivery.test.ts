/**
 * Delivery to every subscriber on the real local stack: the relay publishes once to the SNS FIFO
 * topic, each subscriber's FIFO queue gets its copy, and a webhook dispatcher per webhook
 * subscriber POSTs signed requests to an in-process receiver (tools/webhook-receiver) that
 * deduplicates by event id and checks sequence order per payment.
 *
 * One stack, several webhook subscribers, each with a receiver misbehaving in its own way:
 * failing the first attempts, down and back, slower than the timeout, answering 400, never
 * reachable, and a healthy one (plus one filtered to `payment.approved`, and one whose receiver is not
 * ours: it verifies with the stock `standardwebhooks` package and the secret in endpoints.json). The queue
 * subscriber (the example consumer) runs alongside.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentDeliveriesView } from '../../lambdas/domain/delivery-state';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { findFreePort } from '../../local/emulators/ports';
import { DEFAULT_STATE_DIR } from '../../local/paths';
import { loadTemplate } from '../../local/template/template-cache';
import { startWebhookReceiver, type ReceiverAttempt, type WebhookReceiver } from '../../tools/webhook-receiver/receiver';
import { projections } from '../support/consumer-projection';
import { callApi, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { cancel, confirm, createPayment, eventually, events } from '../support/payment-api-client';

/**
 * Fast backoff so that retries happen within the test: 1 s, doubling, capped at 4 s. The request timeout
 * leaves room for a loaded machine (10 dispatcher invocations at once on 2 cores): an answer that arrives
 * after it counts as a timeout and is retried, which the once-only checks would take for a bug.
 */
const FAST = { timeoutSeconds: 5, backoff: { baseSeconds: 1, maxSeconds: 4 } };
const PAYMENTS = 6;
/** create, confirm (approved), cancel: three events per payment. */
const EVENTS_PER_PAYMENT = 3;

type Hook = 'flaky' | 'down' | 'slow' | 'rejecting' | 'healthy' | 'approved-only' | 'unreachable' | 'exhausted' | 'standard';
const HOOKS: readonly Hook[] = ['flaky', 'down', 'slow', 'rejecting', 'healthy', 'approved-only', 'unreachable', 'exhausted', 'standard'];
/** Attempts of the subscriber whose receiver stays down (503) past every event's last attempt. */
const EXHAUSTED_MAX_ATTEMPTS = 3;
const subscriberName = (hook: Hook) => `hook-${hook}`;

let stack: LocalStack;
let secret: (hook: Hook) => string;
let start: (hook: Hook, options?: Partial<Parameters<typeof startWebhookReceiver>[0]>) => Promise<void>;
const ports = new Map<Hook, number>();
const receivers = new Map<Hook, WebhookReceiver>();
const committed: EventEnvelope[] = [];
/** What the `standard` receiver (the standardwebhooks package, not our code) made of each request. */
const standardRequests: { verified: boolean; eventId?: string; webhookId: string | undefined; error?: string }[] = [];
let standardServer: Server | undefined;

/**
 * A receiver as another team would write it: the stock library and the secret from `.local/endpoints.json`.
 * 200 when `Webhook.verify` accepts the request, else 401.
 */
async function startStandardReceiver(port: number, secret: string): Promise<Server> {
  const webhook = new Webhook(secret);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      try {
        const event = webhook.verify(body, headers) as EventEnvelope;
        standardRequests.push({ verified: true, eventId: event.eventId, webhookId: headers['webhook-id'] });
        response.writeHead(200).end();
      } catch (error) {
        standardRequests.push({ verified: false, webhookId: headers['webhook-id'], error: (error as Error).message });
        response.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

function receiver(hook: Hook): WebhookReceiver {
  const found = receivers.get(hook);
  if (!found) throw new Error(`no receiver ${hook}`);
  return found;
}

function subscribers() {
  const hook = (name: Hook, extra: Record<string, unknown> = {}, delivery: Record<string, unknown> = {}) => ({
    name: subscriberName(name),
    ...extra,
    delivery: { kind: 'webhook', url: `http://127.0.0.1:${ports.get(name)}/payment-events`, ...FAST, ...delivery },
  });
  return [
    { name: 'payment-events', delivery: { kind: 'queue' } },
    hook('flaky', {}, { maxAttempts: 6 }),
    // Attempts to spare: it must still be retrying when the test brings its receiver up.
    hook('down', {}, { maxAttempts: 20 }),
    hook('slow', {}, { timeoutSeconds: 1, maxAttempts: 6 }),
    hook('rejecting'),
    hook('healthy'),
    hook('approved-only', { eventTypes: ['payment.approved'] }),
    // Nothing ever listens on its port: retried far longer than this test runs.
    hook('unreachable', {}, { maxAttempts: 20, backoff: { baseSeconds: 1, maxSeconds: 30 } }),
    // Answers 503 to everything: each event of a payment is handed back behind the failing one before its own turn.
    hook('exhausted', {}, { maxAttempts: EXHAUSTED_MAX_ATTEMPTS, backoff: { baseSeconds: 1, maxSeconds: 2 } }),
    hook('standard'),
  ];
}

beforeAll(async () => {
  for (const hook of HOOKS) ports.set(hook, await findFreePort());
  const { template } = await loadTemplate(DEFAULT_STATE_DIR, { stackProps: { subscribers: subscribers() } });
  stack = await startTestStack({ consumers: true, webhookReceiver: false, template, logLevel: 'error' });
  secret = (hook: Hook) => {
    const value = stack.endpoints.webhookSecrets[subscriberName(hook)];
    if (value === undefined) throw new Error(`no webhook secret for ${subscriberName(hook)}`);
    return value;
  };
  start = (hook: Hook, options: Partial<Parameters<typeof startWebhookReceiver>[0]> = {}) =>
    startWebhookReceiver({ secret: secret(hook), ...options, port: ports.get(hook) as number }).then((r) => {
      receivers.set(hook, r);
    });
  await start('flaky', { failFirst: 3 });
  await start('slow', { slowMs: 2_500, slowFirst: 1 });
  await start('rejecting', { status: 400 });
  await start('healthy');
  await start('approved-only');
  await start('exhausted', { status: 503 });
  const endpointsFile = JSON.parse(readFileSync(join(stack.stateDir, 'endpoints.json'), 'utf8')) as { webhookSecrets: Record<string, string> };
  standardServer = await startStandardReceiver(ports.get('standard') as number, endpointsFile.webhookSecrets[subscriberName('standard')] as string);

  const paymentIds = await Promise.all(
    Array.from({ length: PAYMENTS }, async () => {
      const payment = await createPayment(stack, 'CARD');
      expect((await confirm(stack, payment.paymentId)).status).toBe(200);
      expect((await cancel(stack, payment.paymentId)).status).toBe(200);
      return payment.paymentId;
    }),
  );
  for (const paymentId of paymentIds) committed.push(...(await events(stack, paymentId)));
  expect(committed).toHaveLength(PAYMENTS * EVENTS_PER_PAYMENT);
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => (standardServer ? standardServer.close(resolve) : resolve(undefined)));
  await Promise.all([...receivers.values()].map((r) => r.close()));
  await stack?.stop();
});

/** Waits until the receiver took in `count` events. */
async function receivedAll(hook: Hook, count = committed.length, timeoutMs = 90_000) {
  return eventually(async () => (receiver(hook).received.length >= count ? receiver(hook).received : undefined), timeoutMs, `${count} events at ${hook}`);
}

/** Each event's sequence per payment, in the order the receiver took them in. */
function sequencesByPayment(received: readonly { aggregateId: string; sequence: number }[]): Map<string, number[]> {
  const byPayment = new Map<string, number[]>();
  for (const event of received) byPayment.set(event.aggregateId, [...(byPayment.get(event.aggregateId) ?? []), event.sequence]);
  return byPayment;
}

/** Every committed event exactly once, in sequence order per payment, each payment's events all there. */
function expectExactlyOnceInOrder(hook: Hook, expected: readonly EventEnvelope[] = committed) {
  const { received, orderViolations } = receiver(hook);
  expect(received.map((e) => e.eventId).sort()).toEqual(expected.map((e) => e.eventId).sort());
  // The receiver expects 1, 2, 3, ... per payment: a filtered subscriber's gaps are by design.
  if (expected === committed) expect(orderViolations).toEqual([]);
  const expectedSequences = sequencesByPayment(expected);
  expect(sequencesByPayment(received)).toEqual(expectedSequences);
}

/** Seconds between consecutive requests for one event. */
function waits(attempts: readonly ReceiverAttempt[]): number[] {
  return attempts.slice(1).map((attempt, i) => (attempt.at - (attempts[i] as ReceiverAttempt).at) / 1000);
}

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

describe('webhook delivery', () => {
  it('a receiver down for a while gets everything once it is back, in order', async () => {
    // Down: nothing listens on its port until every payment's first event has failed at least once.
    const paymentIds = [...new Set(committed.map((e) => e.aggregateId))];
    const downView = async (paymentId: string) =>
      (await deliveries(paymentId)).subscribers.find((s) => s.name === subscriberName('down'));
    await eventually(async () => {
      const views = await Promise.all(paymentIds.map(downView));
      return views.every((v) => v?.events[0]?.state === 'retrying') ? true : undefined;
    }, 60_000, 'every first event retrying at the down subscriber');
    await start('down');

    await receivedAll('down');
    expectExactlyOnceInOrder('down');
    for (const paymentId of paymentIds) {
      const down = await downView(paymentId);
      expect(down?.events.map((e) => e.state)).toEqual(['delivered', 'delivered', 'delivered']);
      expect(down?.events[0]).toMatchObject({ statusCode: 200, attempts: expect.any(Number) });
      expect((down?.events[0] as { attempts: number }).attempts).toBeGreaterThan(1);
    }
  });

  it('a healthy receiver gets every event once, in order, on the first attempt, while others fail', async () => {
    await receivedAll('healthy');
    expectExactlyOnceInOrder('healthy');
    expect(receiver('healthy').received.every((e) => e.attempt === 1)).toBe(true);
    // The receiver verifies every request with verifyWebhook: none was refused.
    expect([...receiver('healthy').rejected.entries()]).toEqual([]);
    // Isolation: the unreachable subscriber has delivered nothing and is still retrying, and the
    // queue subscriber applied every event all the same.
    const applied = await projections(stack, [...new Set(committed.map((e) => e.aggregateId))]);
    expect([...applied.values()].map((p) => p.lastSequence)).toEqual(Array(PAYMENTS).fill(EVENTS_PER_PAYMENT));
    const unreachable = await eventually(async () => {
      const view = await deliveries(committed[0]?.aggregateId as string);
      const found = view.subscribers.find((s) => s.name === subscriberName('unreachable'));
      return found?.events[0]?.state === 'retrying' ? found : undefined;
    }, 30_000, 'a retrying first event at the unreachable subscriber');
    expect(unreachable.events[0]).toMatchObject({ sequence: 1, lastError: expect.any(String), nextAttemptAt: expect.any(String) });
    expect(unreachable.events.slice(1).map((e) => e.state)).toEqual(['pending', 'pending']);
    expect(receiver('healthy').received.length).toBe(committed.length);
  });

  it('a receiver failing the first 3 attempts gets each event once, in order, after waits that grow with the attempt', async () => {
    await receivedAll('flaky');
    expectExactlyOnceInOrder('flaky');
    const attempts = committed.map((e) => receiver('flaky').attemptsByEvent.get(e.eventId) ?? []);
    expect(attempts.map((a) => a.map((x) => x.status))).toEqual(committed.map(() => [503, 503, 503, 200]));
    const perRetry = [0, 1, 2].map((k) => attempts.map((a) => waits(a)[k] as number));
    // Full jitter in [1 s, cap]: caps 1, 2 and 4 s; the poller's 1 s long poll and a loaded machine add the rest.
    perRetry.forEach((delays, k) => {
      const cap = Math.min(FAST.backoff.maxSeconds, FAST.backoff.baseSeconds * 2 ** k);
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(0.9);
        expect(delay).toBeLessThanOrEqual(cap + 4);
      }
    });
    expect(mean(perRetry[2] as number[])).toBeGreaterThan(mean(perRetry[0] as number[]));
  });

  it('a receiver slower than the timeout is retried, and the event counts once', async () => {
    await receivedAll('slow');
    // Every first attempt outlives the 1 s timeout, so every event is sent at least twice.
    const attemptsOf = (event: EventEnvelope) => receiver('slow').attemptsByEvent.get(event.eventId)?.length ?? 0;
    await eventually(async () => (committed.every((event) => attemptsOf(event) >= 2) ? true : undefined), 60_000, 'a second attempt of every event');
    expectExactlyOnceInOrder('slow');
    const slow = await eventually(async () => {
      const view = await deliveries(committed[0]?.aggregateId as string);
      const found = view.subscribers.find((s) => s.name === subscriberName('slow'));
      return found?.events.every((e) => e.state === 'delivered') ? found : undefined;
    }, 60_000, 'every event delivered at the slow subscriber');
    expect(slow.events.every((e) => (e as { attempts: number }).attempts >= 2)).toBe(true);
  });

  it('a receiver answering 400 sends each event straight to the DLQ, once, with the response recorded', async () => {
    const dlq = `${subscriberName('rejecting')}-dlq.fifo`;
    await eventually(async () => ((await queueDepth(dlq)) >= committed.length ? true : undefined), 90_000, `${committed.length} messages in ${dlq}`);
    expect(receiver('rejecting').received).toEqual([]);
    for (const event of committed) expect(receiver('rejecting').attemptsByEvent.get(event.eventId)?.map((a) => a.status)).toEqual([400]);
    const dead = await dlqEnvelopes(dlq);
    expect(dead.map((e) => e.eventId).sort()).toEqual(committed.map((e) => e.eventId).sort());
    expect(sequencesByPayment(dead)).toEqual(sequencesByPayment(committed));
    const view = await deliveries(committed[0]?.aggregateId as string);
    const rejecting = view.subscribers.find((s) => s.name === subscriberName('rejecting'));
    expect(rejecting?.events.map((e) => e.state)).toEqual(['dead-lettered', 'dead-lettered', 'dead-lettered']);
    expect(rejecting?.events[0]).toMatchObject({ reason: 'rejected', lastStatusCode: 400, attempts: 1 });
  });

  it("a receiver down past the first event's last attempt: every event of the payment still gets its maxAttempts POSTs, then the DLQ with its reason", async () => {
    const hook = 'exhausted';
    const dlq = `${subscriberName(hook)}-dlq.fifo`;
    await eventually(async () => ((await queueDepth(dlq)) >= committed.length ? true : undefined), 90_000, `${committed.length} messages in ${dlq}`);
    // Every event, the later ones of each payment included, got exactly maxAttempts POSTs, all answered 503.
    for (const event of committed) {
      expect(receiver(hook).attemptsByEvent.get(event.eventId)?.map((a) => a.status), `${event.type} ${event.aggregateId}`).toEqual(
        Array(EXHAUSTED_MAX_ATTEMPTS).fill(503),
      );
    }
    expect(receiver(hook).received).toEqual([]);
    // Each payment's events were tried in order: event n + 1's first POST after event n's last one.
    for (const paymentId of new Set(committed.map((e) => e.aggregateId))) {
      const ofPayment = committed.filter((e) => e.aggregateId === paymentId).sort((a, b) => a.sequence - b.sequence);
      const spans = ofPayment.map((e) => receiver(hook).attemptsByEvent.get(e.eventId) as readonly ReceiverAttempt[]);
      for (let i = 1; i < spans.length; i += 1) expect(spans[i]?.[0]?.at).toBeGreaterThanOrEqual(spans[i - 1]?.at(-1)?.at as number);
    }
    // All of them reached the DLQ through the dispatcher (not SQS redrive): each carries its reason.
    const dead = await dlqMessages(dlq);
    expect(dead.map((m) => m.envelope.eventId).sort()).toEqual(committed.map((e) => e.eventId).sort());
    for (const message of dead) {
      expect(message.attributes).toMatchObject({
        deadLetterReason: 'attempts-exhausted',
        attempts: String(EXHAUSTED_MAX_ATTEMPTS),
        lastStatusCode: '503',
        subscriber: subscriberName(hook),
        eventId: message.envelope.eventId,
        sequence: String(message.envelope.sequence),
      });
    }
    expect(await queueDepth(`${subscriberName(hook)}.fifo`)).toBe(0);
    // GET /deliveries says so for every event.
    for (const paymentId of new Set(committed.map((e) => e.aggregateId))) {
      const view = (await deliveries(paymentId)).subscribers.find((s) => s.name === subscriberName(hook));
      expect(view?.events.map((e) => [e.sequence, e.state])).toEqual([
        [1, 'dead-lettered'],
        [2, 'dead-lettered'],
        [3, 'dead-lettered'],
      ]);
      for (const event of view?.events ?? []) {
        expect(event).toMatchObject({ reason: 'attempts-exhausted', attempts: EXHAUSTED_MAX_ATTEMPTS, lastStatusCode: 503 });
      }
    }
  });

  it('a receiver using the stock standardwebhooks package and the secret in endpoints.json verifies every request', async () => {
    await eventually(async () => (standardRequests.length >= committed.length ? true : undefined), 60_000, 'every event at the standard receiver');
    expect(standardRequests.filter((request) => !request.verified)).toEqual([]);
    expect(standardRequests.map((request) => request.eventId).sort()).toEqual(committed.map((e) => e.eventId).sort());
    // webhook-id is the event id, so a receiver deduplicates retries on it.
    for (const request of standardRequests) expect(request.webhookId).toBe(request.eventId);
  });

  it('a filtered subscriber gets only the event types it asked for', async () => {
    const approved = committed.filter((e) => e.type === 'payment.approved');
    await receivedAll('approved-only', approved.length);
    expectExactlyOnceInOrder('approved-only', approved);
    const view = await deliveries(committed[0]?.aggregateId as string);
    const filtered = view.subscribers.find((s) => s.name === subscriberName('approved-only'));
    expect(filtered?.events.map((e) => e.type)).toEqual(['payment.approved']);
  });

  it('GET /payments/{id}/deliveries shows the queue subscriber enqueued and each webhook state', async () => {
    const paymentId = committed[0]?.aggregateId as string;
    const view = await deliveries(paymentId);
    expect(view.paymentId).toBe(paymentId);
    expect(view.subscribers.map((s) => [s.name, s.kind])).toEqual(subscribers().map((s) => [s.name, s.delivery.kind]));
    const queue = view.subscribers.find((s) => s.name === 'payment-events');
    expect(queue?.events.map((e) => [e.sequence, e.state])).toEqual([
      [1, 'enqueued'],
      [2, 'enqueued'],
      [3, 'enqueued'],
    ]);
    const healthy = view.subscribers.find((s) => s.name === subscriberName('healthy'));
    expect(healthy?.events.map((e) => e.state)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(healthy?.events[0]).toMatchObject({ statusCode: 200, attempts: 1 });
    const missing = await callApi(stack, 'GET', '/payments/00000000-0000-4000-8000-000000000000/deliveries');
    expect(missing.status).toBe(404);
  });
});

async function deliveries(paymentId: string): Promise<PaymentDeliveriesView> {
  const response = await callApi(stack, 'GET', `/payments/${paymentId}/deliveries`);
  expect(response.status, response.text).toBe(200);
  return response.body as PaymentDeliveriesView;
}

async function queueDepth(queue: string): Promise<number> {
  const { Attributes = {} } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl(queue), AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0);
}

/** The messages of a FIFO DLQ (envelope and string message attributes), each deleted once read. */
async function dlqMessages(queue: string): Promise<Array<{ envelope: EventEnvelope; attributes: Record<string, string> }>> {
  const seen: Array<{ envelope: EventEnvelope; attributes: Record<string, string> }> = [];
  for (let round = 0; round < 30 && seen.length < committed.length; round += 1) {
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queueUrl(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    for (const message of Messages) {
      const attributes = Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue ?? '']),
      );
      seen.push({ envelope: JSON.parse(message.Body ?? '{}') as EventEnvelope, attributes });
      await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl(queue), ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return seen;
}

/** The envelopes in a FIFO DLQ in the order it hands them out (each deleted once read, so a group's next one comes). */
async function dlqEnvelopes(queue: string): Promise<EventEnvelope[]> {
  const seen: EventEnvelope[] = [];
  for (let round = 0; round < 30 && seen.length < committed.length; round += 1) {
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queueUrl(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const message of Messages) {
      seen.push(JSON.parse(message.Body ?? '{}') as EventEnvelope);
      await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl(queue), ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return seen;
}
