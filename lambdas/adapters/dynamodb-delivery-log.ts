/**
 * The delivery log on the Deliveries table: PK `paymentId` (S), SK `<subscriber>#<sequence,
 * 10 digits>` (S), TTL attribute `expiresAt` (epoch seconds). One item per (subscriber, event),
 * replaced at each attempt, so a payment's records are one Query.
 */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DELIVERIES_PARTITION_KEY,
  DELIVERIES_SORT_KEY,
  DELIVERIES_TTL_ATTRIBUTE,
  deliverySortKey,
  type DeliveryRecord,
} from '../domain/delivery-state';
import type { DeliveryLog } from '../ports/delivery-log';
import { storeCall } from './dynamodb-errors';

const SECONDS_PER_DAY = 86_400;

export interface DynamoDbDeliveryLogSettings {
  readonly tableName: string;
  /** Days a record is kept after its last update (TTL). */
  readonly retentionDays: number;
}

export class DynamoDbDeliveryLog implements DeliveryLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly settings: DynamoDbDeliveryLogSettings,
  ) {}

  async get(subscriber: string, paymentId: string, sequence: number): Promise<DeliveryRecord | undefined> {
    const { Item } = await storeCall(() => this.client.send(
      new GetCommand({
        TableName: this.settings.tableName,
        Key: { [DELIVERIES_PARTITION_KEY]: paymentId, [DELIVERIES_SORT_KEY]: deliverySortKey(subscriber, sequence) },
        ConsistentRead: true,
      }),
    ));
    return Item ? toRecord(Item) : undefined;
  }

  async put(record: DeliveryRecord): Promise<void> {
    const expiresAt = Math.floor(Date.parse(record.updatedAt) / 1000) + this.settings.retentionDays * SECONDS_PER_DAY;
    await storeCall(() => this.client.send(
      new PutCommand({
        TableName: this.settings.tableName,
        Item: {
          ...record,
          [DELIVERIES_PARTITION_KEY]: record.paymentId,
          [DELIVERIES_SORT_KEY]: deliverySortKey(record.subscriber, record.sequence),
          [DELIVERIES_TTL_ATTRIBUTE]: expiresAt,
        },
      }),
    ));
  }

  async listForPayment(paymentId: string): Promise<DeliveryRecord[]> {
    const records: DeliveryRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await storeCall(() => this.client.send(
        new QueryCommand({
          TableName: this.settings.tableName,
          KeyConditionExpression: '#pk = :paymentId',
          ExpressionAttributeNames: { '#pk': DELIVERIES_PARTITION_KEY },
          ExpressionAttributeValues: { ':paymentId': paymentId },
          ExclusiveStartKey: startKey,
        }),
      ));
      for (const item of page.Items ?? []) records.push(toRecord(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }
}

function toRecord(item: Record<string, unknown>): DeliveryRecord {
  const { [DELIVERIES_SORT_KEY]: _sk, [DELIVERIES_TTL_ATTRIBUTE]: _expiresAt, ...record } = item;
  return record as unknown as DeliveryRecord;
}
