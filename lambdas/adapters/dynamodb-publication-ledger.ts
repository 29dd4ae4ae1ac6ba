/**
 * The publication ledger on the Outbox table itself: an item is pending while it carries
 * `pendingShard` (written by the payment repository in the same transaction as the event);
 * marking it published removes the attribute, which drops it from the sparse `PendingEvents`
 * index, and records `publishedAt`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { envelopeFromOutboxItem, InvalidOutboxItemError, type EventEnvelope } from '../domain/event-envelope';
import {
  PENDING_EVENTS_INDEX_NAME,
  PENDING_SHARD_ATTRIBUTE,
  PENDING_SORT_ATTRIBUTE,
  PUBLISHED_AT_ATTRIBUTE,
} from '../domain/pending-shards';
import type { Clock } from '../ports/clock';
import type {
  ListPendingQuery,
  MarkOutcome,
  PendingCursor,
  PendingPage,
  PublicationLedger,
} from '../ports/publication-ledger';
import { mapSettled } from '../use-cases/map-settled';

export interface DynamoDbPublicationLedgerSettings {
  /** The Outbox table (PK `aggregateId` S, SK `sequence` N) with the `PendingEvents` index. */
  readonly tableName: string;
  /** UpdateItem calls in flight at once when marking. @default 10 */
  readonly markConcurrency?: number;
}

export class DynamoDbPublicationLedger implements PublicationLedger {
  private readonly markConcurrency: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly settings: DynamoDbPublicationLedgerSettings,
    private readonly clock: Clock,
  ) {
    this.markConcurrency = settings.markConcurrency ?? 10;
  }

  async markPublished(events: readonly EventEnvelope[]): Promise<MarkOutcome> {
    const unique = [...new Map(events.map((event) => [event.eventId, event])).values()];
    const now = this.clock.now().toISOString();
    const results = await mapSettled(unique, this.markConcurrency, (event) =>
      this.client.send(
        new UpdateCommand({
          TableName: this.settings.tableName,
          Key: { aggregateId: event.aggregateId, sequence: event.sequence },
          // A republished event keeps the time it was first confirmed.
          UpdateExpression: 'REMOVE #shard SET #publishedAt = if_not_exists(#publishedAt, :now)',
          // Never create an item: one that expired (TTL) has nothing left to mark.
          ConditionExpression: 'attribute_exists(aggregateId)',
          ExpressionAttributeNames: { '#shard': PENDING_SHARD_ATTRIBUTE, '#publishedAt': PUBLISHED_AT_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
    let marked = 0;
    const missing: EventEnvelope[] = [];
    const failed: Array<{ event: EventEnvelope; reason: string; error: unknown }> = [];
    results.forEach((result, index) => {
      const event = unique[index] as EventEnvelope;
      if (result.status === 'fulfilled') marked += 1;
      else if (result.reason instanceof ConditionalCheckFailedException) missing.push(event);
      else failed.push({ event, reason: describe(result.reason), error: result.reason });
    });
    return { marked, missing, failed };
  }

  async pendingBefore(aggregateId: string, sequence: number): Promise<EventEnvelope[]> {
    const events: EventEnvelope[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.settings.tableName,
          KeyConditionExpression: 'aggregateId = :id AND #sequence < :sequence',
          FilterExpression: 'attribute_exists(#shard)',
          ExpressionAttributeNames: { '#sequence': 'sequence', '#shard': PENDING_SHARD_ATTRIBUTE },
          ExpressionAttributeValues: { ':id': aggregateId, ':sequence': sequence },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      // A pending predecessor that cannot be read must not be skipped: the error stops its successors.
      for (const item of page.Items ?? []) events.push(envelopeFromOutboxItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return events.sort((a, b) => a.sequence - b.sequence);
  }

  async listPending(shard: string, query: ListPendingQuery): Promise<PendingPage> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.settings.tableName,
        IndexName: PENDING_EVENTS_INDEX_NAME,
        KeyConditionExpression: '#shard = :shard AND #occurredAt < :before',
        ExpressionAttributeNames: { '#shard': PENDING_SHARD_ATTRIBUTE, '#occurredAt': PENDING_SORT_ATTRIBUTE },
        ExpressionAttributeValues: { ':shard': shard, ':before': query.occurredBefore },
        ScanIndexForward: true,
        Limit: query.limit,
        ExclusiveStartKey: query.cursor as Record<string, unknown> | undefined,
      }),
    );
    const items = page.Items ?? [];
    const events: EventEnvelope[] = [];
    const invalid: Array<{ aggregateId: string; sequence: unknown; reason: string }> = [];
    for (const item of items) {
      try {
        events.push(envelopeFromOutboxItem(item));
      } catch (error) {
        if (!(error instanceof InvalidOutboxItemError)) throw error;
        invalid.push({ aggregateId: String(item.aggregateId), sequence: item.sequence, reason: error.message });
      }
    }
    return {
      events,
      invalid,
      scanned: items.length,
      ...(page.LastEvaluatedKey && { cursor: page.LastEvaluatedKey as PendingCursor }),
    };
  }

  async oldestPendingOccurredAt(shard: string): Promise<string | undefined> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.settings.tableName,
        IndexName: PENDING_EVENTS_INDEX_NAME,
        KeyConditionExpression: '#shard = :shard',
        ExpressionAttributeNames: { '#shard': PENDING_SHARD_ATTRIBUTE, '#occurredAt': PENDING_SORT_ATTRIBUTE },
        ExpressionAttributeValues: { ':shard': shard },
        ProjectionExpression: '#occurredAt',
        ScanIndexForward: true,
        Limit: 1,
      }),
    );
    const occurredAt = Items?.[0]?.[PENDING_SORT_ATTRIBUTE];
    return typeof occurredAt === 'string' ? occurredAt : undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
