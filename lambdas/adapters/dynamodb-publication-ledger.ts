/**
 * The publication ledger on the Outbox table itself: an item is pending while it carries
 * `pendingShard` (written by the payment repository in the same transaction as the event);
 * marking it published removes the attribute, which drops it from the sparse `PendingEvents`
 * index, and records `publishedAt`.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
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
  OutboxEventKey,
  PendingCursor,
  PendingPage,
  PendingState,
  PublicationLedger,
} from '../ports/publication-ledger';
import { mapSettled } from '../use-cases/map-settled';

/** BatchGetItem reads at most 100 keys per request. */
export const BATCH_GET_MAX_KEYS = 100;
/** TransactWriteItems takes at most 100 actions per request. */
export const TRANSACTION_MAX_ACTIONS = 100;

/** Cancellation reasons after which the same transaction can succeed when sent again. */
const RETRYABLE_CANCELLATIONS = new Set(['None', 'TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

export interface DynamoDbPublicationLedgerSettings {
  /** The Outbox table (PK `aggregateId` S, SK `sequence` N) with the `PendingEvents` index. */
  readonly tableName: string;
  /** Mark requests in flight at once (UpdateItem calls, or transactions). @default 10 */
  readonly markConcurrency?: number;
  /**
   * How marks are written.
   * - `updates`: one conditional UpdateItem per event (1 write unit per KB each; one request per event).
   * - `transactions`: the same updates, 100 per TransactWriteItems (one request per 100 events, at
   *   2 write units per KB each); a lone event is still one UpdateItem. For the relay, which marks a
   *   whole invocation at once.
   * @default 'updates'
   */
  readonly markWith?: 'updates' | 'transactions';
  /** BatchGetItem requests in flight at once. @default 4 */
  readonly readConcurrency?: number;
  /** Attempts at keys BatchGetItem leaves unprocessed, and at a transaction cancelled by a conflict or throttling. @default 4 */
  readonly maxAttempts?: number;
  /** Backoff before the first retry, in ms; doubled for each next one, with full jitter. @default 25 */
  readonly retryBaseDelayMs?: number;
}

export class DynamoDbPublicationLedger implements PublicationLedger {
  private readonly markConcurrency: number;
  private readonly readConcurrency: number;
  private readonly maxAttempts: number;
  private readonly retryBaseDelayMs: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly settings: DynamoDbPublicationLedgerSettings,
    private readonly clock: Clock,
  ) {
    this.markConcurrency = settings.markConcurrency ?? 10;
    this.readConcurrency = settings.readConcurrency ?? 4;
    this.maxAttempts = settings.maxAttempts ?? 4;
    this.retryBaseDelayMs = settings.retryBaseDelayMs ?? 25;
  }

  async markPublished(events: readonly EventEnvelope[]): Promise<MarkOutcome> {
    // One action per item: a transaction may not name an item twice, and a second update adds nothing.
    const unique = [...new Map(events.map((event) => [keyId(event), event])).values()];
    const now = this.clock.now().toISOString();
    if (this.settings.markWith !== 'transactions' || unique.length < 2) return this.markOneByOne(unique, now);
    // Why transactions, for the relay: BatchWriteItem cannot update (a Put of the whole item would
    // resurrect an expired one, overwrite the first publishedAt and drop attributes it does not know),
    // and parallel UpdateItem calls are one request per event. A transaction of conditional updates
    // marks 100 events in one request and never creates an item; it costs 2 write units per KB instead
    // of 1, and it fails as a whole, so `markInTransaction` sets aside the items whose condition failed
    // (expired) and sends the rest again.
    const chunks: EventEnvelope[][] = [];
    for (let start = 0; start < unique.length; start += TRANSACTION_MAX_ACTIONS) chunks.push(unique.slice(start, start + TRANSACTION_MAX_ACTIONS));
    const results = await mapSettled(chunks, this.markConcurrency, (chunk) => this.markInTransaction(chunk, now));
    const outcome = { marked: 0, missing: [] as EventEnvelope[], failed: [] as Array<MarkOutcome['failed'][number]> };
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        outcome.marked += result.value.marked;
        outcome.missing.push(...result.value.missing);
        outcome.failed.push(...result.value.failed);
        return;
      }
      const reason = describe(result.reason);
      outcome.failed.push(...(chunks[i] ?? []).map((event) => ({ event, reason, error: result.reason })));
    });
    return outcome;
  }

  async pendingStates(keys: readonly OutboxEventKey[]): Promise<PendingState[]> {
    const unique = [...new Map(keys.map((key) => [keyId(key), { aggregateId: key.aggregateId, sequence: key.sequence }])).values()];
    const chunks: OutboxEventKey[][] = [];
    for (let start = 0; start < unique.length; start += BATCH_GET_MAX_KEYS) chunks.push(unique.slice(start, start + BATCH_GET_MAX_KEYS));
    const states = new Map<string, PendingState>();
    await mapSettled(chunks, this.readConcurrency, (chunk) => this.readStates(chunk, states));
    return keys.map((key) => states.get(keyId(key)) ?? { kind: 'unread', reason: 'not read' });
  }

  /** Reads up to 100 keys consistently, sending the keys DynamoDB left unprocessed again with backoff. */
  private async readStates(keys: readonly OutboxEventKey[], states: Map<string, PendingState>): Promise<void> {
    const { tableName } = this.settings;
    let left = keys;
    for (let attempt = 1; left.length > 0; attempt += 1) {
      let response;
      try {
        response = await this.client.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: left.map((key) => ({ ...key })), ConsistentRead: true } } }),
        );
      } catch (error) {
        for (const key of left) states.set(keyId(key), { kind: 'unread', reason: describe(error) });
        return;
      }
      const returned = new Set<string>();
      for (const item of response.Responses?.[tableName] ?? []) {
        const id = keyId({ aggregateId: String(item.aggregateId), sequence: Number(item.sequence) });
        returned.add(id);
        states.set(id, stateOf(item));
      }
      const unprocessed = (response.UnprocessedKeys?.[tableName]?.Keys ?? []).map((key) => ({
        aggregateId: String(key.aggregateId),
        sequence: Number(key.sequence),
      }));
      const retry = new Set(unprocessed.map(keyId));
      // Neither returned nor left unprocessed: no such item (expired), so nothing is pending there.
      for (const key of left) if (!returned.has(keyId(key)) && !retry.has(keyId(key))) states.set(keyId(key), { kind: 'notPending' });
      left = unprocessed;
      if (left.length === 0) return;
      if (attempt >= this.maxAttempts) {
        const reason = `left unprocessed by BatchGetItem after ${attempt} attempts`;
        for (const key of left) states.set(keyId(key), { kind: 'unread', reason });
        return;
      }
      await this.backoff(attempt);
    }
  }

  private async markOneByOne(events: readonly EventEnvelope[], now: string): Promise<MarkOutcome> {
    const results = await mapSettled(events, this.markConcurrency, (event) => this.client.send(new UpdateCommand(this.markUpdate(event, now))));
    let marked = 0;
    const missing: EventEnvelope[] = [];
    const failed: Array<{ event: EventEnvelope; reason: string; error: unknown }> = [];
    results.forEach((result, index) => {
      const event = events[index] as EventEnvelope;
      if (result.status === 'fulfilled') marked += 1;
      else if (result.reason instanceof ConditionalCheckFailedException) missing.push(event);
      else failed.push({ event, reason: describe(result.reason), error: result.reason });
    });
    return { marked, missing, failed };
  }

  /**
   * One transaction of up to 100 marks. When DynamoDB cancels it, the items whose condition failed
   * (expired) are missing and the rest is sent again at once; a conflict with another write or
   * throttling is retried after a backoff; anything else fails the transaction's marks.
   */
  private async markInTransaction(events: readonly EventEnvelope[], now: string): Promise<MarkOutcome> {
    let remaining = [...events];
    const missing: EventEnvelope[] = [];
    const failedAll = (error: unknown): MarkOutcome => ({
      marked: 0,
      missing,
      failed: remaining.map((event) => ({ event, reason: describe(error), error })),
    });
    for (let attempt = 1; ; attempt += 1) {
      if (remaining.length === 1) {
        const single = await this.markOneByOne(remaining, now);
        return { ...single, missing: [...missing, ...single.missing] };
      }
      try {
        await this.client.send(
          new TransactWriteCommand({ TransactItems: remaining.map((event) => ({ Update: this.markUpdate(event, now) })) }),
        );
        return { marked: remaining.length, missing, failed: [] };
      } catch (error) {
        const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : undefined;
        if (!reasons || reasons.length !== remaining.length) return failedAll(error);
        const codes = reasons.map((reason) => reason.Code ?? 'None');
        const expired = remaining.filter((_, i) => codes[i] === 'ConditionalCheckFailed');
        missing.push(...expired);
        remaining = remaining.filter((_, i) => codes[i] !== 'ConditionalCheckFailed');
        if (remaining.length === 0) return { marked: 0, missing, failed: [] };
        const retryable = codes.every((code) => code === 'ConditionalCheckFailed' || RETRYABLE_CANCELLATIONS.has(code));
        if (!retryable || attempt >= this.maxAttempts) return failedAll(error);
        // Only expired items caused it: the rest goes through at once. A conflict or throttling: wait.
        if (expired.length === 0 || codes.some((code) => code !== 'ConditionalCheckFailed' && code !== 'None')) await this.backoff(attempt);
      }
    }
  }

  private markUpdate(event: EventEnvelope, now: string) {
    return {
      TableName: this.settings.tableName,
      Key: { aggregateId: event.aggregateId, sequence: event.sequence },
      // A republished event keeps the time it was first confirmed.
      UpdateExpression: 'REMOVE #shard SET #publishedAt = if_not_exists(#publishedAt, :now)',
      // Never create an item: one that expired (TTL) has nothing left to mark.
      ConditionExpression: 'attribute_exists(aggregateId)',
      ExpressionAttributeNames: { '#shard': PENDING_SHARD_ATTRIBUTE, '#publishedAt': PUBLISHED_AT_ATTRIBUTE },
      ExpressionAttributeValues: { ':now': now },
    };
  }

  private async backoff(attempt: number): Promise<void> {
    const ceiling = this.retryBaseDelayMs * 2 ** (attempt - 1);
    if (ceiling <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
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

const keyId = (key: OutboxEventKey): string => `${key.aggregateId}\u0000${key.sequence}`;

/** A read item: pending while it carries the marker; a pending item that is no envelope cannot be sent. */
function stateOf(item: Record<string, unknown>): PendingState {
  if (item[PENDING_SHARD_ATTRIBUTE] === undefined) return { kind: 'notPending' };
  try {
    return { kind: 'pending', event: envelopeFromOutboxItem(item) };
  } catch (error) {
    return { kind: 'unread', reason: describe(error) };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
