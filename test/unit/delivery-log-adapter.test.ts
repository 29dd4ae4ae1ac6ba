import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryLog } from '../../lambdas/adapters/dynamodb-delivery-log';
import { DynamoDbPaymentEventsReader } from '../../lambdas/adapters/dynamodb-payment-events-reader';
import type { DeliveryRecord } from '../../lambdas/domain/delivery-state';
import { envelope } from '../support/stream-events';

const dynamo = mockClient(DynamoDBDocumentClient);
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

beforeEach(() => dynamo.reset());

const delivered: DeliveryRecord = {
  subscriber: 'shop',
  paymentId: 'pay-1',
  sequence: 12,
  eventId: 'evt-12',
  eventType: 'payment.approved',
  occurredAt: '2026-11-25T00:00:00.000Z',
  messageId: 'msg-1',
  attempts: 2,
  updatedAt: '2026-11-25T00:00:10.000Z',
  state: 'delivered',
  statusCode: 200,
  deliveredAt: '2026-11-25T00:00:10.000Z',
  latencyMs: 10_000,
};

describe('DynamoDbDeliveryLog', () => {
  const log = new DynamoDbDeliveryLog(documentClient, { tableName: 'Deliveries', retentionDays: 30 });

  it('puts the record under paymentId / <subscriber>#<10-digit sequence> with a TTL from its last update', async () => {
    dynamo.on(PutCommand).resolves({});

    await log.put(delivered);

    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: 'Deliveries',
      Item: { ...delivered, sk: 'shop#0000000012', expiresAt: Math.floor(Date.parse('2026-11-25T00:00:10.000Z') / 1000) + 30 * 86_400 },
    });
  });

  it('reads one record consistently and strips the key and TTL attributes', async () => {
    dynamo.on(GetCommand).resolves({ Item: { ...delivered, sk: 'shop#0000000012', expiresAt: 1 } });

    expect(await log.get('shop', 'pay-1', 12)).toEqual(delivered);
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'Deliveries',
      Key: { paymentId: 'pay-1', sk: 'shop#0000000012' },
      ConsistentRead: true,
    });
  });

  it('answers undefined before the first attempt', async () => {
    dynamo.on(GetCommand).resolves({});

    expect(await log.get('shop', 'pay-1', 1)).toBeUndefined();
  });

  it('lists every record of a payment across pages', async () => {
    const second = { ...delivered, subscriber: 'crm', sk: 'crm#0000000012' };
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ ...delivered, sk: 'shop#0000000012', expiresAt: 1 }], LastEvaluatedKey: { paymentId: 'pay-1', sk: 'shop#0000000012' } })
      .resolvesOnce({ Items: [second] });

    const records = await log.listForPayment('pay-1');

    expect(records.map((record) => record.subscriber)).toEqual(['shop', 'crm']);
    expect(records[0]).toEqual(delivered);
    const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toMatchObject({
      TableName: 'Deliveries',
      KeyConditionExpression: '#pk = :paymentId',
      ExpressionAttributeNames: { '#pk': 'paymentId' },
      ExpressionAttributeValues: { ':paymentId': 'pay-1' },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ paymentId: 'pay-1', sk: 'shop#0000000012' });
  });
});

describe('DynamoDbPaymentEventsReader', () => {
  const reader = new DynamoDbPaymentEventsReader(documentClient, { payments: 'Payments', outbox: 'Outbox' });

  it('tells whether the payment exists with a consistent, projected read', async () => {
    dynamo.on(GetCommand, { TableName: 'Payments', Key: { paymentId: 'pay-1' } }).resolves({ Item: { paymentId: 'pay-1' } });
    dynamo.on(GetCommand, { TableName: 'Payments', Key: { paymentId: 'nope' } }).resolves({});

    expect(await reader.paymentExists('pay-1')).toBe(true);
    expect(await reader.paymentExists('nope')).toBe(false);
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({ ProjectionExpression: 'paymentId', ConsistentRead: true });
  });

  it('lists the outbox events in sequence order with publishedAt when they were confirmed published', async () => {
    const first = envelope('pay-1', 1);
    const second = envelope('pay-1', 2);
    dynamo
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ ...second, expiresAt: 9, pendingShard: 'p03' }],
        LastEvaluatedKey: { aggregateId: 'pay-1', sequence: 2 },
      })
      .resolvesOnce({ Items: [{ ...first, expiresAt: 9, publishedAt: '2026-11-25T00:00:00.400Z' }] });

    const events = await reader.listPublishedEvents('pay-1');

    expect(events).toEqual([{ envelope: first, publishedAt: '2026-11-25T00:00:00.400Z' }, { envelope: second }]);
    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'Outbox',
      KeyConditionExpression: 'aggregateId = :id',
      ConsistentRead: true,
    });
  });
});
