/**
 * The whole pipeline on the local stack: payments through the HTTP API, the relay, SQS FIFO and
 * the example consumer. Measures API latency and throughput, commit-to-applied latency (event
 * `occurredAt` → the consumer's `processedAt`) and the memory of each process.
 */
import { startLocalStack, type LocalStack } from '../local/stack';
import { join } from 'node:path';
import { AwsRequestCounter, type PartyRequests } from './aws-request-counter';
import type { FunctionUsage } from './cost';
import { measureRawTransactWrites, RAW_PAYMENT_PREFIX } from './raw-transact-writes';
import { round, summarize, treeRssMiB } from './stats';

/** The party the runner's pollers' requests are counted under (what Lambda's event source mappings do on AWS). */
export const EVENT_SOURCE_MAPPINGS = 'event-source-mappings';

/** Counts every invocation of every function of the stack and its wall time, by function short name. */
function timeInvocations(stack: LocalStack): Map<string, { invocations: number; totalMs: number; memoryMb: number }> {
  const usage = new Map<string, { invocations: number; totalMs: number; memoryMb: number }>();
  for (const fn of stack.functions.values()) {
    const name = fn.spec.shortName;
    const invoke = fn.invoke.bind(fn);
    const entry = usage.get(name) ?? { invocations: 0, totalMs: 0, memoryMb: fn.spec.memoryMb };
    usage.set(name, entry);
    // The API server and the pollers call `fn.invoke` on the object at each invocation.
    Object.assign(fn, {
      invoke: async (event: unknown) => {
        const started = performance.now();
        try {
          return await invoke(event);
        } finally {
          entry.invocations++;
          entry.totalMs += performance.now() - started;
        }
      },
    });
  }
  return usage;
}

/** Requests per committed event by `service:Operation`, summed over the parties named. */
function perEvent(parties: readonly PartyRequests[], events: number, keep: (key: string) => boolean = () => true): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const party of parties) {
    for (const [key, count] of Object.entries(party.requests)) if (keep(key)) totals[key] = (totals[key] ?? 0) + count;
  }
  return Object.fromEntries(Object.entries(totals).sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => [key, round(count / events, 3)]));
}

/** The functions the benchmark's API load calls. */
const API_FUNCTIONS: ReadonlySet<string> = new Set(['create-payment', 'confirm-payment']);

/** DynamoDB requests counted so far, summed over the parties whose name `keep` accepts. */
function dynamoDbRequests(parties: ReadonlyMap<string, PartyRequests>, keep: (name: string) => boolean): number {
  let total = 0;
  for (const [name, party] of parties) {
    if (!keep(name)) continue;
    for (const [key, count] of Object.entries(party.requests)) if (key.startsWith('dynamodb:')) total += count;
  }
  return total;
}

const sum = (values: Record<string, number>) => round(Object.values(values).reduce((total, value) => total + value, 0), 3);

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
  const counter = new AwsRequestCounter();
  const stack = await startLocalStack({
    apiPort: 0,
    dynamodbPort: 0,
    sqsPort: 0,
    logLevel: 'warn',
    handlerLogLevel: 'ERROR',
    stateDir: join('.local', 'bench'),
    functionClients: counter.functionClients,
  });
  try {
    counter.instrument(EVENT_SOURCE_MAPPINGS, 'sqs', stack.clients.sqs);
    counter.instrument(EVENT_SOURCE_MAPPINGS, 'dynamodbstreams', stack.clients.streams);
    const invocations = timeInvocations(stack);
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
    // What DynamoDB Local served while the API ran: the API functions' requests, and every handler's.
    const dynamoDbDuringApi = {
      api: dynamoDbRequests(counter.snapshot(), (name) => API_FUNCTIONS.has(name)),
      pipeline: dynamoDbRequests(counter.snapshot(), (name) => name !== EVENT_SOURCE_MAPPINGS),
    };
    const expectedEvents = options.payments * 2;
    // The ceiling, right after the API load, while the relay and the subscribers still work through its events.
    const raw = await measureRawTransactWrites(
      stack.clients.documents,
      { payments: stack.tableName('Payments'), outbox: stack.tableName('Outbox') },
      { transactions: apiLatencies.length, concurrency: options.concurrency },
    );

    let inbox: Record<string, unknown>[] = [];
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      inbox = (await stack.scanTable('Inbox')).filter((item) => String(item.pk).startsWith('event#'));
      if (inbox.length >= expectedEvents) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const drainedSeconds = (performance.now() - started) / 1000;
    const outbox = (await stack.scanTable('Outbox')).filter((item) => !String(item.aggregateId).startsWith(RAW_PAYMENT_PREFIX));
    const occurredAt = new Map(outbox.map((item) => [String(item.eventId), Date.parse(String(item.occurredAt))]));
    const endToEnd = inbox.map((item) => Date.parse(String(item.processedAt)) - (occurredAt.get(String(item.eventId)) ?? Number.NaN));
    const relayLag = outbox.filter((i) => i.publishedAt).map((i) => Date.parse(String(i.publishedAt)) - Date.parse(String(i.occurredAt)));

    const round1 = (s: ReturnType<typeof summarize>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)]));
    const parties = counter.snapshot();
    const handlerParties = [...parties].filter(([name]) => name !== EVENT_SOURCE_MAPPINGS).map(([, party]) => party);
    const relay = parties.get('outbox-relay');
    const events = Math.max(1, outbox.length);
    const relayPublish = perEvent(relay ? [relay] : [], events, (key) => key.startsWith('sns:'));
    const relayDynamoDb = perEvent(relay ? [relay] : [], events, (key) => key.startsWith('dynamodb:'));
    const apiRequestsPerSecond = round(apiLatencies.length / apiSeconds);
    const functionUsage = new Map<string, FunctionUsage>(
      [...invocations].map(([name, usage]) => [name, { invocations: usage.invocations, meanDurationMs: usage.invocations ? usage.totalMs / usage.invocations : 0, memoryMb: usage.memoryMb }]),
    );
    // The sandbox PG's ledger stands in for the PG's own systems: not the application's cost.
    const measured = { requests: parties, functions: functionUsage, excludedTables: [stack.tableName('SandboxPgLedger')] };
    return {
      payments: options.payments,
      concurrency: options.concurrency,
      apiRequests: apiLatencies.length,
      apiRequestsPerSecond,
      rawTransactWritesPerSecond: round(raw.perSecond),
      apiToRawRatio: round(apiRequestsPerSecond / raw.perSecond, 2),
      /** DynamoDB requests of create and confirm per second of the API phase (a confirm makes 4, a create 1). */
      apiDynamoDbRequestsPerSecond: round(dynamoDbDuringApi.api / apiSeconds),
      /** DynamoDB requests of every handler (API, relay, consumer, dispatcher, PG ledger) per second of the API phase. */
      pipelineDynamoDbRequestsPerSecond: round(dynamoDbDuringApi.pipeline / apiSeconds),
      /** The same against the raw TransactWriteItems ceiling: near 1, DynamoDB Local is what the run waits on. */
      pipelineDynamoDbToRawRatio: round(dynamoDbDuringApi.pipeline / apiSeconds / raw.perSecond, 2),
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
      /** Every AWS request of every handler during the run, per committed event. */
      requestsPerEvent: perEvent(handlerParties, events),
      requestsPerEventTotal: sum(perEvent(handlerParties, events)),
      relayPublishRequestsPerEvent: sum(relayPublish),
      relayDynamoDbRequestsPerEvent: sum(relayDynamoDb),
      /** What the local pollers did in place of Lambda's event source mappings (not handler requests). */
      eventSourceRequestsPerEvent: perEvent([...parties].filter(([name]) => name === EVENT_SOURCE_MAPPINGS).map(([, party]) => party), events),
      requestsPerEventByFunction: Object.fromEntries(
        [...parties].filter(([name]) => name !== EVENT_SOURCE_MAPPINGS).sort(([a], [b]) => a.localeCompare(b)).map(([name, party]) => [name, perEvent([party], events)]),
      ),
      invocations: Object.fromEntries(
        [...functionUsage].filter(([, usage]) => usage.invocations > 0).map(([name, usage]) => [name, { invocations: usage.invocations, meanDurationMs: round(usage.meanDurationMs), memoryMb: usage.memoryMb }]),
      ),
      measured,
    };
  } finally {
    await stack.stop();
  }
}
