/**
 * Delivery latency per subscriber on the local stack: one queue subscriber (the example consumer)
 * and two webhook subscribers, one healthy receiver and one that answers 503 to a share of the
 * requests. Latency is the event's `occurredAt` → the consumer's `processedAt` (queue) or the
 * receiver taking the event in (webhook); retries of the flaky receiver follow the subscriber's
 * default backoff. Numbers, never assertions.
 *
 * Runs in the caller's process (bench/run.ts calls `runWebhookDelivery`): the stack builds each
 * function from its own environment, so it sits next to the other benchmarks' stacks, with its own
 * state directory and free ports. The three subscribers share one stack, so they are measured on
 * the same committed events.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_STATE_DIR } from '../local/paths';
import { startLocalStack, type LocalStack } from '../local/stack';
import { loadTemplate } from '../local/template/template-cache';
import { startWebhookReceiver, type WebhookReceiver } from '../tools/webhook-receiver/receiver';
import { timedCall } from './end-to-end';
import { round, summarize } from './stats';

export interface WebhookBenchOptions {
  readonly payments: number;
  readonly concurrency: number;
  /** Share of the flaky receiver's answers that are 503. */
  readonly flakyFailRate: number;
}

const HEALTHY = 'bench-healthy-hook';
const FLAKY = 'bench-flaky-hook';

/**
 * Stands in for the template's webhook URLs, which the stack replaces with the receivers' (webhookOverrides):
 * fixed, so the template of these subscribers is synthesized once and then cached.
 */
const TEMPLATE_URL = 'http://127.0.0.1:9/payment-events';

export async function runWebhookDelivery(options: WebhookBenchOptions) {
  const subscribers = [
    { name: 'payment-events', delivery: { kind: 'queue' } },
    { name: HEALTHY, delivery: { kind: 'webhook', url: TEMPLATE_URL } },
    { name: FLAKY, delivery: { kind: 'webhook', url: TEMPLATE_URL } },
  ];
  const { template } = await loadTemplate(DEFAULT_STATE_DIR, { stackProps: { subscribers } });
  // The receivers listen first, on free ports (port 0), with signing keys of this run that their dispatchers
  // are given instead of the stack's random ones: no port is picked ahead and bound later.
  const healthySecret = randomBytes(32).toString('hex');
  const flakySecret = randomBytes(32).toString('hex');
  const started: { healthy?: WebhookReceiver; flaky?: WebhookReceiver; stack?: LocalStack } = {};
  try {
    const healthy = (started.healthy = await startWebhookReceiver({ secret: healthySecret, port: 0 }));
    const flaky = (started.flaky = await startWebhookReceiver({ secret: flakySecret, port: 0, failRate: options.flakyFailRate, seed: 7 }));
    const receivers = [healthy, flaky];
    const override = (receiver: WebhookReceiver, secret: string) => ({
      url: new URL('/payment-events', receiver.url).href,
      secret,
    });
    const stack = (started.stack = await startLocalStack({
      apiPort: 0,
      dynamodbPort: 0,
      sqsPort: 0,
      // Retries are the point of the flaky receiver: keep its WARN lines out of the output.
      logLevel: 'error',
      handlerLogLevel: 'ERROR',
      webhookReceiver: false,
      webhookOverrides: { [HEALTHY]: override(healthy, healthySecret), [FLAKY]: override(flaky, flakySecret) },
      template,
      stateDir: join('.local', 'bench-webhooks'),
    }));

    const apiLatencies: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.payments) {
          const i = next++;
          const created = await timedCall(stack, 'POST', '/payments', { orderId: `bench-hook-${i}`, amount: 1000 + i, currency: 'KRW', method: 'CARD' }, apiLatencies);
          await timedCall(stack, 'POST', `/payments/${created.paymentId}/confirm`, { cardToken: 'tok_visa' }, apiLatencies);
        }
      }),
    );
    const expected = options.payments * 2;
    const deadline = Date.now() + 600_000;
    let inbox: Record<string, unknown>[] = [];
    while (Date.now() < deadline) {
      inbox = (await stack.scanTable('Inbox')).filter((item) => String(item.pk).startsWith('event#'));
      if (inbox.length >= expected && receivers.every((r) => r.received.length >= expected)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const outbox = await stack.scanTable('Outbox');
    const occurredAt = new Map(outbox.map((item) => [String(item.eventId), Date.parse(String(item.occurredAt))]));
    const since = (eventId: string, at: number) => at - (occurredAt.get(eventId) ?? Number.NaN);
    const latency = (values: number[]) => Object.fromEntries(Object.entries(summarize(values)).map(([k, v]) => [k, round(v)]));
    const webhook = (receiver: WebhookReceiver) => {
      const requests = [...receiver.attemptsByEvent.values()].reduce((sum, attempts) => sum + attempts.length, 0);
      return {
        eventsDelivered: receiver.received.length,
        requests,
        retriedEvents: receiver.received.filter((event) => event.attempt > 1).length,
        orderViolations: receiver.orderViolations.length,
        commitToDeliveredMs: latency(receiver.received.map((event) => since(event.eventId, event.receivedAt))),
      };
    };
    return {
      payments: options.payments,
      apiLatencyMs: latency(apiLatencies),
      eventsCommitted: outbox.length,
      'payment-events (queue, example consumer)': {
        eventsApplied: inbox.length,
        commitToAppliedMs: latency(inbox.map((item) => since(String(item.eventId), Date.parse(String(item.processedAt))))),
      },
      [`${HEALTHY} (webhook, healthy)`]: webhook(healthy),
      [`${FLAKY} (webhook, ${Math.round(options.flakyFailRate * 100)} % 503)`]: webhook(flaky),
    };
  } finally {
    await started.stack?.stop();
    await Promise.all([started.healthy?.close(), started.flaky?.close()]);
  }
}

