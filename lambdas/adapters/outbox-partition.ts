import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { storeCall } from './dynamodb-errors';

/** Every outbox item of one payment, in sequence order (the table's sort key), strongly consistent. */
export async function queryOutboxPartition(
  client: DynamoDBDocumentClient,
  outboxTable: string,
  aggregateId: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await storeCall(() => client.send(
      new QueryCommand({
        TableName: outboxTable,
        KeyConditionExpression: 'aggregateId = :id',
        ExpressionAttributeValues: { ':id': aggregateId },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    ));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
