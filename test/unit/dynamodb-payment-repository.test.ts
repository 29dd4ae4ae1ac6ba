import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbPaymentRepository } from '../../lambdas/adapters/dynamodb-payment-repository';
import { IdempotencyRecordExistsError, PaymentVersionConflictError, StoreUnavailableError } from '../../lambdas/domain/errors';
import { confirmPayment, createPayment } from '../../lambdas/domain/payment';
import { pendingShardOf } from '../../lambdas/domain/pending-shards';
import { envelopeFromOutboxItem, eventTraceparent, OUTBOX_TRACEPARENT_ATTRIBUTE } from '../../lambdas/domain/event-envelope';
import { formatTraceparent, type TraceContext } from '../../lambdas/domain/trace-context';
import { currentTraceContext, runInTrace } from '../../lambdas/platform/trace-scope';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const repository = new DynamoDbPaymentRepository(
  documentClient,
  { payments: 'Payments', outbox: 'Outbox', idempotency: 'Idempotency' },
  { outboxDays: 30, idempotencyDays: 7 },
);

const created = createPayment(
  { paymentId: 'pay-1', orderId: 'o-1', amount: 500, currency: 'USD', method: 'CARD' },
  { now: '2026-11-25T00:00:00.000Z', eventId: 'evt-1' },
);
const approved = confirmPayment(created.payment, { approved: true, pgTransactionId: 'tx' }, { now: '2026-11-25T00:01:00.000Z', eventId: 'evt-2' });
const record = {
  key: 'api:k',
  requestHash: 'h',
  paymentId: 'pay-1',
  statusCode: 201,
  response: created.payment,
  createdAt: '2026-11-25T00:00:00.000Z',
};

function cancelled(codes: string[]) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

beforeEach(() => dynamo.reset());

describe('DynamoDbPaymentRepository.commit', () => {
  it('writes payment, outbox event and idempotency record in one conditional transaction', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    await repository.commit(created, record);
    const input = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input;
    expect(input?.ClientRequestToken).toBe('evt-1');
    expect(input?.TransactItems).toEqual([
      { Put: expect.objectContaining({ TableName: 'Payments', Item: created.payment, ConditionExpression: 'attribute_not_exists(paymentId)' }) },
      {
        Put: expect.objectContaining({
          TableName: 'Outbox',
          Item: {
            ...created.event,
            expiresAt: Date.parse('2026-11-25T00:00:00.000Z') / 1000 + 30 * 86_400,
            pendingShard: pendingShardOf('pay-1'),
          },
          ConditionExpression: 'attribute_not_exists(aggregateId)',
        }),
      },
      {
        Put: expect.objectContaining({
          TableName: 'Idempotency',
          Item: { ...record, expiresAt: Date.parse(record.createdAt) / 1000 + 7 * 86_400 },
          ConditionExpression: 'attribute_not_exists(#key)',
        }),
      },
    ]);
  });

  it('conditions an update on the version the change was decided from', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    await repository.commit(approved);
    const items = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems;
    expect(items).toHaveLength(2);
    expect(items?.[0]?.Put).toMatchObject({ ConditionExpression: '#version = :expected', ExpressionAttributeValues: { ':expected': 1 } });
  });

  it.each([
    [['ConditionalCheckFailed', 'None']],
    [['None', 'ConditionalCheckFailed']],
    [['TransactionConflict', 'None']],
  ])('translates cancellation %j into PaymentVersionConflictError', async (codes) => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(codes));
    await expect(repository.commit(approved)).rejects.toBeInstanceOf(PaymentVersionConflictError);
  });

  it('marks every outbox item pending under its payment’s shard, so a later change of the same payment shares it', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    await repository.commit(created);
    await repository.commit(approved);
    const shards = dynamo
      .commandCalls(TransactWriteCommand)
      .map((call) => call.args[0].input.TransactItems?.[1]?.Put?.Item?.pendingShard);
    expect(shards).toEqual([pendingShardOf('pay-1'), pendingShardOf('pay-1')]);
    expect(shards[0]).toMatch(/^p(0\d|1[0-5])$/);
  });

  it('translates a failed idempotency condition into IdempotencyRecordExistsError', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(['None', 'None', 'ConditionalCheckFailed']));
    await expect(repository.commit(created, record)).rejects.toBeInstanceOf(IdempotencyRecordExistsError);
  });

  it('answers a transaction cancelled by throttling as the store being unavailable (503 with Retry-After), not as a conflict or a bug', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(['ThrottlingError', 'None']));
    await expect(repository.commit(approved)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('answers throttling, DynamoDB faults and unreachable endpoints, after the SDK\'s retries, as the store being unavailable', async () => {
    const failures = [
      Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error('Throughput exceeds the current capacity of your table or index.'), { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    ];
    for (const failure of failures) {
      dynamo.reset();
      dynamo.on(TransactWriteCommand).rejects(failure);
      dynamo.on(GetCommand).rejects(failure);
      const error = await repository.commit(approved).catch((e: unknown) => e);
      expect(error, failure.message).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
      await expect(repository.getPayment('pay-1'), failure.message).rejects.toBeInstanceOf(StoreUnavailableError);
    }
  });

  it('lets other failures through unchanged: a malformed request is our bug (500), not the store being down', async () => {
    const malformed = Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    dynamo.on(TransactWriteCommand).rejects(malformed);
    await expect(repository.commit(approved)).rejects.toBe(malformed);
  });
});

describe('DynamoDbPaymentRepository.listEvents', () => {
  it('returns envelopes without the outbox bookkeeping (TTL, pending marker, publication time)', async () => {
    dynamo.on(QueryCommand).resolves({
      Items: [
        { ...created.event, expiresAt: 1, publishedAt: '2026-11-25T00:00:01.000Z' },
        { ...approved.event, expiresAt: 2, pendingShard: pendingShardOf('pay-1') },
      ],
    });

    const events = await repository.listEvents('pay-1');

    expect(events).toEqual([created.event, approved.event]);
  });
});

describe('DynamoDbPaymentRepository.getPayment', () => {
  it('answers the stored payment with its fields in a stable order, whatever order DynamoDB returns', async () => {
    const { paymentId, orderId, ...rest } = approved.payment;
    dynamo.on(GetCommand).resolves({ Item: { ...rest, orderId, paymentId } });
    const payment = await repository.getPayment('pay-1');
    expect(payment).toEqual(approved.payment);
    expect(Object.keys(payment ?? {}).slice(0, 6)).toEqual(['paymentId', 'orderId', 'amount', 'currency', 'method', 'status']);
  });
});

describe('DynamoDbPaymentRepository.commit: the trace context of the change', () => {
  const tables = { payments: 'Payments', outbox: 'Outbox', idempotency: 'Idempotency' };
  const retention = { outboxDays: 30, idempotencyDays: 7 };
  const trace: TraceContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', sampled: true };
  const outboxItems = () =>
    dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems?.find((item) => item.Put?.TableName === 'Outbox')?.Put?.Item);

  it('writes the trace source’s context as the outbox item’s traceparent', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    const traced = new DynamoDbPaymentRepository(documentClient, tables, retention, () => trace);

    await traced.commit(created, record);

    expect(outboxItems()).toEqual([expect.objectContaining({ traceparent: formatTraceparent(trace) })]);
    expect(outboxItems()[0]?.[OUTBOX_TRACEPARENT_ATTRIBUTE]).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('writes no traceparent attribute without a trace source, or when the source has no context', async () => {
    dynamo.on(TransactWriteCommand).resolves({});

    await repository.commit(created);
    await new DynamoDbPaymentRepository(documentClient, tables, retention, () => undefined).commit(approved);

    expect(outboxItems()).toHaveLength(2);
    for (const item of outboxItems()) expect(item).not.toHaveProperty(OUTBOX_TRACEPARENT_ATTRIBUTE);
  });

  it('puts the traceparent on the outbox item only: the payment and the idempotency record are unchanged', async () => {
    dynamo.on(TransactWriteCommand).resolves({});

    await new DynamoDbPaymentRepository(documentClient, tables, retention, () => trace).commit(created, record);

    const items = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((item) => [item.Put?.TableName, item.Put?.Item && OUTBOX_TRACEPARENT_ATTRIBUTE in item.Put.Item])).toEqual([
      ['Payments', false],
      ['Outbox', true],
      ['Idempotency', false],
    ]);
    expect(items[0]?.Put?.Item).toEqual(created.payment);
  });

  it('reads the context at commit time, so concurrent requests in their own scopes each write their own', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    const scoped = new DynamoDbPaymentRepository(documentClient, tables, retention, currentTraceContext);
    const other: TraceContext = { traceId: '0af7651916cd43dd8448eb211c80319c', parentId: 'b7ad6b7169203331', sampled: false };
    const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    await Promise.all([
      runInTrace(trace, async () => {
        await later(10);
        await scoped.commit(created);
      }),
      runInTrace(other, async () => {
        await later(1);
        await scoped.commit(approved);
      }),
    ]);

    const byEvent = Object.fromEntries(outboxItems().map((item) => [item?.eventId, item?.[OUTBOX_TRACEPARENT_ATTRIBUTE]]));
    expect(byEvent).toEqual({ 'evt-1': formatTraceparent(trace), 'evt-2': formatTraceparent(other) });
  });

  it('writes the traceparent the relay reads back beside the envelope', async () => {
    dynamo.on(TransactWriteCommand).resolves({});

    await new DynamoDbPaymentRepository(documentClient, tables, retention, () => trace).commit(created);

    const written = outboxItems()[0] ?? {};
    const relayed = envelopeFromOutboxItem(written);
    expect(eventTraceparent(relayed)).toBe(formatTraceparent(trace));
    expect(JSON.stringify(relayed)).toBe(JSON.stringify(created.event));
  });
});
