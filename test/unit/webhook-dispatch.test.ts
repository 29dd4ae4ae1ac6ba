import { beforeEach, describe, expect, it } from 'vitest';
import { deliverySortKey, type DeliveryRecord } from '../../lambdas/domain/delivery-state';
import type { DeliveryLog } from '../../lambdas/ports/delivery-log';
import type { DeadLetter, QueueMessageRef, SubscriberQueue } from '../../lambdas/ports/subscriber-queue';
import type { WebhookClient, WebhookRequest } from '../../lambdas/ports/webhook-client';
import {
  deadLetterDeduplicationId,
  dispatchWebhook,
  type DispatchWebhookDeps,
  type SubscriberMessage,
} from '../../lambdas/use-cases/dispatch-webhook';
import type { WebhookAttemptResult } from '../../lambdas/domain/webhook-delivery-policy';
import { verifyWebhook } from '../../lambdas/domain/webhook-signature';
import { formatTraceparent, parseTraceparent, type TraceContext } from '../../lambdas/domain/trace-context';
import { envelope } from '../support/stream-events';

const SECRET = 'whsec_dispatch';
const START = new Date('2026-11-25T00:00:05.000Z');

class ScriptedClient implements WebhookClient {
  readonly requests: WebhookRequest[] = [];
  constructor(
    private readonly results: WebhookAttemptResult[],
    private readonly clock: SteppingClock,
    private readonly tookMs = 120,
  ) {}
  async post(request: WebhookRequest): Promise<WebhookAttemptResult> {
    this.requests.push(request);
    this.clock.advance(this.tookMs);
    const result = this.results.shift();
    if (!result) throw new Error('no scripted result left');
    return result;
  }
}

class SteppingClock {
  private current: number;
  constructor(start: Date) {
    this.current = start.getTime();
  }
  now = (): Date => new Date(this.current);
  advance(ms: number): void {
    this.current += ms;
  }
}

class RecordingQueue implements SubscriberQueue {
  readonly delays: Array<{ messageId: string; seconds: number }> = [];
  readonly released: QueueMessageRef[] = [];
  readonly deadLetters: DeadLetter[] = [];
  failVisibility = false;
  failDeadLetter = false;
  async retryAfter(message: QueueMessageRef, delaySeconds: number) {
    if (this.failVisibility) throw new Error('ReceiptHandleIsInvalid');
    this.delays.push({ messageId: message.messageId, seconds: delaySeconds });
  }
  async release(messages: readonly QueueMessageRef[]) {
    this.released.push(...messages);
  }
  async deadLetter(letter: DeadLetter) {
    if (this.failDeadLetter) throw new Error('DLQ unavailable');
    this.deadLetters.push(letter);
  }
}

class MemoryDeliveryLog implements DeliveryLog {
  readonly items = new Map<string, DeliveryRecord>();
  readonly history: DeliveryRecord[] = [];
  failPuts = false;
  failGets = false;
  async get(subscriber: string, paymentId: string, sequence: number) {
    if (this.failGets) throw new Error('ProvisionedThroughputExceededException');
    return this.items.get(`${paymentId}|${deliverySortKey(subscriber, sequence)}`);
  }
  async put(record: DeliveryRecord) {
    if (this.failPuts) throw new Error('table gone');
    this.history.push(record);
    this.items.set(`${record.paymentId}|${deliverySortKey(record.subscriber, record.sequence)}`, record);
  }
  async listForPayment(paymentId: string) {
    return [...this.items.values()].filter((record) => record.paymentId === paymentId);
  }
}

const event = envelope('pay-1', 2, { type: 'payment.approved', occurredAt: '2026-11-25T00:00:00.000Z' });
const message = (overrides: Partial<SubscriberMessage> = {}): SubscriberMessage => ({
  messageId: 'msg-1',
  receiptHandle: 'rh-1',
  body: JSON.stringify(event),
  messageGroupId: 'pay-1',
  receiveCount: 1,
  ...overrides,
});

let clock: SteppingClock;
let queue: RecordingQueue;
let log: MemoryDeliveryLog;

function depsWith(results: WebhookAttemptResult[], overrides: Partial<DispatchWebhookDeps> = {}) {
  const client = new ScriptedClient(results, clock);
  const deps: DispatchWebhookDeps = {
    settings: {
      subscriber: 'shop',
      url: 'https://shop.example.com/hooks',
      timeoutSeconds: 5,
      policy: { maxAttempts: 3, backoff: { baseSeconds: 2, maxSeconds: 300 } },
    },
    client,
    queue,
    log,
    clock: { now: clock.now },
    secret: async () => SECRET,
    random: () => 0.999_999,
    ...overrides,
  };
  return { deps, client };
}

beforeEach(() => {
  clock = new SteppingClock(START);
  queue = new RecordingQueue();
  log = new MemoryDeliveryLog();
});

describe('dispatchWebhook: delivered', () => {
  it('POSTs the message body unchanged with signed headers and the timeout, and records the delivery', async () => {
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }]);

    const outcome = await dispatchWebhook(message(), deps);

    expect(outcome).toMatchObject({ status: 'delivered', statusCode: 200, attempt: 1, durationMs: 120, latencyMs: 5120 });
    const request = client.requests[0];
    expect(request?.url).toBe('https://shop.example.com/hooks');
    expect(request?.body).toBe(JSON.stringify(event));
    expect(request?.timeoutMs).toBe(5000);
    expect(verifyWebhook({ rawBody: request?.body ?? '', headers: request?.headers ?? {}, secret: SECRET, now: START })).toMatchObject({
      ok: true,
      timestamp: Math.floor(START.getTime() / 1000),
      event: { eventId: event.eventId, sequence: 2, aggregateId: 'pay-1', type: 'payment.approved' },
    });
    expect(log.history).toEqual([
      {
        subscriber: 'shop',
        paymentId: 'pay-1',
        sequence: 2,
        eventId: event.eventId,
        eventType: 'payment.approved',
        occurredAt: event.occurredAt,
        messageId: 'msg-1',
        attempts: 1,
        updatedAt: '2026-11-25T00:00:05.120Z',
        state: 'delivered',
        statusCode: 200,
        deliveredAt: '2026-11-25T00:00:05.120Z',
        latencyMs: 5120,
      },
    ]);
    expect(queue.delays).toEqual([]);
    expect(queue.deadLetters).toEqual([]);
  });

  it('sends the body byte for byte even when it is not how JSON.stringify would write it', async () => {
    const body = JSON.stringify(event, null, 1);
    const { deps, client } = depsWith([{ kind: 'response', status: 204 }]);

    await dispatchWebhook(message({ body }), deps);

    expect(client.requests[0]?.body).toBe(body);
  });

  it('still reports the delivery when the record cannot be written (the message must not be resent for it)', async () => {
    log.failPuts = true;
    const { deps } = depsWith([{ kind: 'response', status: 200 }]);

    const outcome = await dispatchWebhook(message(), deps);

    expect(outcome.status).toBe('delivered');
    expect(outcome.warnings).toEqual([{ step: 'record delivery state', error: new Error('table gone') }]);
  });
});

describe('dispatchWebhook: retry', () => {
  it('sets the message visibility to the backoff delay and records retrying with the next attempt time', async () => {
    const { deps } = depsWith([{ kind: 'response', status: 503, bodyExcerpt: 'maintenance' }]);

    const outcome = await dispatchWebhook(message(), deps);

    expect(outcome).toMatchObject({
      status: 'retry-scheduled',
      attempt: 1,
      delaySeconds: 2,
      delaySource: 'backoff',
      statusCode: 503,
      error: 'HTTP 503: maintenance',
      nextAttemptAt: '2026-11-25T00:00:07.120Z',
    });
    expect(queue.delays).toEqual([{ messageId: 'msg-1', seconds: 2 }]);
    expect(log.history).toEqual([
      expect.objectContaining({
        state: 'retrying',
        attempts: 1,
        lastError: 'HTTP 503: maintenance',
        lastStatusCode: 503,
        nextAttemptAt: '2026-11-25T00:00:07.120Z',
      }),
    ]);
  });

  it('counts attempts of the same message from the delivery log, not from the receive count', async () => {
    const { deps } = depsWith([
      { kind: 'timeout', timeoutMs: 5000 },
      { kind: 'network-error', message: 'ECONNRESET' },
    ]);

    const first = await dispatchWebhook(message({ receiveCount: 4 }), deps);
    const second = await dispatchWebhook(message({ receiveCount: 9 }), deps);

    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    expect(queue.delays.map((d) => d.seconds)).toEqual([2, 4]);
    expect(log.items.size).toBe(1);
    expect([...log.items.values()][0]).toMatchObject({ state: 'retrying', attempts: 2, lastError: 'connection error: ECONNRESET' });
    expect([...log.items.values()][0]).not.toHaveProperty('lastStatusCode');
  });

  it('starts again at attempt 1 for another message of the same event (a redrive or replay)', async () => {
    const { deps } = depsWith([
      { kind: 'response', status: 500 },
      { kind: 'response', status: 500 },
    ]);
    await dispatchWebhook(message({ messageId: 'original' }), deps);

    const outcome = await dispatchWebhook(message({ messageId: 'replayed' }), deps);

    expect(outcome.attempt).toBe(1);
  });

  it('honours Retry-After', async () => {
    const { deps } = depsWith([{ kind: 'response', status: 429, retryAfter: '30' }]);

    const outcome = await dispatchWebhook(message(), deps);

    expect(outcome).toMatchObject({ status: 'retry-scheduled', delaySeconds: 30, delaySource: 'retry-after' });
    expect(queue.delays).toEqual([{ messageId: 'msg-1', seconds: 30 }]);
  });

  it('still schedules the retry (by the queue visibility timeout) when the visibility change fails', async () => {
    queue.failVisibility = true;
    const { deps } = depsWith([{ kind: 'response', status: 502 }]);

    const outcome = await dispatchWebhook(message(), deps);

    expect(outcome.status).toBe('retry-scheduled');
    expect(outcome.warnings).toEqual([{ step: 'change message visibility', error: new Error('ReceiptHandleIsInvalid') }]);
    expect(log.history[0]).toMatchObject({ state: 'retrying' });
  });
});

describe('dispatchWebhook: dead letter', () => {
  it('dead-letters a 400 at once: DLQ copy with the body unchanged, same group, reason attributes; recorded', async () => {
    const { deps } = depsWith([{ kind: 'response', status: 400, bodyExcerpt: 'unknown order' }]);

    const outcome = await dispatchWebhook(message(), deps);

    expect(outcome).toMatchObject({ status: 'dead-lettered', reason: 'rejected', statusCode: 400, attempt: 1 });
    expect(queue.deadLetters).toEqual([
      {
        body: JSON.stringify(event),
        messageGroupId: 'pay-1',
        deduplicationId: `${event.eventId}:dead:1`,
        event: { eventId: event.eventId, type: 'payment.approved', sequence: 2, aggregateId: 'pay-1' },
        details: {
          reason: 'rejected',
          attempts: 1,
          lastError: 'HTTP 400: unknown order',
          lastStatusCode: 400,
          subscriber: 'shop',
          deadLetteredAt: '2026-11-25T00:00:05.120Z',
        },
      },
    ]);
    expect(log.history).toEqual([
      expect.objectContaining({
        state: 'dead-lettered',
        reason: 'rejected',
        attempts: 1,
        lastError: 'HTTP 400: unknown order',
        lastStatusCode: 400,
        deadLetteredAt: '2026-11-25T00:00:05.120Z',
      }),
    ]);
    expect(queue.delays).toEqual([]);
  });

  it('dead-letters after the last attempt, with the attempt in the deduplication id', async () => {
    const { deps } = depsWith([
      { kind: 'response', status: 503 },
      { kind: 'response', status: 503 },
      { kind: 'timeout', timeoutMs: 5000 },
    ]);

    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await dispatchWebhook(message(), deps));

    expect(outcomes.map((o) => o.status)).toEqual(['retry-scheduled', 'retry-scheduled', 'dead-lettered']);
    expect(queue.deadLetters[0]).toMatchObject({
      deduplicationId: `${event.eventId}:dead:3`,
      details: { reason: 'attempts-exhausted', attempts: 3, lastError: 'timeout after 5000 ms' },
    });
    expect(queue.deadLetters[0]?.details).not.toHaveProperty('lastStatusCode');
  });

  it('dead-letters a message that is not a payment event without a request', async () => {
    const { deps, client } = depsWith([]);

    const outcome = await dispatchWebhook(message({ body: '{"hello":1}', messageId: 'm-bad', receiveCount: 2 }), deps);

    expect(outcome).toMatchObject({ status: 'dead-lettered', reason: 'invalid-message', attempt: 0 });
    expect(client.requests).toEqual([]);
    expect(queue.deadLetters).toEqual([
      expect.objectContaining({
        body: '{"hello":1}',
        deduplicationId: 'm-bad:dead:2',
        details: expect.objectContaining({ reason: 'invalid-message', attempts: 0 }),
      }),
    ]);
    expect(queue.deadLetters[0]).not.toHaveProperty('event');
    expect(log.history).toEqual([]);
  });

  it('fails the message when the DLQ refuses the copy (the original stays in the queue)', async () => {
    queue.failDeadLetter = true;
    const { deps } = depsWith([{ kind: 'response', status: 410 }]);

    await expect(dispatchWebhook(message(), deps)).rejects.toThrow('DLQ unavailable');
    expect(log.history).toEqual([]);
  });
});

describe('dispatchWebhook: redelivery of a settled message', () => {
  it('acknowledges without a request a message already delivered (its deletion failed)', async () => {
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }]);
    await dispatchWebhook(message(), deps);

    const again = await dispatchWebhook(message({ receiveCount: 2 }), deps);

    expect(again).toMatchObject({ status: 'already-settled', state: 'delivered', attempt: 1 });
    expect(client.requests).toHaveLength(1);
  });

  it('acknowledges without a request a message already dead-lettered', async () => {
    const { deps, client } = depsWith([{ kind: 'response', status: 404 }]);
    await dispatchWebhook(message(), deps);

    const again = await dispatchWebhook(message(), deps);

    expect(again).toMatchObject({ status: 'already-settled', state: 'dead-lettered' });
    expect(client.requests).toHaveLength(1);
    expect(queue.deadLetters).toHaveLength(1);
  });

  it('delivers again another message of an event delivered before (a deliberate replay)', async () => {
    const { deps, client } = depsWith([
      { kind: 'response', status: 200 },
      { kind: 'response', status: 200 },
    ]);
    await dispatchWebhook(message({ messageId: 'first' }), deps);

    const replay = await dispatchWebhook(message({ messageId: 'replay' }), deps);

    expect(replay.status).toBe('delivered');
    expect(client.requests).toHaveLength(2);
  });
});

describe('dispatchWebhook: before the request', () => {
  it('fails the message without a request when the delivery log cannot be read', async () => {
    log.failGets = true;
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }]);

    await expect(dispatchWebhook(message(), deps)).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(client.requests).toEqual([]);
  });

  it('fails the message without a request when the secret cannot be read', async () => {
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }], {
      secret: async () => {
        throw new Error('AccessDeniedException');
      },
    });

    await expect(dispatchWebhook(message(), deps)).rejects.toThrow('AccessDeniedException');
    expect(client.requests).toEqual([]);
  });
});

describe('deadLetterDeduplicationId', () => {
  it('is <id>:dead:<attempt>', () => {
    expect(deadLetterDeduplicationId('0b7f6c1e-4a8e-4c1b-9d2b-1f0e2d3c4b5a', 8)).toBe('0b7f6c1e-4a8e-4c1b-9d2b-1f0e2d3c4b5a:dead:8');
  });

  it('hashes an id that would not fit the 128 printable characters of a FIFO deduplication id', () => {
    const id = deadLetterDeduplicationId('x'.repeat(130), 2);

    expect(id).toMatch(/^[0-9a-f]{64}:dead:2$/);
    expect(deadLetterDeduplicationId('with space', 1)).toMatch(/^[0-9a-f]{64}:dead:1$/);
  });
});

describe('dispatchWebhook: the trace context of the message', () => {
  const trace: TraceContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', sampled: true };
  const DISPATCH_SPAN_ID = 'b7ad6b7169203331';
  const headerNames = (request: WebhookRequest | undefined) => Object.keys(request?.headers ?? {}).map((name) => name.toLowerCase());

  it('sends a traceparent header continuing the message’s trace as a new span of the dispatcher', async () => {
    let spans = 0;
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }], {
      newSpanId: () => {
        spans += 1;
        return DISPATCH_SPAN_ID;
      },
    });

    await dispatchWebhook(message({ trace }), deps);

    const header = client.requests[0]?.headers.traceparent;
    expect(header).toBe(`00-${trace.traceId}-${DISPATCH_SPAN_ID}-01`);
    expect(parseTraceparent(header)).toEqual({ traceId: trace.traceId, parentId: DISPATCH_SPAN_ID, sampled: true });
    expect(spans).toBe(1);
  });

  it('keeps the caller’s sampling decision in the header', async () => {
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }], { newSpanId: () => DISPATCH_SPAN_ID });

    await dispatchWebhook(message({ trace: { ...trace, sampled: false } }), deps);

    expect(client.requests[0]?.headers.traceparent).toBe(`00-${trace.traceId}-${DISPATCH_SPAN_ID}-00`);
  });

  it('sends the message’s own traceparent when it has no span ids of its own', async () => {
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }]);

    await dispatchWebhook(message({ trace }), deps);

    expect(client.requests[0]?.headers.traceparent).toBe(formatTraceparent(trace));
  });

  it('sends no traceparent header for a message without a trace', async () => {
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }], { newSpanId: () => DISPATCH_SPAN_ID });

    await dispatchWebhook(message(), deps);

    expect(client.requests).toHaveLength(1);
    expect(headerNames(client.requests[0])).not.toContain('traceparent');
  });

  it('keeps the signature headers valid beside the traceparent', async () => {
    const { deps, client } = depsWith([{ kind: 'response', status: 200 }], { newSpanId: () => DISPATCH_SPAN_ID });

    await dispatchWebhook(message({ trace }), deps);

    const request = client.requests[0];
    expect(verifyWebhook({ rawBody: request?.body ?? '', headers: request?.headers ?? {}, secret: SECRET, now: START })).toMatchObject({ ok: true });
  });

  it('sends a new span on each attempt of the same message, all in the message’s trace', async () => {
    const spanIds = ['1111111111111111', '2222222222222222'];
    const { deps, client } = depsWith(
      [
        { kind: 'response', status: 503 },
        { kind: 'response', status: 200 },
      ],
      { newSpanId: () => spanIds.shift() ?? 'ffffffffffffffff' },
    );

    await dispatchWebhook(message({ trace }), deps);
    await dispatchWebhook(message({ trace, receiveCount: 2 }), deps);

    expect(client.requests.map((request) => parseTraceparent(request.headers.traceparent))).toEqual([
      { traceId: trace.traceId, parentId: '1111111111111111', sampled: true },
      { traceId: trace.traceId, parentId: '2222222222222222', sampled: true },
    ]);
  });

  it('keeps the message’s traceparent (not the request’s span) on the dead letter', async () => {
    const { deps } = depsWith([{ kind: 'response', status: 400 }], { newSpanId: () => DISPATCH_SPAN_ID });

    await dispatchWebhook(message({ trace }), deps);

    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deadLetters[0]?.event).toEqual({ eventId: event.eventId, type: 'payment.approved', sequence: 2, aggregateId: 'pay-1' });
    expect(queue.deadLetters[0]?.traceparent).toBe(formatTraceparent(trace));
  });

  it('puts no traceparent on the dead letter of a message without a trace', async () => {
    const { deps } = depsWith([{ kind: 'response', status: 400 }], { newSpanId: () => DISPATCH_SPAN_ID });

    await dispatchWebhook(message(), deps);

    expect(queue.deadLetters[0]).not.toHaveProperty('traceparent');
  });
});
