/**
 * The whole pipeline on the local stack: payments through the HTTP API, the relay, SQS FIFO and
 * the example consumer. Measures API latency and throughput, commit-to-applied latency (event
 * `occurredAt` → the consumer's `processedAt`) and the memory of each process.
 */
import { startLocalStack, type LocalStack } from '../local/stack';
import { join } from 'node:path';
import { round, summarize, treeRssMiB } from './stats';

/** Calls the stack's API, records the latency, and throws on a non-2xx answer. */
export async function timedCall(stack: LocalStack, method: string, path: string, body: unknown, latencies: number[]) {
  const started = performance.now();
  const response = await fetch(`${stack.apiUrl}${path}`, { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  const json = (await response.json()) as { paymentId: string };
  latencies.push(performance.now() - started);
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

export async function runEndToEnd(options: { payments: number; concurrency: number }) {
  const stack = await startLocalStack({ apiPort: 0, dynamodbPort: 0, sqsPort: 0, logLevel: 'warn', handlerLogLevel: 'ERROR', stateDir: join('.local', 'bench') });
  try {
    const apiLatencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.payments) {
          const i = next++;
          const payment = await timedCall(stack, 'POST', '/payments', { orderId: `bench-${i}`, amount: 1000 + i, currency: 'KRW', method: 'CARD' }, apiLatencies);
          await timedCall(stack, 'POST', `/payments/${payment.paymentId}/confirm`, { cardToken: 'tok_visa' }, apiLatencies);
        }
      }),
    );
    const apiSeconds = (performance.now() - started) / 1000;
    const expectedEvents = options.payments * 2;

    let inbox: Record<string, unknown>[] = [];
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      inbox = (await stack.scanTable('Inbox')).filter((item) => String(item.pk).startsWith('event#'));
      if (inbox.length >= expectedEvents) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const drainedSeconds = (performance.now() - started) / 1000;
    const outbox = await stack.scanTable('Outbox');
    const occurredAt = new Map(outbox.map((item) => [String(item.eventId), Date.parse(String(item.occurredAt))]));
    const endToEnd = inbox.map((item) => Date.parse(String(item.processedAt)) - (occurredAt.get(String(item.eventId)) ?? Number.NaN));
    const relayLag = outbox.filter((i) => i.publishedAt).map((i) => Date.parse(String(i.publishedAt)) - Date.parse(String(i.occurredAt)));

    const round1 = (s: ReturnType<typeof summarize>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)]));
    return {
      payments: options.payments,
      concurrency: options.concurrency,
      apiRequests: apiLatencies.length,
      apiRequestsPerSecond: round(apiLatencies.length / apiSeconds),
      apiLatencyMs: round1(summarize(apiLatencies)),
      eventsCommitted: outbox.length,
      eventsApplied: inbox.length,
      commitToPublishedMs: round1(summarize(relayLag)),
      commitToAppliedMs: round1(summarize(endToEnd)),
      eventsAppliedPerSecond: round(inbox.length / drainedSeconds),
      memoryMiB: {
        runnerNodeProcess: round(process.memoryUsage().rss / 1024 / 1024),
        dynamodbLocal: round(treeRssMiB(stack.pids.dynamodb)),
        sqsEmulator: round(treeRssMiB(stack.pids.sqs)),
      },
      relayStats: { ...stack.pollers.stream('outbox-relay').stats },
    };
  } finally {
    await stack.stop();
  }
}
