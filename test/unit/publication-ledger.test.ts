import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type BatchGetCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbPublicationLedger } from '../../lambdas/adapters/dynamodb-publication-ledger';
import { InvalidOutboxItemError } from '../../lambdas/domain/event-envelope';
import { mapSettled } from '../../lambdas/use-cases/map-settled';
import { FakeOutboxTable } from '../support/outbox-table';
import { envelope } from '../support/stream-events';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const NOW = new Date('2026-11-25T00:10:00.000Z');
const ledger = new DynamoDbPublicationLedger(documentClient, { tableName: 'Outbox', markConcurrency: 3 }, { now: () => NOW });
const item = (aggregateId: string, sequence: number, extra: Record<string, unknown> = {}) => ({
  ...envelope(aggregateId, sequence),
  expiresAt: 1_800_000_000,
  pendingShard: 'p03',
  ...extra,
});

beforeEach(() => dynamo.reset());

describe('DynamoDbPublicationLedger.markPublished', () => {
  it('removes the pending marker and records the first publication time, on condition the item exists', async () => {
    dynamo.on(UpdateCommand).resolves({});

    const outcome = await ledger.markPublished([envelope('A', 2)]);

    expect(outcome).toEqual({ marked: 1, missing: [], failed: [] });
    expect(dynamo.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: 'Outbox',
      Key: { aggregateId: 'A', sequence: 2 },
      UpdateExpression: 'REMOVE #shard SET #publishedAt = if_not_exists(#publishedAt, :now)',
      ConditionExpression: 'attribute_exists(aggregateId)',
      ExpressionAttributeNames: { '#shard': 'pendingShard', '#publishedAt': 'publishedAt' },
      ExpressionAttributeValues: { ':now': NOW.toISOString() },
    });
  });

  it('reports an expired item as missing and another error as failed, and still marks the rest', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    dynamo
      .on(UpdateCommand)
      .resolves({})
      .on(UpdateCommand, { Key: { aggregateId: 'B', sequence: 1 } })
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }))
      .on(UpdateCommand, { Key: { aggregateId: 'C', sequence: 1 } })
      .rejects(throttled);
    const events = [envelope('A', 1), envelope('B', 1), envelope('C', 1), envelope('D', 1)];

    const outcome = await ledger.markPublished(events);

    expect(outcome.marked).toBe(2);
    expect(outcome.missing).toEqual([events[1]]);
    expect(outcome.failed).toEqual([{ event: events[2], reason: 'ThrottlingException: slow down', error: throttled }]);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(4);
  });

  it('marks an event listed twice once', async () => {
    dynamo.on(UpdateCommand).resolves({});

    await ledger.markPublished([envelope('A', 1), envelope('A', 1)]);

    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('keeps at most the configured number of updates in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    dynamo.on(UpdateCommand).callsFake(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return {};
    });

    const outcome = await ledger.markPublished(Array.from({ length: 10 }, (_, i) => envelope(`P${i}`, 1)));

    expect(outcome.marked).toBe(10);
    expect(peak).toBe(3);
  });
});

describe('DynamoDbPublicationLedger.markPublished with transactions', () => {
  const batched = new DynamoDbPublicationLedger(documentClient, { tableName: 'Outbox', markWith: 'transactions', retryBaseDelayMs: 0 }, { now: () => NOW });
  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
  const transactionKeys = () =>
    dynamo.commandCalls(TransactWriteCommand).map((call) => (call.args[0].input.TransactItems ?? []).map((t) => `${t.Update?.Key?.aggregateId}-${t.Update?.Key?.sequence}`));

  it('marks 250 events in three transactions of at most 100 updates, each the conditional update of one mark', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    const events = Array.from({ length: 250 }, (_, i) => envelope(`P${i}`, 1));

    const outcome = await batched.markPublished(events);

    expect(outcome).toEqual({ marked: 250, missing: [], failed: [] });
    expect(transactionKeys().map((keys) => keys.length)).toEqual([100, 100, 50]);
    expect(dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]).toEqual({
      Update: {
        TableName: 'Outbox',
        Key: { aggregateId: 'P0', sequence: 1 },
        UpdateExpression: 'REMOVE #shard SET #publishedAt = if_not_exists(#publishedAt, :now)',
        ConditionExpression: 'attribute_exists(aggregateId)',
        ExpressionAttributeNames: { '#shard': 'pendingShard', '#publishedAt': 'publishedAt' },
        ExpressionAttributeValues: { ':now': NOW.toISOString() },
      },
    });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('marks a lone event with one UpdateItem (a one-item transaction costs twice the write units)', async () => {
    dynamo.on(UpdateCommand).resolves({});

    expect(await batched.markPublished([envelope('A', 1), envelope('A', 1)])).toEqual({ marked: 1, missing: [], failed: [] });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('sets aside expired items (condition failed) and marks the rest in a second transaction, never creating an item', async () => {
    const outbox = new FakeOutboxTable().put(envelope('A', 1), envelope('C', 1), envelope('D', 1));
    dynamo.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => outbox.transactWrite(input));
    const events = [envelope('A', 1), envelope('B', 1), envelope('C', 1), envelope('D', 1)];

    const outcome = await batched.markPublished(events);

    expect(outcome).toEqual({ marked: 3, missing: [events[1]], failed: [] });
    expect(transactionKeys()).toEqual([
      ['A-1', 'B-1', 'C-1', 'D-1'],
      ['A-1', 'C-1', 'D-1'],
    ]);
    expect(outbox.pendingLabels()).toEqual([]);
    expect(outbox.item('B', 1)).toBeUndefined();
  });

  it('sends a transaction cancelled by a conflicting write again', async () => {
    dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict')).resolves({});

    const outcome = await batched.markPublished([envelope('A', 1), envelope('B', 1)]);

    expect(outcome).toEqual({ marked: 2, missing: [], failed: [] });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('reports every mark of a transaction that keeps conflicting, after its attempts, as failed', async () => {
    const error = cancelled('TransactionConflict', 'None');
    dynamo.on(TransactWriteCommand).rejects(error);
    const events = [envelope('A', 1), envelope('B', 1)];

    const outcome = await batched.markPublished(events);

    expect(outcome.marked).toBe(0);
    expect(outcome.failed.map((f) => f.event)).toEqual(events);
    expect(outcome.failed[0]?.reason).toBe('TransactionCanceledException: Transaction cancelled');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(4);
  });

  it('reports the marks of a failed call as failed, and still marks the other transactions', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    dynamo.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
      if (input.TransactItems?.[0]?.Update?.Key?.aggregateId === 'P100') throw throttled;
      return {};
    });
    const events = Array.from({ length: 102 }, (_, i) => envelope(`P${i}`, 1));

    const outcome = await batched.markPublished(events);

    expect(outcome.marked).toBe(100);
    expect(outcome.failed.map((f) => f.event.aggregateId)).toEqual(['P100', 'P101']);
    expect(outcome.failed[0]?.reason).toBe('ThrottlingException: slow down');
  });
});

describe('DynamoDbPublicationLedger.pendingStates', () => {
  const reader = new DynamoDbPublicationLedger(documentClient, { tableName: 'Outbox', retryBaseDelayMs: 0 }, { now: () => NOW });
  const batchKeys = () => dynamo.commandCalls(BatchGetCommand).map((call) => call.args[0].input.RequestItems?.Outbox?.Keys?.length);

  it('reads keys with consistent BatchGetItem requests of at most 100 keys, answering in the order asked', async () => {
    const outbox = new FakeOutboxTable().put(envelope('P0', 1)).putPublished(envelope('P1', 1));
    dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => outbox.batchGet(input));
    const keys = Array.from({ length: 230 }, (_, i) => ({ aggregateId: `P${i}`, sequence: 1 }));

    const states = await reader.pendingStates(keys);

    expect(batchKeys()).toEqual([100, 100, 30]);
    expect(dynamo.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.Outbox?.ConsistentRead).toBe(true);
    expect(states[0]).toEqual({ kind: 'pending', event: envelope('P0', 1) });
    expect(states.slice(1).every((state) => state.kind === 'notPending')).toBe(true);
    expect(states).toHaveLength(230);
  });

  it('reads the keys DynamoDB left unprocessed again until every key is answered', async () => {
    const outbox = new FakeOutboxTable().put(envelope('A', 1), envelope('B', 1));
    let calls = 0;
    dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
      calls += 1;
      return outbox.batchGet(input, (key) => calls === 1 && key.aggregateId === 'B');
    });

    const states = await reader.pendingStates([{ aggregateId: 'A', sequence: 1 }, { aggregateId: 'B', sequence: 1 }, { aggregateId: 'C', sequence: 1 }]);

    expect(states.map((state) => state.kind)).toEqual(['pending', 'pending', 'notPending']);
    expect(batchKeys()).toEqual([3, 1]);
  });

  it('answers unread for keys still unprocessed after the last attempt, and for every key of a failed request', async () => {
    dynamo
      .on(BatchGetCommand)
      .callsFake((input: BatchGetCommandInput) => new FakeOutboxTable().put(envelope('A', 1)).batchGet(input, (key) => key.aggregateId === 'A'));
    const throttled = Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });

    const states = await reader.pendingStates([{ aggregateId: 'A', sequence: 1 }]);
    dynamo.on(BatchGetCommand).rejects(throttled);
    const failed = await reader.pendingStates([{ aggregateId: 'B', sequence: 1 }]);

    expect(states).toEqual([{ kind: 'unread', reason: 'left unprocessed by BatchGetItem after 4 attempts' }]);
    expect(failed).toEqual([{ kind: 'unread', reason: 'ProvisionedThroughputExceededException: slow down' }]);
  });

  it('answers unread for a pending item that is no envelope: it must not be skipped', async () => {
    dynamo.on(BatchGetCommand).resolves({ Responses: { Outbox: [item('A', 1, { eventId: undefined })] } });

    const [state] = await reader.pendingStates([{ aggregateId: 'A', sequence: 1 }]);

    expect(state).toEqual({ kind: 'unread', reason: 'InvalidOutboxItemError: outbox item has no eventId' });
  });
});

describe('DynamoDbPublicationLedger.pendingBefore', () => {
  it('reads every page of the partition’s pending predecessors and returns envelopes in sequence order', async () => {
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [item('A', 1)], LastEvaluatedKey: { aggregateId: 'A', sequence: 1 } })
      .resolvesOnce({ Items: [item('A', 3)] });

    const events = await ledger.pendingBefore('A', 4);

    expect(events).toEqual([envelope('A', 1), envelope('A', 3)]);
    const queries = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries[1]?.ExclusiveStartKey).toEqual({ aggregateId: 'A', sequence: 1 });
    expect(queries.every((q) => q.ConsistentRead === true && q.IndexName === undefined)).toBe(true);
  });

  it('fails rather than skip a pending predecessor that cannot be read as an envelope', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [item('A', 1, { eventId: undefined })] });

    await expect(ledger.pendingBefore('A', 2)).rejects.toBeInstanceOf(InvalidOutboxItemError);
  });
});

describe('DynamoDbPublicationLedger.listPending', () => {
  it('queries one shard of the PendingEvents index, oldest first, before the cutoff, from the cursor', async () => {
    const cursor = { aggregateId: 'A', sequence: 1, pendingShard: 'p03', occurredAt: '2026-11-25T00:00:00.000Z' };
    dynamo.on(QueryCommand).resolves({ Items: [item('B', 1)], LastEvaluatedKey: { aggregateId: 'B', sequence: 1 } });

    const page = await ledger.listPending('p03', { occurredBefore: '2026-11-25T00:08:00.000Z', limit: 50, cursor });

    expect(page).toEqual({
      events: [envelope('B', 1)],
      invalid: [],
      scanned: 1,
      cursor: { aggregateId: 'B', sequence: 1 },
    });
    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: 'Outbox',
      IndexName: 'PendingEvents',
      KeyConditionExpression: '#shard = :shard AND #occurredAt < :before',
      ExpressionAttributeNames: { '#shard': 'pendingShard', '#occurredAt': 'occurredAt' },
      ExpressionAttributeValues: { ':shard': 'p03', ':before': '2026-11-25T00:08:00.000Z' },
      ScanIndexForward: true,
      Limit: 50,
      ExclusiveStartKey: cursor,
    });
  });

  it('lists unreadable items apart instead of failing the page, and has no cursor on the last page', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [item('A', 1), item('B', 2, { type: undefined })] });

    const page = await ledger.listPending('p03', { occurredBefore: '2026-11-25T00:08:00.000Z', limit: 50 });

    expect(page.events).toEqual([envelope('A', 1)]);
    expect(page.invalid).toEqual([{ aggregateId: 'B', sequence: 2, reason: 'outbox item has no type' }]);
    expect(page.scanned).toBe(2);
    expect(page).not.toHaveProperty('cursor');
  });
});

describe('DynamoDbPublicationLedger.oldestPendingOccurredAt', () => {
  it('reads the first item of the shard, projecting only occurredAt', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [{ occurredAt: '2026-11-25T00:01:00.000Z' }] });

    await expect(ledger.oldestPendingOccurredAt('p09')).resolves.toBe('2026-11-25T00:01:00.000Z');
    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: 'PendingEvents',
      KeyConditionExpression: '#shard = :shard',
      ExpressionAttributeValues: { ':shard': 'p09' },
      ProjectionExpression: '#occurredAt',
      ScanIndexForward: true,
      Limit: 1,
    });
  });

  it('answers undefined for an empty shard', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [] });

    await expect(ledger.oldestPendingOccurredAt('p00')).resolves.toBeUndefined();
  });
});

describe('mapSettled', () => {
  it('returns outcomes in input order whatever order the tasks finish in', async () => {
    const results = await mapSettled([30, 10, 20], 2, async (ms, index) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (index === 1) throw new Error('second');
      return ms;
    });

    expect(results).toEqual([
      { status: 'fulfilled', value: 30 },
      { status: 'rejected', reason: new Error('second') },
      { status: 'fulfilled', value: 20 },
    ]);
  });

  it('refuses a concurrency below one', async () => {
    await expect(mapSettled([1], 0, async (x) => x)).rejects.toThrow(RangeError);
  });
});
