import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalStack } from './stack';

/**
 * Every item of a local table, strongly consistent, for checks, tests and benchmarks on small
 * tables. `tableFragment` picks the table as `LocalStack.tableName` does (e.g. `Outbox`).
 */
export async function scanTable(stack: LocalStack, tableFragment: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await stack.clients.documents.send(
      new ScanCommand({ TableName: stack.tableName(tableFragment), ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
