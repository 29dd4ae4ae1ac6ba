import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishBatchCommand, SNSClient, type PublishBatchCommandInput } from '@aws-sdk/client-sns';
import {
  DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { DynamoDbPublicationLedger } from '../../lambdas/adapters/dynamodb-publication-ledger';
import { SnsEventPublisher } from '../../lambdas/adapters/sns-event-publisher';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { PENDING_SHARDS, pendingShardOf } from '../../lambdas/domain/pending-shards';
import { outboxSweeper } from '../../lambdas/functions/outbox-sweeper/outbox-sweeper';
import { sweepPending } from '../../lambdas/use-cases/sweep-pending';
import { lambdaContext } from '../support/api-events';
import { testRuntime } from '../support/function-runtime';
import { FakeOutboxTable } from '../support/outbox-table';
import { envelope } from '../support/stream-events';

const NOW = new Date('2026-11-25T01:00:00.000Z');
/** An ISO time `seconds` before NOW. */
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
/** Event `sequence` of payment `id`, occurred `age` seconds before NOW (a second apart per sequence by default). */
const old = (id: string, sequence: number, age = 600 - sequence) => envelope(id, sequence, { occurredAt: ago(age) });

const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ledger = new DynamoDbPublicationLedger(documentClient, { tableName: 'Outbox' }, { now: () => NOW });
const publisher = new SnsEventPublisher(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo');
let outbox: FakeOutboxTable;

function acceptAll(input: PublishBatchCommandInput) {
  return {
    Successful: (input.PublishBatchRequestEntries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, SequenceNumber: '1' })),
    Failed: [],
  };
}
function rejectGroups(...groups: string[]) {
  return (input: PublishBatchCommandInput) => {
    const entries = input.PublishBatchRequestEntries ?? [];
    const rejected = entries.filter((entry) => groups.includes(entry.MessageGroupId ?? ''));
    return {
      Successful: entries
        .filter((entry) => !rejected.includes(entry))
        .map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, SequenceNumber: '1' })),
      Failed: rejected.map((entry) => ({ Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'try again' })),
    };
  };
}

const sweep = (limit = 1000, graceSeconds = 120) => sweepPending({ now: NOW, graceSeconds, limit }, { ledger, publisher });
const sentLabels = () =>
  sns
    .commandCalls(PublishBatchCommand)
    .map((call) => (call.args[0].input.PublishBatchRequestEntries ?? []).map((entry) => {
      const event = JSON.parse(entry.Message ?? '') as EventEnvelope;
      return `${event.aggregateId}-${event.sequence}`;
    }));

/** `count` payment ids whose events all land in the same pending shard. */
function idsInShard(shard: string, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (pendingShardOf(`pay-${i}`) === shard) ids.push(`pay-${i}`);
  return ids;
}

/** Every payment's events were sent in sequence order, never two of a payment in one call. */
function expectOrderedPerPayment(batches: string[][]): void {
  const last = new Map<string, number>();
  for (const batch of batches) {
    const payments = batch.map((label) => label.slice(0, label.lastIndexOf('-')));
    expect(new Set(payments).size).toBe(payments.length);
    for (const label of batch) {
      const id = label.slice(0, label.lastIndexOf('-'));
      const sequence = Number(label.slice(label.lastIndexOf('-') + 1));
      expect(sequence).toBe((last.get(id) ?? 0) + 1);
      last.set(id, sequence);
    }
  }
}

beforeEach(() => {
  sns.reset();
  sns.on(PublishBatchCommand).callsFake(acceptAll);
  dynamo.reset();
  outbox = new FakeOutboxTable();
  dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => outbox.query(input));
  dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => outbox.update(input));
});
afterEach(() => vi.restoreAllMocks());

describe('sweepPending', () => {
  it('republishes events pending past the grace period, per payment in sequence order, and marks them', async () => {
    outbox.put(old('A', 1), old('A', 2), old('A', 3), old('B', 1), envelope('C', 1, { occurredAt: ago(30) }));

    const report = await sweep();

    expect(sentLabels()).toEqual([['A-1', 'B-1'], ['A-2'], ['A-3']]);
    expect(outbox.pendingLabels()).toEqual(['C-1']);
    expect(outbox.item('A', 1)?.publishedAt).toBe(NOW.toISOString());
    expect(report).toMatchObject({ scanned: 4, republished: 4, failed: 0, markFailures: 0 });
  });

  it('sends the original envelope, with its event id as deduplication id and none of the outbox bookkeeping', async () => {
    const event = old('A', 1);
    outbox.put(event);

    await sweep();

    const entry = sns.commandCalls(PublishBatchCommand)[0]?.args[0].input.PublishBatchRequestEntries?.[0];
    expect(entry).toMatchObject({ MessageGroupId: 'A', MessageDeduplicationId: 'evt-A-1', Message: JSON.stringify(event) });
  });

  it('leaves already-published events alone and sends nothing when nothing is pending', async () => {
    outbox.putPublished(old('A', 1), old('A', 2));

    const report = await sweep();

    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(0);
    expect(report).toEqual(expect.objectContaining({ scanned: 0, republished: 0, failed: 0, oldestPendingAgeSeconds: 0 }));
  });

  it('reads every page of every shard and publishes each payment in order across them', async () => {
    const crowded = idsInShard('p00', 5);
    for (const id of crowded) outbox.put(old(id, 1), old(id, 2), old(id, 3));
    const elsewhere = ['X', 'Y', 'Z'].map((prefix) => `${prefix}-${pendingShardOf(prefix)}`);
    for (const id of elsewhere) outbox.put(old(id, 1), old(id, 2));
    // The limit equals the backlog: rounds share it among shards, so p00 is read over several pages.
    const report = await sweep(21);

    expect(report).toMatchObject({ scanned: 21, republished: 21, failed: 0 });
    expect(outbox.pendingLabels()).toEqual([]);
    const batches = sentLabels();
    expectOrderedPerPayment(batches);
    expect(batches.flat()).toHaveLength(21);
    const indexReads = dynamo
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input)
      .filter((q) => q.IndexName === 'PendingEvents' && q.KeyConditionExpression?.includes(':before'));
    const p00 = indexReads.filter((q) => q.ExpressionAttributeValues?.[':shard'] === 'p00');
    expect(p00.length).toBeGreaterThan(1);
    expect(p00.slice(1).every((q) => q.ExclusiveStartKey !== undefined)).toBe(true);
    expect(new Set(indexReads.map((q) => q.ExpressionAttributeValues?.[':shard']))).toEqual(new Set(PENDING_SHARDS));
  });

  it('reads no more index items than the limit and leaves the rest for the next run', async () => {
    for (const id of idsInShard('p03', 4)) outbox.put(old(id, 1), old(id, 2));

    const first = await sweep(3);

    expect(first.scanned).toBe(3);
    expect(outbox.pendingLabels()).toHaveLength(5);
    const second = await sweep(1000);
    expect(second.republished).toBe(5);
    expect(outbox.pendingLabels()).toEqual([]);
    expectOrderedPerPayment(sentLabels());
  });

  it('sends a pending predecessor the index did not list before the listed event', async () => {
    // A-2's writer had a clock behind A-3's: only A-3 is older than the grace period.
    outbox.putPublished(old('A', 1)).put(envelope('A', 2, { occurredAt: ago(60) }), envelope('A', 3, { occurredAt: ago(300) }));

    const report = await sweep();

    expect(sentLabels()).toEqual([['A-2'], ['A-3']]);
    expect(report).toMatchObject({ scanned: 1, republished: 2 });
  });

  it('trusts the consistent partition read over a stale index: an event the relay marked meanwhile is not sent', async () => {
    outbox.putPublished(old('A', 1));
    dynamo
      .on(QueryCommand, { IndexName: 'PendingEvents', KeyConditionExpression: '#shard = :shard AND #occurredAt < :before' })
      .callsFake((input: QueryCommandInput) =>
        input.ExpressionAttributeValues?.[':shard'] === pendingShardOf('A') ? { Items: [{ ...old('A', 1), pendingShard: pendingShardOf('A') }] } : { Items: [] },
      );

    const report = await sweep();

    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(0);
    expect(report).toMatchObject({ scanned: 1, republished: 0, failed: 0 });
  });

  it('skips nothing when a mark fails: every event is still published and the others are marked', async () => {
    outbox.put(old('A', 1), old('A', 2), old('B', 1));
    dynamo
      .on(UpdateCommand)
      .callsFake((input: UpdateCommandInput) => outbox.update(input))
      .on(UpdateCommand, { Key: { aggregateId: 'A', sequence: 1 } })
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));

    const report = await sweep();

    expect(sentLabels()).toEqual([['A-1', 'B-1'], ['A-2']]);
    expect(outbox.pendingLabels()).toEqual(['A-1']);
    expect(report).toMatchObject({ republished: 3, failed: 0, markFailures: 1 });
    expect(report.markFailureDetails[0]).toMatchObject({ event: { eventId: 'evt-A-1' }, reason: 'ThrottlingException: slow down' });
  });

  it('stops a payment at its rejected event while other payments go on', async () => {
    outbox.put(old('A', 1), old('A', 2), old('B', 1), old('B', 2));
    sns.on(PublishBatchCommand).callsFakeOnce(rejectGroups('A')).callsFake(acceptAll);

    const report = await sweep();

    expect(sentLabels()).toEqual([['A-1', 'B-1'], ['B-2']]);
    expect(outbox.pendingLabels()).toEqual(['A-1', 'A-2']);
    expect(report).toMatchObject({ republished: 2, failed: 2 });
    expect(report.failures.map((f) => `${f.aggregateId}-${f.sequence}`)).toEqual(['A-1', 'A-2']);
    expect(report.failures[0]?.reason).toBe('rejected by the broker: InternalError (service fault): try again');
  });

  it('stops the run when a PublishBatch call throws, counting what was left', async () => {
    outbox.put(old('A', 1), old('A', 2), old('B', 1));
    sns.on(PublishBatchCommand).callsFakeOnce(acceptAll).rejects(new Error('socket hang up'));

    const report = await sweep();

    expect(sentLabels()).toEqual([['A-1', 'B-1'], ['A-2']]);
    expect(report).toMatchObject({ republished: 2, failed: 1 });
    expect(outbox.pendingLabels()).toEqual(['A-2']);
  });

  it('fails only the payment whose partition cannot be read', async () => {
    outbox.put(old('A', 2), old('B', 1));
    dynamo
      .on(QueryCommand, { KeyConditionExpression: 'aggregateId = :id AND #sequence < :sequence', ExpressionAttributeValues: { ':id': 'A', ':sequence': 3 } })
      .rejects(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }));

    const report = await sweep();

    expect(sentLabels()).toEqual([['B-1']]);
    expect(report).toMatchObject({ republished: 1, failed: 1 });
    expect(report.failures[0]).toMatchObject({ aggregateId: 'A', sequence: 2, reason: expect.stringContaining('ProvisionedThroughputExceededException') });
  });

  it('reports an unreadable pending item as failed without blocking other payments', async () => {
    outbox.put(old('A', 1), old('B', 1));
    const broken = outbox.item('A', 1);
    if (broken) outbox.items.set('A#1', { ...broken, eventId: undefined as unknown as string });

    const report = await sweep();

    expect(sentLabels()).toEqual([['B-1']]);
    expect(report).toMatchObject({ scanned: 2, republished: 1, failed: 1 });
    expect(report.failures[0]).toMatchObject({ aggregateId: 'A', sequence: 1, reason: expect.stringContaining('no eventId') });
  });

  it('measures the age of the oldest pending event in any shard, the grace period notwithstanding', async () => {
    outbox.put(envelope('A', 1, { occurredAt: ago(45) }), envelope('B', 1, { occurredAt: ago(90.5) }));

    const report = await sweep();

    expect(report.oldestPendingAgeSeconds).toBe(90.5);
    expect(report.republished).toBe(0);
    const oldestReads = dynamo
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input)
      .filter((q) => q.Limit === 1 && q.KeyConditionExpression === '#shard = :shard');
    expect(oldestReads).toHaveLength(16);
  });
});

describe('outbox sweeper handler', () => {
  /** The sweeper's configuration, read the way its Lambda entry reads it. */
  const config = outboxSweeper.configFromEnv({
    PAYMENT_EVENTS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo',
    OUTBOX_TABLE_NAME: 'Outbox',
    SWEEPER_GRACE_SECONDS: '120',
    SWEEPER_MAX_EVENTS: '1000',
  });
  let handler: ReturnType<typeof outboxSweeper.createHandler>;
  let logger: Logger;
  let metrics: Metrics;
  beforeEach(() => {
    const runtime = testRuntime();
    ({ logger, metrics } = runtime);
    handler = outboxSweeper.createHandler(config, runtime);
  });

  it('returns the run summary and records its metrics', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const info = vi.spyOn(logger, 'info');
    outbox.put(old('A', 1), old('A', 2), envelope('B', 1, { occurredAt: ago(10) }));

    let summary;
    try {
      summary = await handler({}, lambdaContext as unknown as Context);
    } finally {
      vi.useRealTimers();
    }

    expect(summary).toEqual({ scanned: 2, republished: 2, failed: 0, oldestPendingAgeSeconds: 599, markFailures: 0 });
    expect(addMetric.mock.calls.map(([name, unit, value]) => [name, unit, value])).toEqual([
      ['OldestPendingAgeSeconds', 'Seconds', 599],
      ['SweeperRepublished', 'Count', 2],
      ['SweeperFailures', 'Count', 0],
      ['MarkPublishedFailures', 'Count', 0],
    ]);
    expect(info.mock.calls.map((call) => call[1])).toEqual([
      { eventId: 'evt-A-1', paymentId: 'A', sequence: 1 },
      { eventId: 'evt-A-2', paymentId: 'A', sequence: 2 },
      { scanned: 2, republished: 2, failed: 0, oldestPendingAgeSeconds: 599, markFailures: 0, graceSeconds: 120, limit: 1000 },
    ]);
    expect(outbox.pendingLabels()).toEqual(['B-1']);
  });
});
