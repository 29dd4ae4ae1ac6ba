import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { PublishBatchCommand, SNSClient, ThrottledException, type PublishBatchCommandInput } from '@aws-sdk/client-sns';
import {
  DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
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
});
afterEach(() => vi.restoreAllMocks());

describe('relay handler', () => {
  it('publishes every INSERT and reports no failures when the topic accepts everything', async () => {
    const info = vi.spyOn(logger, 'info');
    const records = distinctPayments(12);

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sentBatches().map((b) => b.PublishBatchRequestEntries?.length)).toEqual([10, 2]);
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]?.[1]).toEqual({ records: 12, published: 12, gapFilled: 0, failed: 0, skipped: 0, markFailures: 0 });
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

  it('reports exactly the first rejected entry of batch 1 and every later record, and sends nothing more', async () => {
    const records = distinctPayments(14);
    sns.on(PublishBatchCommand).callsFakeOnce(rejectIds('3', '6'));

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(3)));
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(1);
  });

  it('reports all of batch 2 onward when the second call throws, and never sends batch 3', async () => {
    const records = distinctPayments(25);
    sns
      .on(PublishBatchCommand)
      .callsFakeOnce(acceptAll)
      .rejectsOnce(new Error('socket hang up'))
      .callsFake(acceptAll);

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(10)));
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(2);
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

    expect(labels()).toEqual([['A-1'], ['A-2', 'B-1'], ['A-3', 'B-2']]);
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
    expect(info).not.toHaveBeenCalled();
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
    const updates = dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates.map((u) => u.Key)).toEqual([
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

  it('marks only what the topic accepted: a rejected entry and every later record stay pending', async () => {
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1)), insertRecord(envelope('C', 1))];
    sns.on(PublishBatchCommand).callsFakeOnce(rejectIds('1'));

    await relay(records);

    expect(outbox.pendingLabels()).toEqual(['B-1', 'C-1']);
  });

  it('does not fail the record when marking fails, and reports it in a log line and a metric', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const error = vi.spyOn(logger, 'error');
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1))];
    dynamo
      .on(UpdateCommand)
      .rejectsOnce(Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' }))
      .callsFake((input: UpdateCommandInput) => outbox.update(input));

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(labels()).toEqual([['A-1', 'B-1']]);
    expect(outbox.pendingLabels()).toEqual(['A-1']);
    expect(addMetric).toHaveBeenCalledWith('MarkPublishedFailures', 'Count', 1);
    expect(error).toHaveBeenCalledTimes(1);
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
    expect(labels()).toEqual([['A-2'], ['A-3'], ['A-4', 'B-1']]);
    const [first] = sentBatches();
    expect(first?.PublishBatchRequestEntries).toEqual([
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
    ]);
    expect(outbox.pendingLabels()).toEqual([]);
    expect(addMetric).toHaveBeenCalledWith('GapFilledEvents', 'Count', 2);
    expect(addMetric).toHaveBeenCalledWith('EventsPublished', 'Count', 4);
    expect(warn.mock.calls.map((call) => call[1])).toEqual([
      { eventId: 'evt-A-2', paymentId: 'A', sequence: 2 },
      { eventId: 'evt-A-3', paymentId: 'A', sequence: 3 },
    ]);
  });

  it('reads predecessors with a strongly consistent query of the payment’s partition, pending items only', async () => {
    await relay([insertRecord(envelope('A', 3))]);

    const queries = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries).toEqual([
      {
        TableName: 'Outbox',
        KeyConditionExpression: 'aggregateId = :id AND #sequence < :sequence',
        FilterExpression: 'attribute_exists(#shard)',
        ExpressionAttributeNames: { '#sequence': 'sequence', '#shard': 'pendingShard' },
        ExpressionAttributeValues: { ':id': 'A', ':sequence': 3 },
        ConsistentRead: true,
        ExclusiveStartKey: undefined,
      },
    ]);
  });

  it('makes no lookup for first events or events whose predecessor is earlier in the invocation', async () => {
    await relay([insertRecord(envelope('A', 1)), insertRecord(envelope('A', 2)), insertRecord(envelope('B', 1))]);

    expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('sends nothing extra when the predecessors were already published', async () => {
    outbox.putPublished(envelope('A', 1), envelope('A', 2));

    await relay([insertRecord(envelope('A', 3))]);

    expect(labels()).toEqual([['A-3']]);
  });

  it('reports the pulling record and every later one when a predecessor is rejected, and sends nothing after', async () => {
    outbox.putPublished(envelope('A', 1)).put(envelope('A', 2));
    const records = [insertRecord(envelope('B', 1)), insertRecord(envelope('A', 3)), insertRecord(envelope('C', 1))];
    // First call: B-1 (entry 0) and the predecessor A-2 (entry 1).
    sns.on(PublishBatchCommand).callsFakeOnce(rejectIds('1'));

    const response = await relay(records);

    expect(labels()).toEqual([['B-1', 'A-2']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
    expect(outbox.pendingLabels()).toEqual(['A-2', 'A-3', 'C-1']);
  });

  it('reports the pulling record and every later one when the predecessor’s call throws', async () => {
    outbox.putPublished(envelope('A', 1)).put(envelope('A', 2));
    const records = [insertRecord(envelope('A', 3)), insertRecord(envelope('B', 1))];
    sns.on(PublishBatchCommand).rejectsOnce(new Error('socket hang up'));

    const response = await relay(records);

    expect(labels()).toEqual([['A-2']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records));
  });

  it('fails the record whose predecessors cannot be read, after publishing the records before it', async () => {
    const records = [insertRecord(envelope('B', 1)), insertRecord(envelope('A', 2)), insertRecord(envelope('C', 1))];
    dynamo.on(QueryCommand).rejects(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }));
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

