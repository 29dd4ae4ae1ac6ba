/**
 * One payment's trace on the real local stack, hop by hop: the caller's W3C `traceparent` on
 * POST /payments and POST /payments/{id}/confirm → the outbox items the API wrote (a span of the API's
 * own under the caller's trace) → the relay's SNS publish → a subscriber queue's raw message
 * attributes → the webhook dispatcher's request to an in-process receiver (tools/webhook-receiver),
 * under a span of the dispatcher's own. A second payment made without `traceparent` gets the trace of
 * the X-Amzn-Trace-Id header the local API Gateway adds. The runner's lines name the trace on every hop.
 *
 * The queue read here is the test's own FIFO queue, subscribed to the topic with raw delivery the way
 * a service outside the stack subscribes (examples/orders-service), so the example consumer keeps
 * consuming payment-events.fifo (its lines are checked too) and nothing races for the messages read.
 */
import { randomBytes } from 'node:crypto';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOX_TRACEPARENT_ATTRIBUTE, type EventEnvelope } from '../../lambdas/domain/event-envelope';
import type { Payment } from '../../lambdas/domain/payment';
import { parseTraceparent, TRACEPARENT, type TraceContext } from '../../lambdas/domain/trace-context';
import { formatWebhookSecret } from '../../lambdas/domain/webhook-signature';
import { createLogger } from '../../local/log';
import { startWebhookReceiver, type ReceivedEvent, type WebhookReceiver } from '../../tools/webhook-receiver/receiver';
import { callApi, NOTIFICATIONS_SUBSCRIBER, PAYMENT_EVENTS_TOPIC, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { eventually, newOrderId } from '../support/payment-api-client';

/** The checkout service calling us: its own trace and span, random per run. */
const CALLER: TraceContext = { traceId: randomBytes(16).toString('hex'), parentId: randomBytes(8).toString('hex'), sampled: true };
const CALLER_TRACEPARENT = `00-${CALLER.traceId}-${CALLER.parentId}-01`;
/** The test's own subscriber queue (per process, so parallel files never share it). */
const PROBE_QUEUE = `trace-probe-${process.pid}.fifo`;
/** created + approved, for each of the two payments. */
const EVENTS_PER_PAYMENT = 2;

let stack: LocalStack;
let receiver: WebhookReceiver;
let probeQueueUrl: string;
/** Every line of the runner (api, relay, consumer, webhook) and of the in-process receiver. */
const lines: string[] = [];
/** Epoch seconds just before the untraced payment's requests: an X-Ray trace id starts with its request's second. */
let untracedFromSeconds: number;
let untracedToSeconds: number;
let traced: string;
let untraced: string;

beforeAll(async () => {
  const secret = formatWebhookSecret(randomBytes(32));
  receiver = await startWebhookReceiver({ secret, log: (line) => lines.push(`receiver ${line}`) });
  stack = await startTestStack({
    consumers: true,
    webhookReceiver: false,
    logger: createLogger('local', { level: 'info', sink: (_level, line) => lines.push(line) }),
    webhookOverrides: { [NOTIFICATIONS_SUBSCRIBER]: { url: new URL('/payment-events', receiver.url).href, secret } },
  });
  probeQueueUrl = await subscribeProbeQueue();

  traced = await approvedPayment({ [TRACEPARENT]: CALLER_TRACEPARENT });
  untracedFromSeconds = Math.floor(Date.now() / 1000);
  untraced = await approvedPayment({});
  untracedToSeconds = Math.ceil(Date.now() / 1000);
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

/** Creates a card payment and confirms it, both requests with `headers`; its id. */
async function approvedPayment(headers: Record<string, string>): Promise<string> {
  const created = await callApi(stack, 'POST', '/payments', { body: { orderId: newOrderId(), amount: 15_000, currency: 'KRW', method: 'CARD' }, headers });
  expect(created.status, created.text).toBe(201);
  const { paymentId } = created.body as Payment;
  const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken: 'tok_visa' }, headers });
  expect(confirmed.status, confirmed.text).toBe(200);
  return paymentId;
}

/** A FIFO queue of the test's own, subscribed to the payment-events topic with raw delivery (as examples/orders-service does). */
async function subscribeProbeQueue(): Promise<string> {
  const { QueueUrl } = await stack.clients.sqs.send(
    new CreateQueueCommand({ QueueName: PROBE_QUEUE, Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' } }),
  );
  if (QueueUrl === undefined) throw new Error(`no URL for ${PROBE_QUEUE}`);
  const { Attributes } = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await stack.clients.sns.send(
    new SubscribeCommand({
      TopicArn: stack.topicArn(PAYMENT_EVENTS_TOPIC),
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return QueueUrl;
}

/** An Outbox item as the payment store writes it: the envelope's fields and the request's trace context. */
type OutboxItem = EventEnvelope & { readonly [OUTBOX_TRACEPARENT_ATTRIBUTE]?: string };

/** The Outbox items of a payment, in sequence order. */
async function outboxItems(paymentId: string): Promise<OutboxItem[]> {
  return (await stack.scanTable('Outbox'))
    .filter((item) => item.aggregateId === paymentId)
    .map((item) => item as unknown as OutboxItem)
    .sort((a, b) => a.sequence - b.sequence);
}

function traceOf(value: string | undefined, what: string): TraceContext {
  const trace = parseTraceparent(value);
  if (!trace) throw new Error(`${what}: no valid traceparent (${String(value)})`);
  return trace;
}

/** The probe queue's messages, in the order it hands them out (each batch deleted, so a group's next one comes). */
async function probeMessages(count: number, timeoutMs = 30_000): Promise<Message[]> {
  const deadline = Date.now() + timeoutMs;
  const messages: Message[] = [];
  while (messages.length < count && Date.now() < deadline) {
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: probeQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) continue;
    messages.push(...Messages);
    await stack.clients.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: probeQueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })) }),
    );
  }
  if (messages.length < count) throw new Error(`${messages.length} of ${count} messages on ${PROBE_QUEUE} after ${timeoutMs} ms`);
  return messages;
}

const bodyOf = (message: Message) => JSON.parse(message.Body ?? '{}') as EventEnvelope;

describe('trace context across every hop of the local stack', () => {
  it('the API writes the caller’s trace on the outbox items, under a span of its own per request', async () => {
    const items = await outboxItems(traced);
    expect(items.map((item) => [item.sequence, item.type])).toEqual([
      [1, 'payment.created'],
      [2, 'payment.approved'],
    ]);
    const traces = items.map((item) => traceOf(item[OUTBOX_TRACEPARENT_ATTRIBUTE], `${item.type} of ${traced}`));
    for (const trace of traces) {
      expect(trace.traceId).toBe(CALLER.traceId);
      expect(trace.parentId).not.toBe(CALLER.parentId);
      expect(trace.sampled).toBe(true);
    }
    // Two requests, two spans of the API's, both children of the caller's one span.
    expect(traces[0]?.parentId).not.toBe(traces[1]?.parentId);
  });

  it('without a caller traceparent, each request’s items carry the trace of the X-Amzn-Trace-Id header the local API Gateway added', async () => {
    const items = await outboxItems(untraced);
    expect(items.map((item) => item.sequence)).toEqual([1, 2]);
    const traces = items.map((item) => traceOf(item[OUTBOX_TRACEPARENT_ATTRIBUTE], `${item.type} of ${untraced}`));
    for (const trace of traces) {
      expect(trace.traceId).not.toBe(CALLER.traceId);
      // An X-Ray trace id is `1-<epoch seconds, 8 hex>-<24 hex>`: converted, its first 8 digits are the
      // request's second. A trace id made up at random would fall in this window about once in 10^8.
      const epochSeconds = Number.parseInt(trace.traceId.slice(0, 8), 16);
      expect(epochSeconds).toBeGreaterThanOrEqual(untracedFromSeconds);
      expect(epochSeconds).toBeLessThanOrEqual(untracedToSeconds);
    }
    // Create and confirm were two calls with no context of the caller's: API Gateway started a trace for each.
    expect(traces[0]?.traceId).not.toBe(traces[1]?.traceId);
  });

  it('every message on a subscriber queue carries its outbox item’s traceparent as a message attribute, in sequence order', async () => {
    const messages = await probeMessages(2 * EVENTS_PER_PAYMENT);
    for (const paymentId of [traced, untraced]) {
      const items = await outboxItems(paymentId);
      const ofPayment = messages.filter((message) => bodyOf(message).aggregateId === paymentId);
      expect(ofPayment.map((message) => bodyOf(message).sequence)).toEqual(items.map((item) => item.sequence));
      ofPayment.forEach((message, index) => {
        const attribute = message.MessageAttributes?.[TRACEPARENT];
        expect(attribute?.DataType).toBe('String');
        const item = items[index];
        const itemTrace = traceOf(item?.[OUTBOX_TRACEPARENT_ATTRIBUTE], `outbox item ${paymentId}#${item?.sequence}`);
        expect(traceOf(attribute?.StringValue, `message ${paymentId}#${bodyOf(message).sequence}`).traceId).toBe(itemTrace.traceId);
        // The relay starts no span: the stored context goes on as written.
        expect(attribute?.StringValue).toBe(item?.[OUTBOX_TRACEPARENT_ATTRIBUTE]);
      });
    }
    // The envelope itself does not carry the trace: it stays beside it.
    for (const message of messages) expect(message.Body).not.toContain(TRACEPARENT);
  });

  it('the webhook receiver gets each event with a traceparent header of the event’s trace, under the dispatcher’s own span', async () => {
    const received = await eventually(
      async () => (receiver.received.length >= 2 * EVENTS_PER_PAYMENT ? receiver.received : undefined),
      60_000,
      `${2 * EVENTS_PER_PAYMENT} events at the receiver`,
    );
    expect(receiver.orderViolations).toEqual([]);
    for (const paymentId of [traced, untraced]) {
      const items = await outboxItems(paymentId);
      const ofPayment: ReceivedEvent[] = received.filter((event) => event.aggregateId === paymentId);
      expect(ofPayment.map((event) => event.sequence)).toEqual(items.map((item) => item.sequence));
      ofPayment.forEach((event, index) => {
        const item = items[index];
        const itemTrace = traceOf(item?.[OUTBOX_TRACEPARENT_ATTRIBUTE], `outbox item ${paymentId}#${item?.sequence}`);
        const requestTrace = traceOf(event.traceparent, `webhook request ${paymentId}#${event.sequence}`);
        expect(requestTrace.traceId).toBe(itemTrace.traceId);
        // The message attribute's parent is the API's span; the request's is a span of the dispatcher's.
        expect(requestTrace.parentId).not.toBe(itemTrace.parentId);
        expect(requestTrace.parentId).not.toBe(CALLER.parentId);
      });
    }
  });

  it('the runner’s api, relay, consumer and webhook lines and the receiver’s lines name the caller’s trace', async () => {
    const trace = `trace=${CALLER.traceId}`;
    const expected: Array<[string, RegExp]> = [
      ['api create', new RegExp(` api +POST /payments 201 \\d+ ms ${trace}$`)],
      ['api confirm', new RegExp(` api +POST /payments/${traced}/confirm 200 \\d+ ms ${trace}$`)],
      ['relay created', new RegExp(` outbox-relay +payment\\.created ${traced} seq=1 ${trace} published$`)],
      ['relay approved', new RegExp(` outbox-relay +payment\\.approved ${traced} seq=2 ${trace} published$`)],
      ['consumer created', new RegExp(` example-consumer +payment\\.created ${traced} seq=1 ${trace} ok `)],
      ['consumer approved', new RegExp(` example-consumer +payment\\.approved ${traced} seq=2 ${trace} ok `)],
      ['webhook created', new RegExp(` webhook ${NOTIFICATIONS_SUBSCRIBER} +payment\\.created ${traced} seq=1 delivered .*${trace}$`)],
      ['webhook approved', new RegExp(` webhook ${NOTIFICATIONS_SUBSCRIBER} +payment\\.approved ${traced} seq=2 delivered .*${trace}$`)],
      ['receiver created', new RegExp(`^receiver .* 200 evt=\\S+ type=payment\\.created pay=${traced} seq=1 attempt=1 accepted ${trace}$`)],
      ['receiver approved', new RegExp(`^receiver .* 200 evt=\\S+ type=payment\\.approved pay=${traced} seq=2 attempt=1 accepted ${trace}$`)],
    ];
    const missing = () => expected.filter(([, pattern]) => !lines.some((line) => pattern.test(line))).map(([name]) => name);
    await eventually(async () => (missing().length === 0 ? true : undefined), 30_000, 'a line per hop').catch((error: unknown) => {
      throw new Error(`${(error as Error).message}: missing ${missing().join(', ')}; lines:\n${lines.join('\n')}`);
    });
    // The untraced payment's lines carry its own traces, never the caller's.
    const untracedLines = lines.filter((line) => line.includes(untraced));
    expect(untracedLines.length).toBeGreaterThan(0);
    expect(untracedLines.filter((line) => line.includes(trace))).toEqual([]);
  });
});
