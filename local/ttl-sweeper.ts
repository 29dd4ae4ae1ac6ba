/**
 * Enforces TimeToLiveSpecification locally: DynamoDB Local accepts TTL settings but does not
 * reliably expire items. Every interval, each TTL table is scanned for items whose TTL
 * attribute (epoch seconds) is in the past and they are deleted, conditionally (still
 * expired), so an item rewritten meanwhile survives. Like TTL on AWS, the deletes appear in the
 * table's stream as REMOVE records: the relay's INSERT filter drops them.
 */
import { DeleteItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describeError, type LocalLogger } from './log';
import type { TableSpec } from './template/resolve';

export interface TtlSweeperOptions {
  readonly client: DynamoDBClient;
  readonly tables: readonly TableSpec[];
  readonly log: LocalLogger;
  /** Seconds between sweeps. @default 30 */
  readonly intervalSeconds?: number;
  /** Clock in epoch seconds (tests). @default Date.now() / 1000 */
  readonly nowSeconds?: () => number;
}

export interface TtlSweeperStats {
  sweeps: number;
  deleted: number;
}

export class TtlSweeper {
  readonly stats: TtlSweeperStats = { sweeps: 0, deleted: 0 };
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<number> | undefined;
  private readonly tables: TableSpec[];

  constructor(private readonly options: TtlSweeperOptions) {
    this.tables = options.tables.filter((t) => t.ttlAttribute !== undefined);
  }

  start(): void {
    if (this.timer || this.tables.length === 0) return;
    const intervalMs = (this.options.intervalSeconds ?? 30) * 1000;
    this.timer = setInterval(() => {
      if (!this.current) void this.sweep();
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** One sweep of every TTL table; returns how many items it deleted. */
  sweep(): Promise<number> {
    this.current ??= this.sweepAll().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  private async sweepAll(): Promise<number> {
    let deleted = 0;
    for (const table of this.tables) {
      try {
        deleted += await this.sweepTable(table);
      } catch (error) {
        this.options.log.warn(`sweeping ${table.tableName} failed: ${describeError(error)}`);
      }
    }
    this.stats.sweeps++;
    this.stats.deleted += deleted;
    return deleted;
  }

  private async sweepTable(table: TableSpec): Promise<number> {
    const { client, log } = this.options;
    const attribute = table.ttlAttribute as string;
    const now = Math.floor(this.options.nowSeconds?.() ?? Date.now() / 1000);
    const keyNames = table.keySchema.map((k) => k.AttributeName);
    let deleted = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: table.tableName,
          FilterExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': attribute },
          ExpressionAttributeValues: { ':now': { N: String(now) } },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const key = Object.fromEntries(keyNames.map((name) => [name, item[name] as AttributeValue]));
        try {
          await client.send(
            new DeleteItemCommand({
              TableName: table.tableName,
              Key: key,
              ConditionExpression: '#ttl < :now',
              ExpressionAttributeNames: { '#ttl': attribute },
              ExpressionAttributeValues: { ':now': { N: String(now) } },
            }),
          );
          deleted++;
        } catch (error) {
          if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    if (deleted > 0) log.info(`deleted ${deleted} expired item${deleted === 1 ? '' : 's'} from ${table.tableName}`);
    return deleted;
  }
}
