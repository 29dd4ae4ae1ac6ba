/**
 * The relay on one shard, against a simulated network: the relay exactly as its Lambda runs it
 * (`createOutboxRelay`: the relay use case on the SNS publisher and the DynamoDB publication ledger,
 * with the relay's settings) on real SDK clients whose requests never leave the process. A middleware
 * answers each request from an in-memory Outbox table and topic after a fixed delay (20 ms per broker
 * call, 5 ms per DynamoDB call), and counts it.
 *
 * The shard's records: payments whose create and confirm sit close together in the stream (a few
 * records apart, so some confirms land in the batch after their create), cut into batches of 100 and
 * relayed one batch after another, as Lambda polls a shard (parallelization factor 1).
 *
 *   npx tsx bench/relay-simulation.ts
 */
import { pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { TransactionCanceledException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { PublishBatchCommandInput } from '@aws-sdk/client-sns';
import type { BatchGetCommandInput, QueryCommandInput, TransactWriteCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { toRelayRecord } from '../lambdas/adapters/outbox-stream-record';
import type { EventEnvelope } from '../lambdas/domain/event-envelope';
import { confirmPayment, createPayment } from '../lambdas/domain/payment';
import { PENDING_SHARD_ATTRIBUTE, PUBLISHED_AT_ATTRIBUTE, pendingShardOf } from '../lambdas/domain/pending-shards';
import { createOutboxRelay } from '../lambdas/functions/outbox-relay/outbox-relay';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../lambdas/platform/aws-clients';

export interface RelaySimulation {
  /** Events the relay published per second of wall time, on one shard. */
  readonly eventsPerSecondPerShard: number;
  /** Delay added to every SNS call. */
  readonly brokerCallLatencyMs: number;
  /** Delay added to every DynamoDB call. */
  readonly dynamoDbCallLatencyMs: number;
  /** Stream records relayed (all INSERTs, each one event). */
  readonly records: number;
  /** Stream batches (relay invocations), of 100 records each. */
  readonly batches: number;
  /** PublishBatch requests. */
  readonly publishRequests: number;
  /** DynamoDB requests of every kind. */
  readonly dynamoDbRequests: number;
}

export interface RelaySimulationOptions {
  /** @default 20 */
  readonly batches?: number;
  /** @default 100 (Lambda's default batch size for a DynamoDB stream) */
  readonly batchSize?: number;
  /** @default 20 */
  readonly brokerCallLatencyMs?: number;
  /** @default 5 */
  readonly dynamoDbCallLatencyMs?: number;
  /** Most payments created and not yet confirmed at any point of the stream. @default 6 */
  readonly openPayments?: number;
  /** @default 7 */
  readonly seed?: number;
}

const TABLE = 'Outbox';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo';

type Item = Record<string, unknown> & EventEnvelope;

/** The Outbox table and the topic the simulated requests reach, with what was asked of them. */
class SimulatedAws {
  readonly items = new Map<string, Item>();
  readonly accepted = new Set<string>();
  readonly requests = new Map<string, number>();

  constructor(private readonly latency: { broker: number; dynamoDb: number }) {}

  /** Installs the in-memory answers on the clients: no request leaves the process. */
  install(clients: AwsClients): void {
    clients.documents.middlewareStack.add(
      () => async (args) => {
        await sleep(this.latency.dynamoDb);
        return { output: { $metadata: {}, ...this.dynamoDb(args.input as Record<string, unknown>) }, response: {} };
      },
      { step: 'initialize', name: 'simulatedDynamoDb', priority: 'high' },
    );
    clients.sns.middlewareStack.add(
      () => async (args) => {
        await sleep(this.latency.broker);
        return { output: { $metadata: {}, ...this.publishBatch(args.input as PublishBatchCommandInput) }, response: {} };
      },
      { step: 'initialize', name: 'simulatedSns', priority: 'high' },
    );
  }

  put(event: EventEnvelope): Item {
    const item = { ...event, [PENDING_SHARD_ATTRIBUTE]: pendingShardOf(event.aggregateId), expiresAt: 1_900_000_000 };
    this.items.set(key(event.aggregateId, event.sequence), item);
    return item;
  }

  pending(): number {
    return [...this.items.values()].filter((item) => item[PENDING_SHARD_ATTRIBUTE] !== undefined).length;
  }

  private count(operation: string): void {
    this.requests.set(operation, (this.requests.get(operation) ?? 0) + 1);
  }

  /** The document-client requests the relay's ledger sends, told apart by their shape. */
  private dynamoDb(input: Record<string, unknown>): Record<string, unknown> {
    if ('RequestItems' in input) {
      this.count('dynamodb:BatchGetItem');
      const keys = (input as BatchGetCommandInput).RequestItems?.[TABLE]?.Keys ?? [];
      const found = keys.map((k) => this.items.get(key(String(k.aggregateId), Number(k.sequence)))).filter((item) => item !== undefined);
      return { Responses: { [TABLE]: found.map((item) => ({ ...item })) } };
    }
    if ('TransactItems' in input) {
      this.count('dynamodb:TransactWriteItems');
      const updates = ((input as TransactWriteCommandInput).TransactItems ?? []).map((action) => action.Update);
      const missing = updates.map((update) => !this.items.has(key(String(update?.Key?.aggregateId), Number(update?.Key?.sequence))));
      if (missing.some(Boolean)) {
        throw new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: missing.map((gone) => ({ Code: gone ? 'ConditionalCheckFailed' : 'None' })),
        });
      }
      for (const update of updates) this.mark(update?.Key, update?.ExpressionAttributeValues?.[':now']);
      return {};
    }
    if ('KeyConditionExpression' in input) {
      this.count('dynamodb:Query');
      const values = (input as QueryCommandInput).ExpressionAttributeValues ?? {};
      const items = [...this.items.values()]
        .filter((item) => item.aggregateId === values[':id'] && item.sequence < Number(values[':sequence']))
        .filter((item) => item[PENDING_SHARD_ATTRIBUTE] !== undefined)
        .sort((a, b) => a.sequence - b.sequence);
      return { Items: items.map((item) => ({ ...item })) };
    }
    if ('UpdateExpression' in input) {
      this.count('dynamodb:UpdateItem');
      const update = input as UpdateCommandInput;
      this.mark(update.Key, update.ExpressionAttributeValues?.[':now']);
      return {};
    }
    throw new Error(`the simulation does not answer ${JSON.stringify(Object.keys(input))}`);
  }

  private mark(itemKey: Record<string, unknown> | undefined, now: unknown): void {
    const id = key(String(itemKey?.aggregateId), Number(itemKey?.sequence));
    const item = this.items.get(id);
    if (!item) return;
    if (!this.accepted.has(item.eventId)) throw new Error(`${item.eventId} marked published before the topic accepted it`);
    const { [PENDING_SHARD_ATTRIBUTE]: _removed, ...rest } = item;
    this.items.set(id, { ...rest, [PUBLISHED_AT_ATTRIBUTE]: item[PUBLISHED_AT_ATTRIBUTE] ?? now } as Item);
  }

  private publishBatch(input: PublishBatchCommandInput): Record<string, unknown> {
    this.count('sns:PublishBatch');
    const entries = input.PublishBatchRequestEntries ?? [];
    for (const entry of entries) this.accepted.add(String(entry.MessageDeduplicationId));
    return { Successful: entries.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, SequenceNumber: '1' })), Failed: [] };
  }
}

const key = (aggregateId: string, sequence: number) => `${aggregateId}#${sequence}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A seeded generator, so every run relays the same stream. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * `count` events, half creates and half confirms: a payment is confirmed a few records after it
 * was created (at most `open` payments waiting at any point).
 */
function interleavedEvents(count: number, open: number, random: () => number): EventEnvelope[] {
  const events: EventEnvelope[] = [];
  const waiting: ReturnType<typeof createPayment>[] = [];
  const at = (i: number) => new Date(Date.UTC(2026, 11, 2, 0, 0, 0, i)).toISOString();
  let created = 0;
  while (events.length < count) {
    const mustConfirm = waiting.length >= open || created >= count / 2;
    if (waiting.length > 0 && (mustConfirm || random() < 0.5)) {
      const [change] = waiting.splice(Math.floor(random() * waiting.length), 1);
      if (!change) continue;
      const approved = confirmPayment(change.payment, { approved: true, pgTransactionId: `pg-${change.payment.paymentId}` }, {
        now: at(events.length),
        eventId: `evt-${change.payment.paymentId}-2`,
      });
      events.push(approved.event);
      continue;
    }
    const paymentId = `pay-${String(created).padStart(5, '0')}`;
    created += 1;
    const change = createPayment({ paymentId, orderId: `order-${paymentId}`, amount: 15_000, currency: 'KRW', method: 'CARD' }, {
      now: at(events.length),
      eventId: `evt-${paymentId}-1`,
    });
    events.push(change.event);
    waiting.push(change);
  }
  return events;
}

export async function measureRelaySimulation(options: RelaySimulationOptions = {}): Promise<RelaySimulation> {
  const batches = options.batches ?? 20;
  const batchSize = options.batchSize ?? 100;
  const brokerCallLatencyMs = options.brokerCallLatencyMs ?? 20;
  const dynamoDbCallLatencyMs = options.dynamoDbCallLatencyMs ?? 5;
  const simulated = new SimulatedAws({ broker: brokerCallLatencyMs, dynamoDb: dynamoDbCallLatencyMs });

  const events = interleavedEvents(batches * batchSize, options.openPayments ?? 6, seeded(options.seed ?? 7));
  const records: DynamoDBRecord[] = events.map((event, i) => ({
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: String(1_000_000 + i),
      // aws-lambda's AttributeValue type and the SDK's describe the same wire format.
      NewImage: marshall(simulated.put(event)) as Record<string, AttributeValue> as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
    },
  }));

  const clients = createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'sim', secretAccessKey: 'sim' } });
  simulated.install(clients);
  const silent = new Logger({ serviceName: 'relay-simulation', logLevel: 'SILENT' });
  const relay = createOutboxRelay(
    { topicArn: TOPIC_ARN, outboxTable: TABLE },
    {
      aws: clients,
      clock: { now: () => new Date() },
      logger: silent,
      metrics: new Metrics({ serviceName: 'relay-simulation', namespace: 'RelaySimulation', logger: silent }),
      tracer: new Tracer({ serviceName: 'relay-simulation', enabled: false }),
    },
  );

  try {
    const started = performance.now();
    let published = 0;
    for (let start = 0; start < records.length; start += batchSize) {
      const report = await relay(records.slice(start, start + batchSize).map(toRelayRecord));
      if (report.failure) throw new Error(`the simulated relay failed at ${report.failure.position}: ${report.failure.reason}`);
      published += report.published.length;
    }
    const seconds = (performance.now() - started) / 1000;
    if (published !== records.length || simulated.pending() !== 0) {
      throw new Error(`the simulated relay published ${published} of ${records.length} events and left ${simulated.pending()} pending`);
    }
    const requests = [...simulated.requests.entries()];
    return {
      eventsPerSecondPerShard: Math.round(published / seconds),
      brokerCallLatencyMs,
      dynamoDbCallLatencyMs,
      records: records.length,
      batches,
      publishRequests: simulated.requests.get('sns:PublishBatch') ?? 0,
      dynamoDbRequests: requests.filter(([operation]) => operation.startsWith('dynamodb:')).reduce((sum, [, n]) => sum + n, 0),
    };
  } finally {
    destroyAwsClients(clients);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await measureRelaySimulation();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
