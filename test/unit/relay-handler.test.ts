import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { PublishBatchCommand, SNSClient, ThrottledException, type PublishBatchCommandInput } from '@aws-sdk/client-sns';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type BatchGetCommandInput,
  type QueryCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { outboxRelay } from '../../lambdas/functions/outbox-relay/outbox-relay';
import { lambdaContext } from '../support/api-events';
import { testRuntime } from '../support/function-runtime';
import { FakeOutboxTable } from '../support/outbox-table';
import {
  envelope,
  insertRecord,
  positionsOf,
  streamEvent,
  ttlRemoveRecord,
  unknownRecord,
} from '../support/stream-events';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo';
/** The relay's configuration, read the way its Lambda entry reads it. */
const config = outboxRelay.configFromEnv({ PAYMENT_EVENTS_TOPIC_ARN: TOPIC_ARN, OUTBOX_TABLE_NAME: 'Outbox' });

const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
let outbox: FakeOutboxTable;
/** A relay built for each test, and the logger and metrics of its runtime. */
let handler: ReturnType<typeof outboxRelay.createHandler>;
let logger: Logger;
let metrics: Metrics;

/** The topic accepting every entry. */
function acceptAll(input: PublishBatchCommandInput) {
  return {
    Successful: (input.PublishBatchRequestEntries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, SequenceNumber: '1' })),
    Failed: [],
  };
}

/** The topic rejecting the entries with the given ids and accepting the others. */
function rejectIds(...ids: string[]) {
  return (input: PublishBatchCommandInput) => ({
    Successful: (input.PublishBatchRequestEntries ?? [])
      .filter((entry) => !ids.includes(entry.Id ?? ''))
      .map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, SequenceNumber: '1' })),
    Failed: ids.map((Id) => ({ Id, SenderFault: false, Code: 'InternalError', Message: 'try again' })),
  });
}

/** Invokes the relay; every INSERT's item is in the outbox first (pending, unless the test stored it otherwise). */
async function relay(records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
  for (const record of records) {
    const image = record.eventName === 'INSERT' ? record.dynamodb?.NewImage : undefined;
    if (!image) continue;
    const item = unmarshall(image as Record<string, AttributeValue>) as EventEnvelope;
    if (typeof item.eventId === 'string' && !outbox.item(item.aggregateId, item.sequence)) outbox.put(item);
  }
  return handler(streamEvent(records), lambdaContext as unknown as Context);
}

const sentBatches = () => sns.commandCalls(PublishBatchCommand).map((call) => call.args[0].input);
const sentEvents = () =>
  sentBatches().map((batch) => (batch.PublishBatchRequestEntries ?? []).map((entry) => JSON.parse(entry.Message ?? '') as EventEnvelope));
const labels = () => sentEvents().map((batch) => batch.map((e) => `${e.aggregateId}-${e.sequence}`));

/** `count` INSERTs, each of its own payment, so they can share a batch. */
const distinctPayments = (count: number) => Array.from({ length: count }, (_, i) => insertRecord(envelope(`pay-${i}`, 1)));

beforeEach(() => {
  const runtime = testRuntime();
  ({ logger, metrics } = runtime);
  handler = outboxRelay.createHandler(config, runtime);
  sns.reset();
  sns.on(PublishBatchCommand).callsFake(acceptAll);
  dynamo.reset();
  outbox = new FakeOutboxTable();
  dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => outbox.query(input));
  dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => outbox.update(input));
  dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => outbox.batchGet(input));
  dynamo.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => outbox.transactWrite(input));
});

/** `aggregateId-sequence` of every event a mark request (UpdateItem or transaction) named, in request order. */
const markedLabels = () => [
  ...dynamo.commandCalls(UpdateCommand).map((call) => `${call.args[0].input.Key?.aggregateId}-${call.args[0].input.Key?.sequence}`),
  ...dynamo
    .commandCalls(TransactWriteCommand)
    .flatMap((call) => (call.args[0].input.TransactItems ?? []).map((t) => `${t.Update?.Key?.aggregateId}-${t.Update?.Key?.sequence}`)),
];
afterEach(() => vi.restoreAllMocks());

describe('relay handler', () => {
  it('publishes every INSERT and reports no failures when the topic accepts everything', async () => {
    const info = vi.spyOn(logger, 'info');
    const records = distinctPayments(12);

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sentBatches().map((b) => b.PublishBatchRequestEntries?.length)).toEqual([10, 2]);
    // The batch's counts, then one line per published event.
    expect(info).toHaveBeenCalledTimes(13);
    expect(info.mock.calls[0]?.[1]).toEqual({ records: 12, published: 12, gapFilled: 0, failed: 0, skipped: 0, markFailures: 0 });
    expect(info.mock.calls.slice(1).every(([message]) => message === 'Event published')).toBe(true);
  });

  it('sends each event on with its outbox item\'s traceparent as a message attribute, and logs its trace id', async () => {
    const info = vi.spyOn(logger, 'info');
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = envelope('pay-t', 1);
    const untraced = envelope('pay-u', 1);

    await relay([insertRecord(traced, { traceparent }), insertRecord(untraced)]);

    const entries = sentBatches().flatMap((batch) => batch.PublishBatchRequestEntries ?? []);
    expect(entries.map((entry) => entry.MessageAttributes?.traceparent)).toEqual([{ DataType: 'String', StringValue: traceparent }, undefined]);
    // The body stays the contract's envelope: the trace travels beside it.
    expect(entries.map((entry) => JSON.parse(entry.Message ?? '{}') as unknown)).toEqual([traced, untraced]);
    const published = info.mock.calls.filter(([message]) => message === 'Event published').map(([, fields]) => fields);
    expect(published).toEqual([
      { eventId: traced.eventId, paymentId: 'pay-t', sequence: 1, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
      { eventId: untraced.eventId, paymentId: 'pay-u', sequence: 1 },
    ]);
  });

  it('sends FIFO messages grouped by payment, deduplicated by event id, with the envelope as body', async () => {
    const event = envelope('pay-1', 2, { type: 'payment.approved' });

    await relay([insertRecord(event, { pendingShard: 4 })]);

    const [batch] = sentBatches();
    expect(batch?.TopicArn).toBe(TOPIC_ARN);
    expect(batch?.PublishBatchRequestEntries).toEqual([
      {
        Id: '0',
        MessageGroupId: 'pay-1',
        MessageDeduplicationId: 'evt-pay-1-2',
        Message: JSON.stringify(event),
        MessageAttributes: {
          eventType: { DataType: 'String', StringValue: 'payment.approved' },
          sequence: { DataType: 'Number', StringValue: '2' },
          aggregateId: { DataType: 'String', StringValue: 'pay-1' },
        },
      },
    ]);
    const body = JSON.parse(batch?.PublishBatchRequestEntries?.[0]?.Message ?? '{}') as Record<string, unknown>;
    expect(body).not.toHaveProperty('expiresAt');
    expect(body).not.toHaveProperty('pendingShard');
  });

  it('reports exactly the first rejected entry and every later record; only the rejected events stay pending', async () => {
    const records = distinctPayments(14);
    sns.on(PublishBatchCommand).callsFakeOnce(rejectIds('3', '6')).callsFake(acceptAll);

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(3)));
    // Both calls of the wave went out at once; what the topic accepted is marked, even after the failure.
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(2);
    expect(outbox.pendingLabels()).toEqual(['pay-3-1', 'pay-6-1']);
  });

  it('reports all records of a call that throws onward while the other calls of its wave are accepted and marked', async () => {
    const records = distinctPayments(25);
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      if (input.PublishBatchRequestEntries?.some((entry) => entry.MessageGroupId === 'pay-10')) throw new Error('socket hang up');
      return acceptAll(input);
    });

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(10)));
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(3);
    expect(outbox.pendingLabels()).toEqual(Array.from({ length: 10 }, (_, i) => `pay-${10 + i}-1`).sort());
  });

  it('on partial failures in concurrent calls (one throws, one has Failed entries) reports from the lowest unpublished record and marks only accepted events', async () => {
    // Records 0-9: p0..p9 created; 10-14: p0..p4 confirmed; 15-29: p10..p24 created; 30: p12 confirmed.
    const records = [
      ...Array.from({ length: 10 }, (_, i) => insertRecord(envelope(`p${i}`, 1))),
      ...Array.from({ length: 5 }, (_, i) => insertRecord(envelope(`p${i}`, 2))),
      ...Array.from({ length: 15 }, (_, i) => insertRecord(envelope(`p${10 + i}`, 1))),
      insertRecord(envelope('p12', 2)),
    ];
    // Wave 1: [p0..p9], [p10..p19], [p20..p24] at once; the second rejects p12 (record 17), the third throws.
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      const entries = input.PublishBatchRequestEntries ?? [];
      if (entries.some((entry) => entry.MessageGroupId === 'p20')) throw new Error('socket hang up');
      const p12 = entries.find((entry) => entry.MessageGroupId === 'p12' && entry.MessageDeduplicationId === 'evt-p12-1');
      return p12 ? rejectIds(p12.Id ?? '')(input) : acceptAll(input);
    });

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(17)));
    // Wave 2 still sends the confirms of records 10-14 (before the failure), never p12's confirm.
    expect(labels()[3]).toEqual(['p0-2', 'p1-2', 'p2-2', 'p3-2', 'p4-2']);
    expect(labels().flat()).not.toContain('p12-2');
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(4);
    expect(outbox.pendingLabels()).toEqual(['p12-1', 'p12-2', 'p20-1', 'p21-1', 'p22-1', 'p23-1', 'p24-1']);
    expect(markedLabels()).not.toContain('p12-1');
    expect(markedLabels().some((l) => /^p2[0-4]-1$/.test(l))).toBe(false);
  });

  it('keeps every PublishBatch call within 256 KiB, body and attributes counted', async () => {
    const records = Array.from({ length: 10 }, (_, i) => insertRecord(envelope(`big-${i}`, 1, { data: { note: 'x'.repeat(60 * 1024) } })));

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    const sizes = sentBatches().map((batch) =>
      (batch.PublishBatchRequestEntries ?? []).reduce((sum, entry) => {
        const attributes = Object.entries(entry.MessageAttributes ?? {}).reduce(
          (bytes, [name, value]) => bytes + name.length + (value.DataType ?? '').length + (value.StringValue ?? '').length,
          0,
        );
        return sum + Buffer.byteLength(entry.Message ?? '', 'utf8') + attributes;
      }, 0),
    );
    expect(sizes.length).toBe(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(256 * 1024);
  });

  it('reports every record when SNS throttles the first call', async () => {
    const records = distinctPayments(3);
    sns.on(PublishBatchCommand).rejects(new ThrottledException({ message: 'Rate exceeded', $metadata: {} }));

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records));
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(1);
  });

  it('acknowledges TTL removals and unknown record types without sending them', async () => {
    const a = envelope('pay-a', 1);
    const b = envelope('pay-b', 1);
    const records = [ttlRemoveRecord(envelope('old', 1)), insertRecord(a), unknownRecord(envelope('old', 2)), insertRecord(b)];

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(labels()).toEqual([['pay-a-1', 'pay-b-1']]);
  });

  it('sends nothing and reports nothing for an invocation with no INSERT', async () => {
    const response = await relay([ttlRemoveRecord(envelope('old', 1))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(0);
  });

  it('publishes nothing for a MODIFY whose new image still carries the pending marker (the stream filter lets it through)', async () => {
    const event = envelope('A', 1);
    outbox.put(event);
    const modify: DynamoDBRecord = { ...insertRecord(event, { pendingShard: 'p03', touchedAt: '2026-11-25T00:00:02.000Z' }), eventName: 'MODIFY' };

    const response = await relay([modify]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(outbox.pendingLabels()).toEqual(['A-1']);
  });

  it('publishes an event once when its INSERT is followed by a MODIFY that keeps the marker in the same batch', async () => {
    const a1 = envelope('A', 1);
    const insert = insertRecord(a1, { pendingShard: 'p03' });
    const modify: DynamoDBRecord = { ...insertRecord(a1, { pendingShard: 'p03', touchedAt: '2026-11-25T00:00:02.000Z' }), eventName: 'MODIFY' };

    const response = await relay([insert, modify, insertRecord(envelope('B', 1))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(labels()).toEqual([['A-1', 'B-1']]);
    expect(outbox.pendingLabels()).toEqual([]);
  });

  it('sends a payment’s events in sequence order, never two of them in one call', async () => {
    const records = [
      insertRecord(envelope('A', 1)),
      insertRecord(envelope('A', 2)),
      insertRecord(envelope('B', 1)),
      insertRecord(envelope('A', 3)),
      insertRecord(envelope('B', 2)),
    ];

    await relay(records);

    expect(labels()).toEqual([['A-1', 'B-1'], ['A-2', 'B-2'], ['A-3']]);
    for (const batch of sentBatches()) {
      const groups = (batch.PublishBatchRequestEntries ?? []).map((entry) => entry.MessageGroupId);
      expect(new Set(groups).size).toBe(groups.length);
    }
  });

  it('never sends a later event of a payment whose earlier event was rejected', async () => {
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1)), insertRecord(envelope('A', 2))];
    sns.on(PublishBatchCommand).callsFakeOnce(rejectIds('0'));

    const response = await relay(records);

    expect(labels()).toEqual([['A-1', 'B-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records));
  });

  it('also reports skipped records that come after the failure', async () => {
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1)), ttlRemoveRecord(envelope('old', 1))];
    sns.on(PublishBatchCommand).callsFakeOnce(rejectIds('1'));

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
  });

  it('treats an entry missing from the PublishBatch response as failed', async () => {
    const records = distinctPayments(3);
    sns.on(PublishBatchCommand).resolvesOnce({ Successful: [{ Id: '0', MessageId: 'm', SequenceNumber: '1' }], Failed: [] });

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
  });

  it('sends the events before an unreadable INSERT and reports it and everything after', async () => {
    const broken = insertRecord(envelope('B', 1));
    delete broken.dynamodb?.NewImage?.eventId;
    const records = [insertRecord(envelope('A', 1)), broken, insertRecord(envelope('C', 1))];

    const response = await relay(records);

    expect(labels()).toEqual([['A-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
  });

  it('fails an event too large for SNS instead of sending it', async () => {
    const huge = envelope('H', 1, { data: { note: 'x'.repeat(300 * 1024) } });
    const records = [insertRecord(envelope('A', 1)), insertRecord(huge), insertRecord(envelope('C', 1))];

    const response = await relay(records);

    expect(labels()).toEqual([['A-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
  });

  it('records published, failed and lag metrics and logs one line with the counts', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-25T00:00:01.500Z'));
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn');
    const info = vi.spyOn(logger, 'info');
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1)), ttlRemoveRecord(envelope('old', 1)), insertRecord(envelope('A', 2))];
    sns.on(PublishBatchCommand).callsFakeOnce(acceptAll).rejectsOnce(new Error('boom'));

    try {
      await relay(records);
    } finally {
      vi.useRealTimers();
    }

    const recorded = addMetric.mock.calls.map(([name, , value]) => [name, value]);
    expect(recorded).toEqual([
      ['EventsPublished', 2],
      ['PublishFailures', 1],
      ['GapFilledEvents', 0],
      ['MarkPublishedFailures', 0],
      ['RelayLagMs', 1_500],
      ['RelayLagMs', 1_500],
    ]);
    // No counts line at INFO (the stop is a WARN with them); a line per event that went through.
    expect(info.mock.calls).toEqual([
      ['Event published', { eventId: 'evt-A-1', paymentId: 'A', sequence: 1 }],
      ['Event published', { eventId: 'evt-B-1', paymentId: 'B', sequence: 1 }],
    ]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({
      records: 4,
      published: 2,
      failed: 1,
      skipped: 1,
      firstFailedPosition: positionsOf(records)[3],
    });
  });
});

describe('relay handler: published marker', () => {
  it('marks every event the topic accepted as published, removing it from the pending index', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-25T00:00:03.000Z'));
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1))];

    try {
      await relay(records);
    } finally {
      vi.useRealTimers();
    }

    expect(outbox.pendingLabels()).toEqual([]);
    expect(outbox.item('A', 1)?.publishedAt).toBe('2026-11-25T00:00:03.000Z');
    // One request for the invocation's marks: a transaction of conditional updates.
    const transactions = dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);
    expect(transactions).toHaveLength(1);
    const updates = (transactions[0]?.TransactItems ?? []).map((t) => t.Update);
    expect(updates.map((u) => u?.Key)).toEqual([
      { aggregateId: 'A', sequence: 1 },
      { aggregateId: 'B', sequence: 1 },
    ]);
    expect(updates[0]).toMatchObject({
      TableName: 'Outbox',
      UpdateExpression: 'REMOVE #shard SET #publishedAt = if_not_exists(#publishedAt, :now)',
      ConditionExpression: 'attribute_exists(aggregateId)',
      ExpressionAttributeNames: { '#shard': 'pendingShard', '#publishedAt': 'publishedAt' },
    });
  });

  it('marks only what the topic accepted: the rejected entry stays pending, a later accepted one is marked though reported again', async () => {
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1)), insertRecord(envelope('C', 1))];
    sns.on(PublishBatchCommand).callsFakeOnce(rejectIds('1'));

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
    expect(outbox.pendingLabels()).toEqual(['B-1']);
    expect(markedLabels()).toEqual(['A-1', 'C-1']);
  });

  it('does not fail the record when marking fails, and reports it in a log line and a metric', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const error = vi.spyOn(logger, 'error');
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1))];
    dynamo
      .on(TransactWriteCommand)
      .rejects(Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' }));

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(labels()).toEqual([['A-1', 'B-1']]);
    expect(outbox.pendingLabels()).toEqual(['A-1', 'B-1']);
    expect(addMetric).toHaveBeenCalledWith('MarkPublishedFailures', 'Count', 2);
    expect(error).toHaveBeenCalledTimes(2);
    expect(error.mock.calls[0]?.[1]).toMatchObject({
      eventId: 'evt-A-1',
      paymentId: 'A',
      sequence: 1,
      reason: 'ThrottlingException: Rate of requests exceeds the allowed throughput',
    });
  });

  it('acknowledges an event whose outbox item has expired meanwhile: nothing is left to mark', async () => {
    const records = [insertRecord(envelope('A', 1))];
    const response = await handler(streamEvent(records), lambdaContext as unknown as Context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(outbox.items.size).toBe(0);
  });
});

describe('relay handler: gap fill', () => {
  it('publishes a payment’s pending predecessors before the event, in sequence order, one per call', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn');
    // A-1 went through earlier; the stream records of were lost (expired, on-failure destination).
    outbox.putPublished(envelope('A', 1)).put(envelope('A', 2), envelope('A', 3));
    const records = [insertRecord(envelope('A', 4)), insertRecord(envelope('B', 1))];

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(labels()).toEqual([['A-2', 'B-1'], ['A-3'], ['A-4']]);
    const [first] = sentBatches();
    expect(first?.PublishBatchRequestEntries?.[0]).toEqual(
      {
        Id: '0',
        MessageGroupId: 'A',
        MessageDeduplicationId: 'evt-A-2',
        Message: JSON.stringify(envelope('A', 2)),
        MessageAttributes: {
          eventType: { DataType: 'String', StringValue: 'payment.approved' },
          sequence: { DataType: 'Number', StringValue: '2' },
          aggregateId: { DataType: 'String', StringValue: 'A' },
        },
      },
    );
    expect(outbox.pendingLabels()).toEqual([]);
    expect(addMetric).toHaveBeenCalledWith('GapFilledEvents', 'Count', 2);
    expect(addMetric).toHaveBeenCalledWith('EventsPublished', 'Count', 4);
    expect(warn.mock.calls.map((call) => call[1])).toEqual([
      { eventId: 'evt-A-2', paymentId: 'A', sequence: 2 },
      { eventId: 'evt-A-3', paymentId: 'A', sequence: 3 },
    ]);
  });

  it('checks every predecessor (n - 1) in one consistent BatchGetItem, and queries only the payment whose predecessor is pending', async () => {
    outbox.putPublished(envelope('A', 2), envelope('B', 3), envelope('C', 1)).put(envelope('B', 4));

    await relay([insertRecord(envelope('A', 3)), insertRecord(envelope('B', 5)), insertRecord(envelope('C', 2))]);

    const reads = dynamo.commandCalls(BatchGetCommand).map((call) => call.args[0].input);
    expect(reads).toEqual([
      {
        RequestItems: {
          Outbox: {
            Keys: [
              { aggregateId: 'A', sequence: 2 },
              { aggregateId: 'B', sequence: 4 },
              { aggregateId: 'C', sequence: 1 },
            ],
            ConsistentRead: true,
          },
        },
      },
    ]);
    const queries = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries).toEqual([
      {
        TableName: 'Outbox',
        KeyConditionExpression: 'aggregateId = :id AND #sequence < :sequence',
        FilterExpression: 'attribute_exists(#shard)',
        ExpressionAttributeNames: { '#sequence': 'sequence', '#shard': 'pendingShard' },
        ExpressionAttributeValues: { ':id': 'B', ':sequence': 5 },
        ConsistentRead: true,
        ExclusiveStartKey: undefined,
      },
    ]);
    expect(labels()).toEqual([['A-3', 'B-4', 'C-2'], ['B-5']]);
  });

  it('publishes a lost pending first event from the BatchGetItem answer alone, with no query', async () => {
    outbox.put(envelope('A', 1));

    const response = await relay([insertRecord(envelope('A', 2)), insertRecord(envelope('B', 1))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(labels()).toEqual([['A-1', 'B-1'], ['A-2']]);
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(1);
    expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
    expect(outbox.pendingLabels()).toEqual([]);
  });

  it('queries a payment once when several of its records need their predecessors', async () => {
    // A-2 and A-5's records were lost: A-3 and A-6 both pull them in, from one query.
    outbox.putPublished(envelope('A', 1)).put(envelope('A', 2), envelope('A', 4), envelope('A', 5));

    const response = await relay([insertRecord(envelope('A', 3)), insertRecord(envelope('A', 4)), insertRecord(envelope('A', 6))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input.ExpressionAttributeValues)).toEqual([{ ':id': 'A', ':sequence': 6 }]);
    expect(labels()).toEqual([['A-2'], ['A-3'], ['A-4'], ['A-5'], ['A-6']]);
    expect(outbox.pendingLabels()).toEqual([]);
  });

  it('reads the predecessor keys DynamoDB left unprocessed again before deciding', async () => {
    outbox.putPublished(envelope('A', 1)).put(envelope('A', 2));
    let reads = 0;
    dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
      reads += 1;
      return outbox.batchGet(input, (key) => reads === 1 && key.aggregateId === 'A');
    });

    const response = await relay([insertRecord(envelope('A', 3)), insertRecord(envelope('B', 2))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo.commandCalls(BatchGetCommand).map((call) => call.args[0].input.RequestItems?.Outbox?.Keys)).toEqual([
      [
        { aggregateId: 'A', sequence: 2 },
        { aggregateId: 'B', sequence: 1 },
      ],
      [{ aggregateId: 'A', sequence: 2 }],
    ]);
    expect(labels()).toEqual([['A-2', 'B-2'], ['A-3']]);
  });

  it('fails the record whose predecessor stays unprocessed, after publishing the records before it', async () => {
    const records = [insertRecord(envelope('B', 1)), insertRecord(envelope('A', 2)), insertRecord(envelope('C', 1))];
    dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => outbox.batchGet(input, () => true));

    const response = await relay(records);

    expect(labels()).toEqual([['B-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
    expect(outbox.pendingLabels()).toEqual(['A-2', 'C-1']);
  });

  it('makes no lookup for first events or events whose predecessor is earlier in the invocation', async () => {
    await relay([insertRecord(envelope('A', 1)), insertRecord(envelope('A', 2)), insertRecord(envelope('B', 1))]);

    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('sends nothing extra, and queries nothing, when the predecessors were already published', async () => {
    outbox.putPublished(envelope('A', 1), envelope('A', 2));

    await relay([insertRecord(envelope('A', 3))]);

    expect(labels()).toEqual([['A-3']]);
    expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('reports the pulling record and every later one when a predecessor is rejected, and sends nothing after', async () => {
    outbox.putPublished(envelope('A', 1)).put(envelope('A', 2));
    const records = [insertRecord(envelope('B', 1)), insertRecord(envelope('A', 3)), insertRecord(envelope('C', 1))];
    // First call: B-1 (entry 0) and the predecessor A-2 (entry 1).
    sns.on(PublishBatchCommand).callsFakeOnce(rejectIds('1'));

    const response = await relay(records);

    expect(labels()).toEqual([['B-1', 'A-2', 'C-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
    expect(outbox.pendingLabels()).toEqual(['A-2', 'A-3']);
  });

  it('reports the pulling record and every later one when the predecessor’s call throws', async () => {
    outbox.putPublished(envelope('A', 1)).put(envelope('A', 2));
    const records = [insertRecord(envelope('A', 3)), insertRecord(envelope('B', 1))];
    sns.on(PublishBatchCommand).rejectsOnce(new Error('socket hang up'));

    const response = await relay(records);

    expect(labels()).toEqual([['A-2', 'B-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records));
  });

  it('fails the record whose predecessors cannot be read, after publishing the records before it', async () => {
    const records = [insertRecord(envelope('B', 1)), insertRecord(envelope('A', 2)), insertRecord(envelope('C', 1))];
    dynamo.on(BatchGetCommand).rejects(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    const warn = vi.spyOn(logger, 'warn');

    const response = await relay(records);

    expect(labels()).toEqual([['B-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
    expect(warn.mock.calls[0]?.[1]).toMatchObject({
      reason: 'pending predecessors of event evt-A-2 could not be read: ProvisionedThroughputExceededException: Throughput exceeded',
    });
  });

  it('publishes the lost predecessor once even when its own record arrives later in the invocation', async () => {
    outbox.putPublished(envelope('A', 1)).put(envelope('A', 2));
    const records = [insertRecord(envelope('A', 3)), insertRecord(envelope('A', 2))];

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(labels()).toEqual([['A-2'], ['A-3']]);
  });
});

