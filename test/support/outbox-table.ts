/**
 * A stand-in for the Outbox table and its sparse `PendingEvents` index, answering the exact
 * Query, UpdateItem, BatchGetItem and TransactWriteItems requests the publication ledger sends
 * (and refusing any other shape), so
 * relay and sweeper tests can be written against outbox contents. The real expressions run
 * against DynamoDB Local in the integration tests.
 */
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  TransactWriteCommandInput,
  UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { PENDING_EVENTS_INDEX_NAME, pendingShardOf } from '../../lambdas/domain/pending-shards';

export type OutboxItem = EventEnvelope & { expiresAt: number; pendingShard?: string; publishedAt?: string };

const key = (aggregateId: string, sequence: number) => `${aggregateId}#${sequence}`;

export class FakeOutboxTable {
  readonly items = new Map<string, OutboxItem>();

  /** Stores events as the payment repository writes them: pending under their shard. */
  put(...events: EventEnvelope[]): this {
    for (const event of events) {
      this.items.set(key(event.aggregateId, event.sequence), {
        ...event,
        expiresAt: Math.floor(Date.parse(event.occurredAt) / 1000) + 30 * 86_400,
        pendingShard: pendingShardOf(event.aggregateId),
      });
    }
    return this;
  }

  /** Stores events already marked published. */
  putPublished(...events: EventEnvelope[]): this {
    this.put(...events);
    for (const event of events) this.markPublished(event.aggregateId, event.sequence, '2026-11-25T00:00:00.500Z');
    return this;
  }

  item(aggregateId: string, sequence: number): OutboxItem | undefined {
    return this.items.get(key(aggregateId, sequence));
  }

  /** `aggregateId-sequence` of every pending item, sorted. */
  pendingLabels(): string[] {
    return [...this.items.values()]
      .filter((item) => item.pendingShard !== undefined)
      .map((item) => `${item.aggregateId}-${item.sequence}`)
      .sort();
  }

  query(input: QueryCommandInput): Partial<QueryCommandOutput> {
    const values = input.ExpressionAttributeValues ?? {};
    if (input.IndexName === undefined) {
      expectShape(input.KeyConditionExpression, 'aggregateId = :id AND #sequence < :sequence');
      expectShape(input.FilterExpression, 'attribute_exists(#shard)');
      if (input.ConsistentRead !== true) throw new Error('predecessor lookups must be strongly consistent');
      const items = [...this.items.values()]
        .filter((item) => item.aggregateId === values[':id'] && item.sequence < Number(values[':sequence']))
        .filter((item) => item.pendingShard !== undefined)
        .sort((a, b) => a.sequence - b.sequence);
      return { Items: items.map((item) => ({ ...item })) };
    }
    if (input.IndexName !== PENDING_EVENTS_INDEX_NAME) throw new Error(`unknown index ${input.IndexName}`);
    if (input.ConsistentRead) throw new Error('a GSI cannot be read consistently');
    const shard = values[':shard'];
    const before = values[':before'] as string | undefined;
    if (before === undefined) expectShape(input.KeyConditionExpression, '#shard = :shard');
    else expectShape(input.KeyConditionExpression, '#shard = :shard AND #occurredAt < :before');
    let items = [...this.items.values()]
      .filter((item) => item.pendingShard === shard && (before === undefined || item.occurredAt < before))
      .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.aggregateId.localeCompare(b.aggregateId) || a.sequence - b.sequence);
    if (input.ScanIndexForward === false) items.reverse();
    const start = input.ExclusiveStartKey;
    if (start) {
      const at = items.findIndex((item) => item.aggregateId === start.aggregateId && item.sequence === start.sequence);
      items = items.slice(at + 1);
    }
    const limit = input.Limit ?? items.length;
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    const more = items.length > limit && last !== undefined;
    const projected = input.ProjectionExpression === '#occurredAt' ? page.map((item) => ({ occurredAt: item.occurredAt })) : page;
    return {
      Items: projected.map((item) => ({ ...item })),
      ...(more && {
        LastEvaluatedKey: { aggregateId: last.aggregateId, sequence: last.sequence, pendingShard: shard, occurredAt: last.occurredAt },
      }),
    };
  }

  update(input: UpdateCommandInput): Record<string, never> {
    expectShape(input.UpdateExpression, 'REMOVE #shard SET #publishedAt = if_not_exists(#publishedAt, :now)');
    expectShape(input.ConditionExpression, 'attribute_exists(aggregateId)');
    const aggregateId = String(input.Key?.aggregateId);
    const sequence = Number(input.Key?.sequence);
    if (!this.item(aggregateId, sequence)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    this.markPublished(aggregateId, sequence, String(input.ExpressionAttributeValues?.[':now']));
    return {};
  }

  /** A consistent BatchGetItem on the table; `unprocessed` picks keys to leave unprocessed (as DynamoDB may). */
  batchGet(input: BatchGetCommandInput, unprocessed: (key: Record<string, unknown>) => boolean = () => false): Partial<BatchGetCommandOutput> {
    const tables = Object.entries(input.RequestItems ?? {});
    if (tables.length !== 1) throw new Error('the fake reads one table per BatchGetItem');
    const [[tableName, request]] = tables as [[string, NonNullable<BatchGetCommandInput['RequestItems']>[string]]];
    if (request.ConsistentRead !== true) throw new Error('predecessor reads must be strongly consistent');
    const keys = request.Keys ?? [];
    if (keys.length > 100) throw new Error(`BatchGetItem takes at most 100 keys, got ${keys.length}`);
    const left = keys.filter(unprocessed);
    const items = keys
      .filter((k) => !left.includes(k))
      .map((k) => this.item(String(k.aggregateId), Number(k.sequence)))
      .filter((item): item is OutboxItem => item !== undefined);
    return {
      Responses: { [tableName]: items.map((item) => ({ ...item })) },
      ...(left.length > 0 && { UnprocessedKeys: { [tableName]: { Keys: left, ConsistentRead: true } } }),
    };
  }

  /** A TransactWriteItems of mark updates: all or nothing, cancelled with a reason per item like DynamoDB. */
  transactWrite(input: TransactWriteCommandInput): Record<string, never> {
    const actions = input.TransactItems ?? [];
    if (actions.length > 100) throw new Error(`TransactWriteItems takes at most 100 actions, got ${actions.length}`);
    const updates = actions.map((action) => {
      if (!action.Update?.Key) throw new Error('the fake understands Update actions only');
      return { ...action.Update, Key: action.Update.Key };
    });
    const keys = updates.map((u) => key(String(u.Key.aggregateId), Number(u.Key.sequence)));
    if (new Set(keys).size !== keys.length) throw new Error('Transaction request cannot include multiple operations on one item');
    const codes = updates.map((u) => (this.item(String(u.Key.aggregateId), Number(u.Key.sequence)) ? 'None' : 'ConditionalCheckFailed'));
    if (codes.some((code) => code !== 'None')) {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
        $metadata: {},
        CancellationReasons: codes.map((Code) => ({ Code })),
      });
    }
    for (const update of updates) this.update(update as UpdateCommandInput);
    return {};
  }

  private markPublished(aggregateId: string, sequence: number, now: string): void {
    const item = this.item(aggregateId, sequence);
    if (!item) return;
    const { pendingShard: _removed, ...rest } = item;
    this.items.set(key(aggregateId, sequence), { ...rest, publishedAt: item.publishedAt ?? now });
  }
}

function expectShape(actual: string | undefined, expected: string): void {
  if (actual !== expected) throw new Error(`unexpected expression ${String(actual)}; the fake understands ${expected}`);
}
