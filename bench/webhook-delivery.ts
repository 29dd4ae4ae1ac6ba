/**
 * Delivery latency per subscriber on the local stack: one queue subscriber (the example consumer)
 * and two webhook subscribers, one healthy receiver and one that answers 503 to a share of the
 * requests. Latency is the event's `occurredAt` → the consumer's `processedAt` (queue) or the
 * receiver taking the event in (webhook); retries of the flaky receiver follow the subscriber's
 * default backoff. Numbers, never assertions.
 *
 * Handlers read their configuration once per process, so this runs in its own process (bench/run.ts
 * starts `tsx bench/webhook-delivery.ts <payments> <concurrency> <flakyFailRate>`; it prints its
 * results as one JSON line).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findFreePort } from '../local/emulators/ports';
import { DEFAULT_STATE_DIR } from '../local/paths';
import { scanTable } from '../local/scan-table';
import { startLocalStack } from '../local/stack';
import { loadTemplate } from '../local/template/template-cache';
import { startWebhookReceiver, type WebhookReceiver } from '../tools/webhook-receiver/receiver';
import { timedCall } from './end-to-end';
import { round, summarize } from './stats';
import { prepareRunnerProcess } from '../local/process/runner-process';

export interface WebhookBenchOptions {
  readonly payments: number;
  readonly concurrency: number;
  /** Share of the flaky receiver's answers that are 503. */
  readonly flakyFailRate: number;
}

const HEALTHY = 'bench-healthy-hook';
const FLAKY = 'bench-flaky-hook';

export async function runWebhookDelivery(options: WebhookBenchOptions) {
  const ports = { [HEALTHY]: await findFreePort(), [FLAKY]: await findFreePort() };
  const subscribers = [
    { name: 'payment-events', delivery: { kind: 'queue' } },
    { name: HEALTHY, delivery: { kind: 'webhook', url: `http://127.0.0.1:${ports[HEALTHY]}/payment-events` } },
    { name: FLAKY, delivery: { kind: 'webhook', url: `http://127.0.0.1:${ports[FLAKY]}/payment-events` } },
  ];
  const { template } = await loadTemplate(DEFAULT_STATE_DIR, { stackProps: { subscribers } });
  const stack = await startLocalStack({
    apiPort: 0,
    dynamodbPort: 0,
    sqsPort: 0,
    // Retries are the point of the flaky receiver: keep its WARN lines out of the output.
    logLevel: 'error',
    handlerLogLevel: 'ERROR',
    webhookReceiver: false,
    template,
    stateDir: join('.local', 'bench-webhooks'),
  });
  const receivers: Record<string, WebhookReceiver> = {};
  try {
    const secret = (name: string) => {
      const value = stack.endpoints.webhookSecrets[name];
      if (value === undefined) throw new Error(`no webhook secret for ${name}`);
      return value;
    };
    receivers[HEALTHY] = await startWebhookReceiver({ secret: secret(HEALTHY), port: ports[HEALTHY] });
    receivers[FLAKY] = await startWebhookReceiver({ secret: secret(FLAKY), port: ports[FLAKY], failRate: options.flakyFailRate, seed: 7 });

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
      inbox = (await scanTable(stack, 'Inbox')).filter((item) => String(item.pk).startsWith('event#'));
      if (inbox.length >= expected && Object.values(receivers).every((r) => r.received.length >= expected)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const outbox = await scanTable(stack, 'Outbox');
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
      [`${HEALTHY} (webhook, healthy)`]: webhook(receivers[HEALTHY]),
      [`${FLAKY} (webhook, ${Math.round(options.flakyFailRate * 100)} % 503)`]: webhook(receivers[FLAKY]),
    };
  } finally {
    await Promise.all(Object.values(receivers).map((receiver) => receiver.close()));
    await stack.stop();
  }
}


if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  prepareRunnerProcess();
  const [payments = '100', concurrency = '8', flakyFailRate = '0.3'] = process.argv.slice(2);
  const results = await runWebhookDelivery({ payments: Number(payments), concurrency: Number(concurrency), flakyFailRate: Number(flakyFailRate) });
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
