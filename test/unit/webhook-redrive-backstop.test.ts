/**
 * The webhook queue's redrive backstop against AWS's FIFO receive semantics (issue 13, item 7).
 *
 * The real dispatcher handler (`webhookDispatcher`) runs against an in-memory model of one SQS FIFO
 * queue as AWS behaves and fauxqs does not: a receive returns up to `batchSize` messages of a group,
 * in order, when none of the group is in flight; every message returned counts a receive, also those
 * the dispatcher hands back without a POST because an earlier one of their group failed; a message
 * received once more than `maxReceiveCount` is moved to the DLQ by SQS itself, without the dispatcher's
 * reason attributes. Virtual time jumps to the next visible message, so backoffs cost nothing.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../lambdas/domain/delivery-state';
import {
  SQS_MAX_RECEIVE_COUNT,
  WEBHOOK_GROUP_DEPTH_BOUND,
  WEBHOOK_REDRIVE_MARGIN,
  webhookMaxReceiveCount,
  type WebhookAttemptResult,
} from '../../lambdas/domain/webhook-delivery-policy';
import { WEBHOOK_DEFAULTS, WEBHOOK_LIMITS } from '../../lambdas/domain/subscribers';
import { webhookDispatcher } from '../../lambdas/functions/webhook-dispatcher/webhook-dispatcher';
import type { DeliveryLog } from '../../lambdas/ports/delivery-log';
import type { DeadLetter, QueueMessageRef, SubscriberQueue } from '../../lambdas/ports/subscriber-queue';
import type { WebhookClient, WebhookRequest } from '../../lambdas/ports/webhook-client';
import { lambdaContext } from '../support/api-events';
import { sqsRecord } from '../support/sqs-events';
import { envelope } from '../support/stream-events';

const silent = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const context: Context = { ...lambdaContext, getRemainingTimeInMillis: () => 15 * 60_000 };
/** The queue's visibility timeout (what a failed message without a backoff of its own waits). */
const VISIBILITY_MS = 300_000;

interface ModelMessage {
  readonly record: SQSRecord;
  readonly eventId: string;
  receiveCount: number;
  visibleAt: number;
  inFlight: boolean;
  settled: 'deleted' | 'redriven-by-sqs' | undefined;
}

/** One SQS FIFO queue as AWS runs it, with the dispatcher's port on it. */
class AwsFifoQueueModel implements SubscriberQueue {
  now = 0;
  readonly messages: ModelMessage[] = [];
  readonly deadLetters: DeadLetter[] = [];

  constructor(private readonly maxReceiveCount: number) {}

  send(paymentId: string, sequence: number): void {
    const event = envelope(paymentId, sequence, { type: (['payment.created', 'payment.approved', 'payment.cancelled'] as const)[(sequence - 1) % 3] });
    const record = sqsRecord(event, { messageId: `m-${paymentId}-${sequence}` });
    this.messages.push({ record, eventId: event.eventId, receiveCount: 0, visibleAt: 0, inFlight: false, settled: undefined });
  }

  /** ReceiveMessage: per group with nothing in flight, its first visible messages in order, up to `max`. */
  receive(max: number): SQSRecord[] {
    const open = this.messages.filter((m) => m.settled === undefined);
    for (const m of open) if (m.inFlight && m.visibleAt <= this.now) m.inFlight = false;
    const blocked = new Set(open.filter((m) => m.inFlight).map((m) => m.record.attributes.MessageGroupId));
    const batch: SQSRecord[] = [];
    for (const m of open) {
      if (batch.length >= max) break;
      const group = m.record.attributes.MessageGroupId;
      if (blocked.has(group) || m.visibleAt > this.now) {
        blocked.add(group); // a group's later messages never come before an earlier invisible one
        continue;
      }
      if (m.receiveCount >= this.maxReceiveCount) {
        m.settled = 'redriven-by-sqs';
        continue;
      }
      m.receiveCount += 1;
      m.inFlight = true;
      m.visibleAt = this.now + VISIBILITY_MS;
      batch.push({ ...m.record, attributes: { ...m.record.attributes, ApproximateReceiveCount: String(m.receiveCount) } });
    }
    return batch;
  }

  /** What Lambda does with the batch response: deletes every message not reported as failed. */
  settle(batch: readonly SQSRecord[], failedIds: ReadonlySet<string>): void {
    for (const record of batch) if (!failedIds.has(record.messageId)) this.find(record.messageId).settled = 'deleted';
  }

  /** Whether any message is still in the queue. */
  get open(): boolean {
    return this.messages.some((m) => m.settled === undefined);
  }

  /** Jumps to the next moment a message becomes visible (nothing could be received now). */
  advance(): void {
    const later = this.messages.filter((m) => m.settled === undefined && m.visibleAt > this.now).map((m) => m.visibleAt);
    if (later.length === 0) throw new Error('nothing becomes visible: the model is stuck');
    this.now = Math.min(...later);
  }

  async retryAfter(message: QueueMessageRef, delaySeconds: number): Promise<void> {
    this.find(message.messageId).visibleAt = this.now + delaySeconds * 1000;
  }

  async release(messages: readonly QueueMessageRef[]): Promise<void> {
    for (const message of messages) this.find(message.messageId).visibleAt = this.now;
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    this.deadLetters.push(letter);
  }

  private find(messageId: string): ModelMessage {
    const found = this.messages.find((m) => m.record.messageId === messageId);
    if (!found) throw new Error(`no message ${messageId}`);
    return found;
  }
}

class MemoryLog implements DeliveryLog {
  readonly items = new Map<string, DeliveryRecord>();
  async get(subscriber: string, paymentId: string, sequence: number) {
    return this.items.get(`${subscriber}#${paymentId}#${sequence}`);
  }
  async put(record: DeliveryRecord) {
    this.items.set(`${record.subscriber}#${record.paymentId}#${record.sequence}`, record);
  }
  async listForPayment(paymentId: string) {
    return [...this.items.values()].filter((r) => r.paymentId === paymentId);
  }
}

/** A receiver that is down: 503 to every POST, counted per event. */
class DownReceiver implements WebhookClient {
  readonly posts = new Map<string, number>();
  async post(request: WebhookRequest): Promise<WebhookAttemptResult> {
    const { eventId } = JSON.parse(request.body) as { eventId: string };
    this.posts.set(eventId, (this.posts.get(eventId) ?? 0) + 1);
    return { kind: 'response', status: 503 };
  }
}

/** Runs the dispatcher on the model until every message left the queue. */
async function run(options: { maxAttempts: number; maxReceiveCount: number; batchSize: number; payments: number; eventsPerPayment: number }) {
  const queue = new AwsFifoQueueModel(options.maxReceiveCount);
  for (let p = 1; p <= options.payments; p += 1) {
    for (let s = 1; s <= options.eventsPerPayment; s += 1) queue.send(`pay-${p}`, s);
  }
  const client = new DownReceiver();
  const log = new MemoryLog();
  const handler = webhookDispatcher({
    deps: {
      settings: {
        subscriber: 'shop',
        url: 'https://shop.example.com/hooks',
        timeoutSeconds: 5,
        policy: { maxAttempts: options.maxAttempts, backoff: { baseSeconds: 2, maxSeconds: 300 } },
      },
      client,
      queue,
      log,
      clock: { now: () => new Date(Date.UTC(2026, 10, 25) + queue.now) },
      secret: async () => 'whsec_c2lnbmluZy1rZXk=',
      random: () => 0.5,
    },
    queue,
    logger: silent,
  });
  for (let rounds = 0; queue.open; rounds += 1) {
    if (rounds > 100_000) throw new Error('the simulation does not end');
    const batch = queue.receive(options.batchSize);
    if (batch.length === 0) {
      if (queue.open) queue.advance();
      continue;
    }
    const response = await handler({ Records: batch }, context);
    queue.settle(batch, new Set(response.batchItemFailures.map((f) => f.itemIdentifier)));
  }
  return { queue, client, log };
}

describe('the webhook redrive backstop on AWS FIFO semantics', () => {
  it('gives each of a payment’s three events its full maxAttempts POSTs and dead-letters each with its reason (default settings)', async () => {
    // GIVEN the default 8 attempts, a batch of 5, the backstop, and a receiver that stays down
    const { queue, client, log } = await run({
      maxAttempts: WEBHOOK_DEFAULTS.maxAttempts,
      maxReceiveCount: webhookMaxReceiveCount(WEBHOOK_DEFAULTS.maxAttempts),
      batchSize: 5,
      payments: 2,
      eventsPerPayment: 3,
    });

    // THEN every event got 8 POSTs, left the queue through the dispatcher, and its record says so
    expect([...client.posts.values()]).toEqual(Array(6).fill(8));
    expect(queue.messages.map((m) => m.settled)).toEqual(Array(6).fill('deleted'));
    expect(queue.deadLetters.map((l) => [l.event?.aggregateId, l.event?.sequence, l.details.reason, l.details.attempts])).toEqual(
      expect.arrayContaining([
        ['pay-1', 1, 'attempts-exhausted', 8],
        ['pay-1', 2, 'attempts-exhausted', 8],
        ['pay-1', 3, 'attempts-exhausted', 8],
        ['pay-2', 3, 'attempts-exhausted', 8],
      ]),
    );
    expect(queue.deadLetters).toHaveLength(6);
    expect([...log.items.values()].map((r) => [r.state, r.attempts])).toEqual(Array(6).fill(['dead-lettered', 8]));
    // The later events were received far more often than they were POSTed: the receive count is not the attempt count.
    const third = queue.messages.find((m) => m.record.messageId === 'm-pay-1-3');
    expect(third?.receiveCount).toBeGreaterThan(WEBHOOK_DEFAULTS.maxAttempts + 5);
  });

  it('shows what the old backstop (maxAttempts + 5) did: SQS moved later events to the DLQ after fewer POSTs, without a reason', async () => {
    const { queue, client } = await run({ maxAttempts: 8, maxReceiveCount: 8 + 5, batchSize: 5, payments: 1, eventsPerPayment: 3 });

    const third = queue.messages.find((m) => m.record.messageId === 'm-pay-1-3');
    expect(third?.settled).toBe('redriven-by-sqs');
    expect(client.posts.get(third?.eventId as string) ?? 0).toBeLessThan(8);
    expect(queue.deadLetters.map((l) => l.event?.sequence)).not.toContain(3);
  });

  it.each([1, 2, 8, 13, WEBHOOK_LIMITS.maxAttempts.max])(
    'holds with maxAttempts %i, a full batch of 10 and WEBHOOK_GROUP_DEPTH_BOUND messages in one group: no SQS redrive, every message maxAttempts POSTs',
    async (maxAttempts) => {
      const { queue, client } = await run({
        maxAttempts,
        maxReceiveCount: webhookMaxReceiveCount(maxAttempts),
        batchSize: 10,
        payments: 1,
        eventsPerPayment: WEBHOOK_GROUP_DEPTH_BOUND,
      });

      expect(queue.messages.filter((m) => m.settled !== 'deleted')).toEqual([]);
      expect([...client.posts.values()]).toEqual(Array(WEBHOOK_GROUP_DEPTH_BOUND).fill(maxAttempts));
      expect(queue.deadLetters.every((l) => l.details.reason === 'attempts-exhausted' && l.details.attempts === maxAttempts)).toBe(true);
      // The deepest message used at most depth x maxAttempts receives: the margin stays free for receives without a POST.
      expect(Math.max(...queue.messages.map((m) => m.receiveCount))).toBeLessThanOrEqual(WEBHOOK_GROUP_DEPTH_BOUND * maxAttempts);
    },
  );

  it('is min(1000, maxAttempts x 10 + 20): 100 for the default 8 attempts, 220 for the maximum of 20', () => {
    expect(webhookMaxReceiveCount(8)).toBe(8 * WEBHOOK_GROUP_DEPTH_BOUND + WEBHOOK_REDRIVE_MARGIN);
    expect(webhookMaxReceiveCount(WEBHOOK_DEFAULTS.maxAttempts)).toBe(100);
    expect(webhookMaxReceiveCount(WEBHOOK_LIMITS.maxAttempts.max)).toBe(220);
    expect(webhookMaxReceiveCount(500)).toBe(SQS_MAX_RECEIVE_COUNT);
  });
});
