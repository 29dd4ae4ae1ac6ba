/**
 * US dollars per 1 million card payments (create + confirm) on AWS us-east-1, from the requests the
 * benchmark counted on the local stack and list prices. Every price names the page it was read from
 * and when; a price the stored pages did not show is named and left out of the sum, never guessed.
 * Request units come from DynamoDB Local's ConsumedCapacity when it reports them, else from the model
 * in aws-request-counter.ts. Lambda duration is the local invocation's wall time (an upper bound:
 * on AWS the emulators' latency and this machine's contention are not there).
 */
import type { CapacityByTable, PartyRequests } from './aws-request-counter';

const READ_ON = '2026-12-02';

/** A list price, where it was read and when. */
export interface Price {
  readonly usd: number | null;
  readonly unit: string;
  readonly source: string;
  readonly read: string;
  readonly note?: string;
}

export const PRICES = {
  apiGatewayRestRequest: {
    usd: 3.5 / 1e6,
    unit: 'REST API call (first 333 million a month)',
    source: 'https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html (Table 4; https://aws.amazon.com/api-gateway/pricing/ was stored without its price table)',
    read: READ_ON,
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    unit: 'Lambda request',
    source: 'https://cloudchipr.com/blog/aws-lambda-pricing (third-party; https://aws.amazon.com/lambda/pricing/ is not in the stored pages)',
    read: READ_ON,
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second, arm64 (the functions are ARM_64), first 7.5 billion GB-s a month',
    source: 'https://cloudchipr.com/blog/aws-lambda-pricing (third-party; https://aws.amazon.com/lambda/pricing/ is not in the stored pages)',
    read: READ_ON,
  },
  dynamodbWriteRequestUnit: {
    usd: 0.625 / 1e6,
    unit: 'on-demand write request unit (a transactional write costs 2 per KB per item)',
    source:
      'https://airbyte.com/data-engineering-resources/dynamodb-pricing (third-party; https://aws.amazon.com/dynamodb/pricing/on-demand/ is stored and defines the units, but its price table was not in the stored text)',
    read: READ_ON,
  },
  dynamodbReadRequestUnit: {
    usd: 0.125 / 1e6,
    unit: 'on-demand read request unit (strongly consistent 1 per 4 KB, transactional 2 per 4 KB)',
    source: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing (third-party; units: https://aws.amazon.com/dynamodb/pricing/on-demand/)',
    read: READ_ON,
  },
  dynamodbStreamsReadForLambda: {
    usd: 0,
    unit: 'DynamoDB Streams GetRecords made by a Lambda trigger',
    source: 'not found in the stored pages',
    read: READ_ON,
    note: 'taken as free, as the on-demand pricing page states for Lambda triggers; no stored page confirms it',
  },
  snsFifoPublishRequest: {
    usd: 0.3 / 1e6,
    unit: 'SNS FIFO publish API request (a PublishBatch of up to 10 messages is one request per 64 KB)',
    source:
      'https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/ (third-party, 2026-06-13); batching: https://docs.aws.amazon.com/sns/latest/dg/sns-batch-api-actions.html ("reduce the costs ... by a factor of up to 10")',
    read: READ_ON,
  },
  snsFifoPayloadAndDeliveries: {
    usd: null,
    unit: 'SNS FIFO published payload (per GB) and subscription deliveries / delivered payload',
    source: 'not in the stored pages',
    read: READ_ON,
    note: 'left out of the sum: https://aws.amazon.com/sns/pricing/ was not found in the stored pages',
  },
  sqsFifoRequest: {
    usd: 0.5 / 1e6,
    unit: 'SQS FIFO request (per 64 KB chunk; a batch of 10 small messages is one request)',
    source: 'https://cloudburn.io/blog/amazon-sqs-pricing (third-party, March 2026) and https://www.factualminds.com/blog/amazon-sqs-pricing-64kb-rule-fifo-vs-standard/',
    read: READ_ON,
  },
  cloudWatchLogs: {
    usd: null,
    unit: 'CloudWatch Logs ingestion',
    source: 'not modelled',
    read: READ_ON,
    note: 'handlers log at ERROR/WARN in normal operation; not counted',
  },
} as const satisfies Record<string, Price>;

/** What the run measured for one function. */
export interface FunctionUsage {
  readonly invocations: number;
  readonly meanDurationMs: number;
  readonly memoryMb: number;
}

export interface CostInput {
  readonly payments: number;
  readonly apiRequests: number;
  /** Subscriber queues the topic delivers every event to (a queue subscriber and a webhook subscriber: 2). */
  readonly subscriberQueues: number;
  readonly eventsCommitted: number;
  /** By function short name, and `event-source-mappings` for what Lambda's pollers do. */
  readonly requests: ReadonlyMap<string, PartyRequests>;
  readonly functions: ReadonlyMap<string, FunctionUsage>;
  /** Tables whose units are not the application's (the sandbox PG's ledger stands in for the PG). */
  readonly excludedTables: readonly string[];
}

type Part = 'api' | 'paymentWrites' | 'outboxMachinery' | 'fanOut' | 'other';
type Service = 'apiGateway' | 'lambda' | 'dynamodb' | 'sns' | 'sqs';

const PART_OF_FUNCTION: Readonly<Record<string, Part>> = {
  'create-payment': 'api',
  'confirm-payment': 'api',
  'outbox-relay': 'outboxMachinery',
  'outbox-sweeper': 'outboxMachinery',
  'example-consumer': 'fanOut',
  'event-source-mappings': 'fanOut',
};

function partOf(party: string): Part {
  if (party.startsWith('webhook-dispatcher')) return 'fanOut';
  return PART_OF_FUNCTION[party] ?? 'other';
}

export interface CostReport {
  readonly usdPerMillionPayments: number;
  readonly byService: Record<Service, number>;
  readonly byPart: Record<Part, number>;
  /** Each part's cost by service. */
  readonly byPartAndService: Record<Part, Partial<Record<Service, number>>>;
  readonly unitsSource: 'DynamoDB Local ConsumedCapacity' | 'modelled (1 KB items)';
  readonly assumptions: readonly string[];
  readonly prices: typeof PRICES;
}

const round = (usd: number) => Math.round(usd * 1000) / 1000;

export function costPerMillionPayments(input: CostInput): CostReport {
  const scale = 1e6 / input.payments;
  const byPartAndService: Record<Part, Partial<Record<Service, number>>> = { api: {}, paymentWrites: {}, outboxMachinery: {}, fanOut: {}, other: {} };
  const add = (part: Part, service: Service, usd: number) => {
    byPartAndService[part][service] = (byPartAndService[part][service] ?? 0) + usd * scale;
  };
  const reported = [...input.requests.values()].some((party) => Object.keys(party.capacity).length > 0);
  const unitsOf = (party: PartyRequests): CapacityByTable => (reported ? party.capacity : party.modelledCapacity);

  add('api', 'apiGateway', input.apiRequests * PRICES.apiGatewayRestRequest.usd);
  for (const [name, usage] of input.functions) {
    const gbSeconds = usage.invocations * (usage.meanDurationMs / 1000) * (usage.memoryMb / 1024);
    add(partOf(name), 'lambda', usage.invocations * PRICES.lambdaRequest.usd + gbSeconds * PRICES.lambdaArmGbSecond.usd);
  }
  for (const [name, party] of input.requests) {
    const part = partOf(name);
    // The API's DynamoDB work is the payment writes (and their reads).
    const dynamodbPart: Part = part === 'api' ? 'paymentWrites' : part;
    for (const [table, units] of Object.entries(unitsOf(party))) {
      if (input.excludedTables.includes(table)) continue;
      add(dynamodbPart, 'dynamodb', units.write * PRICES.dynamodbWriteRequestUnit.usd + units.read * PRICES.dynamodbReadRequestUnit.usd);
    }
    for (const [key, count] of Object.entries(party.requests)) {
      if (key.startsWith('sns:')) add(part, 'sns', count * PRICES.snsFifoPublishRequest.usd);
      if (key.startsWith('sqs:')) add(part, 'sqs', count * PRICES.sqsFifoRequest.usd);
    }
  }
  // The topic's delivery of each event into each subscriber queue is a send the queue bills.
  add('fanOut', 'sqs', input.eventsCommitted * input.subscriberQueues * PRICES.sqsFifoRequest.usd);

  const byService: Record<Service, number> = { apiGateway: 0, lambda: 0, dynamodb: 0, sns: 0, sqs: 0 };
  const byPart: Record<Part, number> = { api: 0, paymentWrites: 0, outboxMachinery: 0, fanOut: 0, other: 0 };
  for (const [part, services] of Object.entries(byPartAndService) as [Part, Partial<Record<Service, number>>][]) {
    for (const [service, usd] of Object.entries(services) as [Service, number][]) {
      byService[service] += usd;
      byPart[part] += usd;
      services[service] = round(usd);
    }
  }
  const total = Object.values(byService).reduce((sum, usd) => sum + usd, 0);
  return {
    usdPerMillionPayments: round(total),
    byService: Object.fromEntries(Object.entries(byService).map(([k, v]) => [k, round(v)])) as Record<Service, number>,
    byPart: Object.fromEntries(Object.entries(byPart).map(([k, v]) => [k, round(v)])) as Record<Part, number>,
    byPartAndService,
    unitsSource: reported ? 'DynamoDB Local ConsumedCapacity' : 'modelled (1 KB items)',
    assumptions: [
      `${input.payments} card payments measured (create + confirm, no Idempotency-Key), scaled linearly to 1 million; no free tier`,
      'Lambda duration = mean local wall time per invocation at each function\'s configured memory (arm64); an upper bound on AWS',
      `each event is delivered into ${input.subscriberQueues} subscriber queues (one queue subscriber, one webhook subscriber), each delivery billed as one SQS FIFO request; SNS FIFO payload and delivery charges are not priced (not in the stored pages)`,
      'Lambda\'s SQS pollers: their ReceiveMessage / DeleteMessageBatch / ChangeMessageVisibility are counted as the local runner makes them (fauxqs returns one message per group per receive, so there are more receives than on AWS); their empty receives on idle queues are not counted',
      'DynamoDB Streams reads by the relay\'s trigger are free; the sweeper runs on a schedule (1 a minute by default: 43,200 invocations a month whatever the load); only what it did during the run is counted here',
      `units on ${input.excludedTables.join(', ') || 'no table'} left out (the sandbox PG's ledger stands in for the PG's own systems)`,
      'CloudWatch Logs, X-Ray, data transfer, storage and the PG\'s own fees are not modelled',
    ],
    prices: PRICES,
  };
}
