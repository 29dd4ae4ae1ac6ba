/**
 * The SQS poller's scaling on a FIFO queue of the emulator, with scripted functions: message
 * groups are handled concurrently (up to the local cap and the mapping's MaximumConcurrency),
 * while each group's messages go one after another, in order, a failed one first again.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalClients, type LocalClients } from '../../local/clients';
import { startSqsEmulator, type SqsEmulator } from '../../local/emulators/sqs-emulator';
import { createLogger } from '../../local/log';
import { SqsPoller, DEFAULT_SQS_POLLER_CONCURRENCY, type SqsPollerOptions } from '../../local/pollers/sqs-poller';
import { PidFile } from '../../local/process/pid-file';
import type { LocalFunction } from '../../local/runtime/local-function';
import type { QueueMappingSpec } from '../../local/template/resolve';
import { TEST_STATE_ROOT } from '../support/test-state-dirs';

const REGION = 'us-east-1';
const log = createLogger('sqs-poller-test', { level: process.env.LOCAL_TEST_LOG_LEVEL === 'info' ? 'info' : 'warn' });

let sqsEmulator: SqsEmulator;
let clients: LocalClients;
const pollers: SqsPoller[] = [];

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const pidFile = new PidFile(`${TEST_STATE_ROOT}/${process.pid}-sqs-poller`);
  sqsEmulator = await startSqsEmulator({ port: 0, region: REGION, log, pidFile });
  // No DynamoDB here: the scripted functions touch nothing but their own arrays.
  clients = createLocalClients({ region: REGION, dynamodbEndpoint: 'http://127.0.0.1:9', sqsEndpoint: sqsEmulator.endpoint });
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  clients?.destroy();
  await sqsEmulator?.stop();
});

const BASE_MAPPING: Omit<QueueMappingSpec, 'logicalId'> = {
  functionLogicalId: 'Scripted',
  queueLogicalId: 'Queue',
  enabled: true,
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  filterPatterns: [],
  reportBatchItemFailures: true,
};

/** What an invocation's handler does with one record; a throw fails that record only (reported). */
type RecordBehaviour = (record: SQSRecord) => Promise<void>;

interface Scenario {
  readonly poller: SqsPoller;
  /** Bodies in the order their handling finished successfully. */
  readonly handled: string[];
  /** Bodies per invocation. */
  readonly invocations: string[][];
  /** The most invocations that were running at once. */
  readonly peakConcurrency: () => number;
  /** Sends `bodies` to `group`, in order. */
  send(group: string, ...bodies: string[]): Promise<void>;
}

/**
 * A FIFO queue and a poller on it whose function runs `behaviour` on each record in order and
 * reports the failed one and the rest of its group (as the FIFO batch processors do).
 */
async function scenario(behaviour: RecordBehaviour, options: { mapping?: Partial<QueueMappingSpec>; poller?: Partial<SqsPollerOptions> } = {}): Promise<Scenario> {
  const queueName = `groups-${randomUUID().slice(0, 8)}.fifo`;
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: { FifoQueue: 'true', VisibilityTimeout: '30' } }));
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const handled: string[] = [];
  const invocations: string[][] = [];
  let running = 0;
  let peak = 0;
  const fn: LocalFunction = {
    spec: { logicalId: 'Scripted', entry: 'scripted', exportName: 'handler', shortName: 'scripted', timeoutSeconds: 30, memoryMb: 128, environment: {} },
    functionName: 'scripted',
    arn: `arn:aws:lambda:${REGION}:000000000000:function:scripted`,
    environment: {},
    invoke: async (event) => {
      const records = (event as SQSEvent).Records;
      invocations.push(records.map((r) => r.body));
      running += 1;
      peak = Math.max(peak, running);
      const failures: SQSBatchResponse['batchItemFailures'] = [];
      const failedGroups = new Set<string>();
      try {
        for (const record of records) {
          const group = record.attributes.MessageGroupId ?? '';
          if (failedGroups.has(group)) {
            failures.push({ itemIdentifier: record.messageId });
            continue;
          }
          try {
            await behaviour(record);
            handled.push(record.body);
          } catch {
            failedGroups.add(group);
            failures.push({ itemIdentifier: record.messageId });
          }
        }
      } finally {
        running -= 1;
      }
      return { batchItemFailures: failures };
    },
  };
  const poller = new SqsPoller({
    name: 'scripted',
    mapping: { ...BASE_MAPPING, logicalId: queueName, ...options.mapping },
    queue: { queueName, url: QueueUrl as string, arn: Attributes?.QueueArn as string },
    region: REGION,
    fn,
    sqs: clients.sqs,
    log,
    waitTimeSeconds: 1,
    failedMessageVisibilitySeconds: 0,
    ...options.poller,
  });
  pollers.push(poller);
  return {
    poller,
    handled,
    invocations,
    peakConcurrency: () => peak,
    send: async (group, ...bodies) => {
      for (let i = 0; i < bodies.length; i += 10) {
        const entries = bodies.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body, MessageGroupId: group, MessageDeduplicationId: randomUUID() }));
        const { Failed = [] } = await clients.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
        expect(Failed).toEqual([]);
      }
    },
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when `signal` fires; rejects after `ms` (a guard against a deadlock, not a speed check). */
function within<T>(signal: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([signal, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))]).finally(() => clearTimeout(timer));
}

describe('SQS poller scaling on a FIFO queue (message groups in parallel, each group in order)', () => {
  it('handles another group while one is in flight: group A waits for group B, and both succeed on their first receive', async () => {
    let bHandled!: () => void;
    const bDone = new Promise<void>((resolve) => (bHandled = resolve));
    const s = await scenario(async (record) => {
      if (record.attributes.MessageGroupId === 'A') await within(bDone, 10_000, 'group B was not handled while group A was in flight');
      else bHandled();
    });
    await s.send('A', 'a1');
    await s.send('B', 'b1');
    s.poller.start();
    await s.poller.waitForIdle();

    expect(s.handled).toEqual(['b1', 'a1']);
    expect(s.poller.stats).toMatchObject({ received: 2, succeeded: 2, failed: 0 });
    expect(s.invocations.every((bodies) => bodies.length === 1)).toBe(true);
  });

  it('keeps each group in send order and never runs two of its messages at once, while groups overlap', async () => {
    const inFlightGroups = new Set<string>();
    const overlapsWithinGroup: string[] = [];
    const s = await scenario(async (record) => {
      const group = record.attributes.MessageGroupId ?? '';
      if (inFlightGroups.has(group)) overlapsWithinGroup.push(record.body);
      inFlightGroups.add(group);
      await pause(5);
      inFlightGroups.delete(group);
    });
    const groups = ['g1', 'g2', 'g3', 'g4', 'g5'];
    for (const group of groups) await s.send(group, ...[1, 2, 3, 4].map((n) => `${group}-${n}`));
    s.poller.start();
    await s.poller.waitForIdle();

    expect(overlapsWithinGroup).toEqual([]);
    for (const group of groups) expect(s.handled.filter((body) => body.startsWith(`${group}-`))).toEqual([1, 2, 3, 4].map((n) => `${group}-${n}`));
    expect(s.handled).toHaveLength(20);
    expect(s.peakConcurrency()).toBeGreaterThan(1);
  });

  it('retries a reported failure before its group goes on, while the other groups complete', async () => {
    let failuresLeft = 2;
    const s = await scenario(async (record) => {
      if (record.body === 'a2' && failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('downstream unavailable');
      }
    });
    await s.send('A', 'a1', 'a2', 'a3');
    await s.send('B', 'b1', 'b2');
    s.poller.start();
    await s.poller.waitForIdle();

    expect(s.handled.filter((body) => body.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(s.handled.filter((body) => body.startsWith('b'))).toEqual(['b1', 'b2']);
    expect(s.poller.stats).toMatchObject({ succeeded: 5, failed: 2 });
  });

  it.each([
    { cap: 1, maximumConcurrency: undefined, expected: 1 },
    { cap: 2, maximumConcurrency: undefined, expected: 2 },
    { cap: undefined, maximumConcurrency: 3, expected: 3 },
    { cap: 2, maximumConcurrency: 5, expected: 2 },
  ])(
    'runs at most min(local cap $cap, MaximumConcurrency $maximumConcurrency) invocations at once, and reaches that many',
    async ({ cap, maximumConcurrency, expected }) => {
      const s = await scenario(() => pause(10), {
        mapping: maximumConcurrency === undefined ? {} : { maximumConcurrency },
        poller: cap === undefined ? {} : { concurrency: cap },
      });
      const groups = ['g1', 'g2', 'g3', 'g4', 'g5', 'g6'];
      for (const group of groups) await s.send(group, `${group}-1`, `${group}-2`);
      s.poller.start();
      await s.poller.waitForIdle();

      expect(s.poller.maxConcurrency).toBe(expected);
      expect(s.peakConcurrency()).toBe(expected);
      expect(s.handled).toHaveLength(12);
    },
  );

  it('caps concurrency locally at DEFAULT_SQS_POLLER_CONCURRENCY when the mapping sets no MaximumConcurrency', async () => {
    const s = await scenario(() => pause(10));
    const groups = Array.from({ length: DEFAULT_SQS_POLLER_CONCURRENCY + 2 }, (_, i) => `g${i}`);
    for (const group of groups) await s.send(group, `${group}-1`);
    s.poller.start();
    await s.poller.waitForIdle();

    expect(s.poller.maxConcurrency).toBe(DEFAULT_SQS_POLLER_CONCURRENCY);
    // The first receive hands out one message of each of 10 groups (the most one receive returns).
    expect(s.peakConcurrency()).toBe(DEFAULT_SQS_POLLER_CONCURRENCY);
    expect(s.handled).toHaveLength(groups.length);
  });
});
