/**
 * The stream poller's event source mapping rules, on DynamoDB Local's real stream, with scripted
 * functions in place of the relay: filter, batch size, partial batch responses (checkpoint at the
 * lowest failure), bisect on error, retry limit and record age with the on-failure record; and
 * the polling cadence: a full read is followed by the next at once, records already read are
 * delivered without waiting for a poll, and a batching window holds a partial batch.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalClients, LOCAL_CREDENTIALS, type LocalClients } from '../../local/clients';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/emulators/dynamodb-local';
import { startSqsEmulator, type SqsEmulator } from '../../local/emulators/sqs-emulator';
import { createLogger } from '../../local/log';
import { PidFile } from '../../local/process/pid-file';
import { StreamPoller, type StreamPollerOptions } from '../../local/pollers/stream-poller';
import type { LocalFunction } from '../../local/runtime/local-function';
import type { LocalQueueRef } from '../../local/template/intrinsics';
import type { StreamMappingSpec } from '../../local/template/resolve';
import { TEST_STATE_ROOT } from '../support/test-state-dirs';

const REGION = 'us-east-1';
const log = createLogger('poller-test', { level: process.env.LOCAL_TEST_LOG_LEVEL === 'info' ? 'info' : 'warn' });

let dynamo: DynamoDbLocal;
let sqsEmulator: SqsEmulator;
let clients: LocalClients;
let failureQueue: LocalQueueRef;
const pollers: StreamPoller[] = [];
const streamClients: DynamoDBStreamsClient[] = [];

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const pidFile = new PidFile(`${TEST_STATE_ROOT}/${process.pid}-poller`);
  [dynamo, sqsEmulator] = await Promise.all([
    startDynamoDbLocal({ port: 0, region: REGION, log, pidFile }),
    startSqsEmulator({ port: 0, region: REGION, log, pidFile }),
  ]);
  clients = createLocalClients({ region: REGION, dynamodbEndpoint: dynamo.endpoint, sqsEndpoint: sqsEmulator.endpoint });
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: 'stream-failures' }));
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  failureQueue = { queueName: 'stream-failures', url: QueueUrl as string, arn: Attributes?.QueueArn as string };
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  for (const client of streamClients.splice(0)) client.destroy();
});

afterAll(async () => {
  clients?.destroy();
  await Promise.all([dynamo?.stop(), sqsEmulator?.stop()]);
});

const BASE_MAPPING: Omit<StreamMappingSpec, 'logicalId'> = {
  functionLogicalId: 'Scripted',
  tableLogicalId: 'Events',
  enabled: true,
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  startingPosition: 'TRIM_HORIZON',
  filterPatterns: ['{"eventName":["INSERT"]}'],
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  reportBatchItemFailures: true,
  parallelizationFactor: 1,
  onFailureQueueLogicalId: 'Failures',
};

type Behaviour = (event: DynamoDBStreamEvent, call: number) => Promise<unknown>;

interface Scenario {
  readonly table: string;
  readonly poller: StreamPoller;
  /** Item ids of each invocation, in order. */
  readonly calls: string[][];
  /** Sequence number of each item id, as the stream reported it. */
  readonly sequenceOf: Map<string, string>;
  put(...ids: string[]): Promise<void>;
  /** Moves the poller's clock forward. */
  advanceClock(ms: number): void;
  /** GetRecords calls the poller made. */
  polls(): number;
}

/** A table with a stream, a poller on it and a function that runs `behaviour`; the poller starts paused. */
async function scenario(mapping: Partial<StreamMappingSpec>, behaviour: Behaviour, options: Pick<Partial<StreamPollerOptions>, 'pollIntervalMs'> = {}): Promise<Scenario> {
  const table = `events-${randomUUID().slice(0, 8)}`;
  const { TableDescription } = await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
  const calls: string[][] = [];
  const sequenceOf = new Map<string, string>();
  const fn: LocalFunction = {
    spec: { logicalId: 'Scripted', entry: 'scripted', exportName: 'handler', shortName: 'scripted', timeoutSeconds: 5, memoryMb: 128, environment: {} },
    functionName: 'scripted',
    arn: `arn:aws:lambda:${REGION}:000000000000:function:scripted`,
    environment: {},
    invoke: async (event) => {
      const records = (event as DynamoDBStreamEvent).Records;
      for (const r of records) sequenceOf.set(r.dynamodb?.NewImage?.id?.S as string, r.dynamodb?.SequenceNumber as string);
      calls.push(records.map((r) => r.dynamodb?.NewImage?.id?.S as string));
      return behaviour(event as DynamoDBStreamEvent, calls.length);
    },
  };
  let clockOffset = 0;
  // A streams client of the scenario's own, counting the poller's GetRecords calls.
  let polls = 0;
  const streams = new DynamoDBStreamsClient({ region: REGION, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
  streams.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetRecordsCommand') polls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countGetRecords' },
  );
  streamClients.push(streams);
  const poller = new StreamPoller({
    name: 'scripted',
    mapping: { ...BASE_MAPPING, logicalId: table, ...mapping },
    streamArn: TableDescription?.LatestStreamArn as string,
    region: REGION,
    fn,
    streams,
    sqs: clients.sqs,
    onFailureQueue: failureQueue,
    log,
    pollIntervalMs: options.pollIntervalMs ?? 20,
    retryBackoff: { baseMs: 10, maxMs: 50 },
    now: () => Date.now() + clockOffset,
  });
  pollers.push(poller);
  void poller.pause();
  poller.start();
  return {
    table,
    poller,
    calls,
    sequenceOf,
    put: async (...ids) => {
      for (const id of ids) await clients.documents.send(new PutCommand({ TableName: table, Item: { id } }));
    },
    advanceClock: (ms) => {
      clockOffset += ms;
    },
    polls: () => polls,
  };
}

const ok: Behaviour = async () => ({ batchItemFailures: [] });

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function failureRecords(): Promise<Record<string, any>[]> {
  const { Messages = [] } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: failureQueue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return Messages.map((m) => JSON.parse(m.Body as string) as Record<string, any>);
}

describe('stream poller (Lambda event source mapping on DynamoDB Streams)', () => {
  it('drops what the filter rejects and delivers INSERTs in order, at most BatchSize per invocation', async () => {
    const s = await scenario({ batchSize: 3 }, ok);
    await s.put('1', '2', '3', '4', '5', '6', '7');
    await clients.documents.send(new UpdateCommand({ TableName: s.table, Key: { id: '2' }, UpdateExpression: 'SET touched = :t', ExpressionAttributeValues: { ':t': 1 } }));
    await clients.documents.send(new DeleteCommand({ TableName: s.table, Key: { id: '3' } }));
    s.poller.resume();
    await s.poller.waitForIdle();

    expect(s.calls.flat()).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(s.calls.every((batch) => batch.length <= 3)).toBe(true);
    expect(s.poller.stats.filteredOut).toBe(2);
    expect(s.poller.stats).toMatchObject({ recordsRead: 9, published: 7, failed: 0, retries: 0 });
  });

  it('checkpoints at the lowest reported failure and retries from there, without redelivering earlier records', async () => {
    const s = await scenario({}, async (event, call) =>
      call === 1
        ? { batchItemFailures: [event.Records[3], event.Records[2]].map((r) => ({ itemIdentifier: r?.dynamodb?.SequenceNumber })) }
        : { batchItemFailures: [] },
    );
    await s.put('1', '2', '3', '4', '5');
    s.poller.resume();
    await s.poller.waitForIdle();

    expect(s.calls).toEqual([
      ['1', '2', '3', '4', '5'],
      ['3', '4', '5'],
    ]);
    expect(s.poller.stats).toMatchObject({ published: 5, failed: 3, retries: 1, discarded: 0 });
  });

  it('treats an itemIdentifier that is not in the batch as a failure of the whole batch', async () => {
    const s = await scenario({}, async (_event, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] } : {}));
    await s.put('1', '2');
    s.poller.resume();
    await s.poller.waitForIdle();

    expect(s.calls).toEqual([
      ['1', '2'],
      ['1', '2'],
    ]);
  });

  it('ignores a failure list when the mapping does not report batch item failures', async () => {
    const s = await scenario({ reportBatchItemFailures: false }, async (event) => ({
      batchItemFailures: [{ itemIdentifier: event.Records[0]?.dynamodb?.SequenceNumber }],
    }));
    await s.put('1', '2');
    s.poller.resume();
    await s.poller.waitForIdle();

    expect(s.calls).toEqual([['1', '2']]);
  });

  it('bisects a failing batch down to the poison record and, after MaximumRetryAttempts, sends its metadata to the on-failure queue', async () => {
    const s = await scenario({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 }, async (event) => {
      if (event.Records.some((r) => r.dynamodb?.NewImage?.id?.S === '3')) throw new Error('poison record');
      return {};
    });
    await s.put('1', '2', '3', '4');
    s.poller.resume();
    await s.poller.waitForIdle();

    expect(s.calls).toEqual([['1', '2', '3', '4'], ['1', '2'], ['3', '4'], ['3'], ['3'], ['3'], ['4']]);
    expect(s.poller.stats).toMatchObject({ bisections: 2, retries: 2, discarded: 1, onFailureMessages: 1 });
    const [record, ...more] = await failureRecords();
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:scripted' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      DDBStreamBatchInfo: {
        batchSize: 1,
        startSequenceNumber: s.sequenceOf.get('3'),
        endSequenceNumber: s.sequenceOf.get('3'),
        streamArn: expect.stringContaining(`arn:aws:dynamodb:${REGION}:`),
        shardId: expect.stringMatching(/^shardId-/),
      },
    });
  });

  it('gives up on records older than MaximumRecordAgeInSeconds and goes on with the next ones', async () => {
    let failing = true;
    const s = await scenario({ maximumRecordAgeInSeconds: 60 }, async () => {
      if (failing) throw new Error('downstream unavailable');
      return {};
    });
    await s.put('1');
    s.poller.resume();
    await until(() => s.calls.length >= 2);
    s.advanceClock(61_000);
    await until(() => s.poller.stats.discarded === 1);
    failing = false;
    await s.put('2');
    // The poller may be idle before it read the new record (a loaded machine): wait for its delivery.
    await until(() => s.calls.some((batch) => batch.includes('2')));
    await s.poller.waitForIdle();

    expect(s.calls.at(-1)).toEqual(['2']);
    expect(s.calls.filter((batch) => batch.includes('1')).length).toBeGreaterThanOrEqual(2);
    const [record] = await failureRecords();
    expect(record).toMatchObject({
      requestContext: { condition: 'RecordAgeExceeded' },
      DDBStreamBatchInfo: { batchSize: 1, startSequenceNumber: s.sequenceOf.get('1') },
    });
  });

  it('polls again at once after a read that came back with a full batch, and delivers records already read without a poll in between', async () => {
    // An hour between polls: only reads the cadence does not wait for can happen in this test.
    const s = await scenario({ batchSize: 3 }, ok, { pollIntervalMs: 3_600_000 });
    await s.put('1', '2', '3', '4', '5', '6', '7');
    s.poller.resume();
    await s.poller.waitForIdle();

    expect(s.calls).toEqual([['1', '2', '3'], ['4', '5', '6'], ['7']]);
    // The read of all 7 records (a full batch and more), then at once the read that found the shard's end.
    expect(s.polls()).toBe(2);
  });

  it('holds a partial batch for MaximumBatchingWindowInSeconds, reading on at the cadence, and delivers it once BatchSize is reached', async () => {
    const s = await scenario({ batchSize: 2, maxBatchingWindowSeconds: 60 }, ok);
    await s.put('1');
    s.poller.resume();
    await until(() => s.poller.stats.recordsRead === 1);
    await s.put('2');
    await s.poller.waitForIdle();

    expect(s.calls).toEqual([['1', '2']]);
  });
});
