/**
 * Two sweeper runs at once over the same pending events. The sweeper reserves no concurrency (new
 * accounts cannot), so runs may overlap; this proves an overlap costs only duplicate publishes, each
 * with its event's own id as FIFO deduplication id (the topic drops the copy), and that nothing is
 * lost, sent out of order or marked published without the topic having accepted it.
 *
 * The real ledger and publisher adapters run over an in-memory Outbox table and an in-memory FIFO
 * topic (deduplicating by `MessageDeduplicationId`, answering a duplicate as accepted, as SNS does);
 * every SDK call yields to the other run, so the two runs interleave call by call.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishBatchCommand, SNSClient, type PublishBatchCommandInput, type PublishBatchCommandOutput } from '@aws-sdk/client-sns';
import {
  DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

import { DynamoDbPublicationLedger } from '../../lambdas/adapters/dynamodb-publication-ledger';
import { SnsEventPublisher } from '../../lambdas/adapters/sns-event-publisher';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { sweepPending, type SweepReport } from '../../lambdas/use-cases/sweep-pending';
import { FakeOutboxTable } from '../support/outbox-table';
import { envelope } from '../support/stream-events';

const NOW = new Date('2026-11-25T01:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo';

/** Payment id → number of pending events (sequences 1..n), spread over several pending shards. */
const BACKLOG: ReadonlyArray<readonly [string, number]> = [
  ['pay-a', 4], ['pay-b', 1], ['pay-c', 3], ['pay-d', 2], ['pay-e', 1], ['pay-f', 5],
  ['pay-g', 2], ['pay-h', 1], ['pay-i', 3], ['pay-j', 2], ['pay-k', 1], ['pay-l', 12],
];
const TOTAL_EVENTS = BACKLOG.reduce((sum, [, count]) => sum + count, 0);

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Lets the other run go on: up to `max` turns of the event loop. */
async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

type Entry = NonNullable<PublishBatchCommandInput['PublishBatchRequestEntries']>[number];

/** An SNS FIFO topic: deduplicates by MessageDeduplicationId and records what it accepted, in order. */
class FakeFifoTopic {
  /** Every entry of every PublishBatch call, duplicates included. */
  readonly entries: Entry[] = [];
  /** First copies the topic accepted, in acceptance order (what subscribers receive). */
  readonly delivered: EventEnvelope[] = [];
  /** Broken invariants, for the test to assert empty. */
  readonly violations: string[] = [];
  private readonly accepted = new Set<string>();
  /** Entries to reject (a transient service fault) instead of accepting. */
  reject: (event: EventEnvelope) => boolean = () => false;

  hasAccepted(eventId: string): boolean {
    return this.accepted.has(eventId);
  }

  publish(input: PublishBatchCommandInput): Partial<PublishBatchCommandOutput> {
    const successful: NonNullable<PublishBatchCommandOutput['Successful']> = [];
    const failed: NonNullable<PublishBatchCommandOutput['Failed']> = [];
    for (const entry of input.PublishBatchRequestEntries ?? []) {
      this.entries.push(entry);
      const event = JSON.parse(entry.Message ?? '') as EventEnvelope;
      if (this.reject(event)) {
        failed.push({ Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'try again' });
        continue;
      }
      const dedupId = entry.MessageDeduplicationId ?? '';
      if (!this.accepted.has(dedupId)) {
        const previous = this.delivered.filter((e) => e.aggregateId === entry.MessageGroupId).at(-1);
        if ((previous?.sequence ?? 0) !== event.sequence - 1) {
          this.violations.push(`${event.aggregateId}-${event.sequence} accepted after ${previous ? previous.sequence : 'nothing'}`);
        }
        this.accepted.add(dedupId);
        this.delivered.push(event);
      }
      // SNS answers a deduplicated copy as a success (it was accepted before).
      successful.push({ Id: entry.Id, MessageId: `m-${dedupId}`, SequenceNumber: '1' });
    }
    return { Successful: successful, Failed: failed };
  }
}

const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const publisher = new SnsEventPublisher(new SNSClient({ region: 'us-east-1' }), TOPIC_ARN);
/** Each run marks with its own clock, so `publishedAt` shows which run marked an event first. */
const RUN_CLOCKS = [NOW, new Date(NOW.getTime() + 1_000)] as const;
const ledgers = RUN_CLOCKS.map((at) => new DynamoDbPublicationLedger(documentClient, { tableName: 'Outbox' }, { now: () => at }));

let outbox: FakeOutboxTable;
let topic: FakeFifoTopic;
/** `aggregateId#sequence` → the `:now` of the first UpdateItem that marked it. */
let firstMarks: Map<string, string>;
/** Resolved before any PublishBatch is answered (the default lets every call through). */
let publishGate: Promise<void>;
let turns: () => number;

function fill(): void {
  for (const [id, count] of BACKLOG) {
    for (let sequence = 1; sequence <= count; sequence++) outbox.put(envelope(id, sequence, { occurredAt: ago(900 - sequence) }));
  }
}

const sweep = (run: 0 | 1) =>
  sweepPending({ now: NOW, graceSeconds: 120, limit: 1000 }, { ledger: ledgers[run] as DynamoDbPublicationLedger, publisher });

beforeEach(() => {
  outbox = new FakeOutboxTable();
  topic = new FakeFifoTopic();
  firstMarks = new Map();
  publishGate = Promise.resolve();
  turns = () => 1;
  fill();
  sns.reset();
  sns.on(PublishBatchCommand).callsFake(async (input: PublishBatchCommandInput) => {
    await publishGate;
    await yieldTurns(turns());
    return topic.publish(input);
  });
  dynamo.reset();
  dynamo.on(QueryCommand).callsFake(async (input: QueryCommandInput) => {
    await yieldTurns(turns());
    return outbox.query(input);
  });
  dynamo.on(UpdateCommand).callsFake(async (input: UpdateCommandInput) => {
    await yieldTurns(turns());
    const item = outbox.item(String(input.Key?.aggregateId), Number(input.Key?.sequence));
    if (item && !topic.hasAccepted(item.eventId)) topic.violations.push(`${item.eventId} marked published before the topic accepted it`);
    const key = `${String(input.Key?.aggregateId)}#${String(input.Key?.sequence)}`;
    if (!firstMarks.has(key)) firstMarks.set(key, String(input.ExpressionAttributeValues?.[':now']));
    return outbox.update(input);
  });
});

/** Every entry sent, by either run: its deduplication id is its own event id, its group its payment. */
function expectOwnDedupIds(): void {
  expect(topic.entries.length).toBeGreaterThan(0);
  for (const entry of topic.entries) {
    const event = JSON.parse(entry.Message ?? '') as EventEnvelope;
    expect(entry.MessageDeduplicationId).toBe(event.eventId);
    expect(entry.MessageGroupId).toBe(event.aggregateId);
  }
}

/** Subscribers got every backlog event exactly once, each payment's in sequence order. */
function expectEveryEventDeliveredOnceInOrder(): void {
  const perPayment = new Map<string, number[]>();
  for (const event of topic.delivered) perPayment.set(event.aggregateId, [...(perPayment.get(event.aggregateId) ?? []), event.sequence]);
  expect(Object.fromEntries(perPayment)).toEqual(
    Object.fromEntries(BACKLOG.map(([id, count]) => [id, Array.from({ length: count }, (_, i) => i + 1)])),
  );
  expect(new Set(topic.delivered.map((event) => event.eventId)).size).toBe(TOTAL_EVENTS);
}

/** Nothing pending, and every item keeps the time of its first mark (a later mark does not move it). */
function expectAllMarkedOnceAndForAll(): void {
  expect(outbox.pendingLabels()).toEqual([]);
  for (const [id, count] of BACKLOG) {
    for (let sequence = 1; sequence <= count; sequence++) {
      expect(outbox.item(id, sequence)?.publishedAt, `${id}-${sequence}`).toBe(firstMarks.get(`${id}#${sequence}`));
    }
  }
}

describe('two overlapping sweeper runs', () => {
  it('both read the whole backlog before either publishes: every event goes out twice under its own dedup id, is delivered once and marked once', async () => {
    // GIVEN two runs that both finish reading every partition before the topic answers either.
    let release!: () => void;
    publishGate = new Promise((resolve) => (release = resolve));
    let partitionReads = 0;
    dynamo.on(QueryCommand, { ConsistentRead: true }).callsFake(async (input: QueryCommandInput) => {
      await yieldTurns(1);
      const page = outbox.query(input);
      partitionReads += 1;
      if (partitionReads === 2 * BACKLOG.length) release();
      return page;
    });

    // WHEN they run at once
    const reports: SweepReport[] = await Promise.all([sweep(0), sweep(1)]);

    // THEN each run sent every event (the second copy is a duplicate the topic drops)...
    expectOwnDedupIds();
    expect(topic.entries).toHaveLength(2 * TOTAL_EVENTS);
    for (const report of reports) expect(report).toMatchObject({ republished: TOTAL_EVENTS, failed: 0, markFailures: 0 });
    // ...subscribers got each event once, in order, and each event is marked with its first mark's time.
    expectEveryEventDeliveredOnceInOrder();
    expectAllMarkedOnceAndForAll();
    expect(topic.violations).toEqual([]);
    // Both runs marked every event (the second mark is a no-op that keeps the first time).
    const marks = dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(marks).toHaveLength(2 * TOTAL_EVENTS);
    for (const at of RUN_CLOCKS) {
      expect(marks.filter((input) => input.ExpressionAttributeValues?.[':now'] === at.toISOString())).toHaveLength(TOTAL_EVENTS);
    }
  });

  it.each(Array.from({ length: 12 }, (_, seed) => [seed + 1]))(
    'interleaved at random with transient rejections (seed %i): nothing out of order, nothing marked unaccepted, nothing lost',
    async (seed) => {
      // GIVEN two runs whose calls interleave at random, the second starting a little later, and a
      // topic that rejects about one entry in six (a transient fault)
      const next = random(seed);
      turns = () => Math.floor(next() * 4);
      topic.reject = () => next() < 1 / 6;

      // WHEN they run at once
      const late = (async () => {
        await yieldTurns(Math.floor(next() * 40));
        return sweep(1);
      })();
      const reports = await Promise.all([sweep(0), late]);

      // THEN whatever each sent carries its own dedup id, the topic never accepted event n+1 before
      // n and no event was marked published that the topic had not accepted
      expectOwnDedupIds();
      expect(topic.violations).toEqual([]);
      // Each run marks what the topic accepted from it, duplicates included: what is still pending is
      // exactly what no run got through, and it carries no publication time.
      const everyEvent = BACKLOG.flatMap(([id, count]) => Array.from({ length: count }, (_, i) => `${id}-${i + 1}`));
      const delivered = new Set(topic.delivered.map((event) => `${event.aggregateId}-${event.sequence}`));
      expect(outbox.pendingLabels()).toEqual(everyEvent.filter((label) => !delivered.has(label)).sort());
      for (const label of outbox.pendingLabels()) {
        const at = label.lastIndexOf('-');
        expect(outbox.item(label.slice(0, at), Number(label.slice(at + 1)))?.publishedAt, label).toBeUndefined();
      }
      for (const report of reports) expect(report.markFailures).toBe(0);

      // AND a later run on a healthy topic finishes the rest: every event delivered exactly once, in order.
      topic.reject = () => false;
      await sweep(0);
      expectEveryEventDeliveredOnceInOrder();
      expectAllMarkedOnceAndForAll();
      expect(topic.violations).toEqual([]);
    },
  );
});
