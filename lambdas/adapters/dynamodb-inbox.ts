/**
 * The example consumer's inbox on the Inbox table (PK `pk`):
 * - `event#<eventId>`: one item per applied event (expires after the retention period);
 * - `payment#<paymentId>`: the projection (status, lastSequence, appliedSequences, appliedCount).
 * Both are written in one TransactWriteItems, so an event takes effect exactly when it is recorded.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PaymentProjectionEffect } from '../domain/consumer-rules';
import type { EventEnvelope } from '../domain/event-envelope';
import type { Clock } from '../ports/clock';
import type { InboxCommitResult, InboxStore } from '../ports/inbox-store';

const SECONDS_PER_DAY = 86_400;

export interface DynamoDbPaymentInboxSettings {
  readonly tableName: string;
  /** Days an inbox (`event#`) item is kept (TTL attribute `expiresAt`). Projections do not expire. */
  readonly retentionDays: number;
}

export const inboxKey = (eventId: string): string => `event#${eventId}`;
export const projectionKey = (paymentId: string): string => `payment#${paymentId}`;

export class DynamoDbPaymentInbox implements InboxStore<PaymentProjectionEffect> {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly settings: DynamoDbPaymentInboxSettings,
    private readonly clock: Clock,
  ) {}

  async lastAppliedSequence(aggregateId: string): Promise<number> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.settings.tableName,
        Key: { pk: projectionKey(aggregateId) },
        ConsistentRead: true,
        ProjectionExpression: 'lastSequence',
      }),
    );
    const last = Item?.lastSequence;
    return typeof last === 'number' ? last : 0;
  }

  async commit(envelope: EventEnvelope, effect: PaymentProjectionEffect, previousSequence = envelope.sequence - 1): Promise<InboxCommitResult> {
    const now = this.clock.now();
    const first = previousSequence === 0;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.settings.tableName,
                Item: {
                  pk: inboxKey(envelope.eventId),
                  eventId: envelope.eventId,
                  type: envelope.type,
                  aggregateId: envelope.aggregateId,
                  sequence: envelope.sequence,
                  processedAt: now.toISOString(),
                  expiresAt: Math.floor(now.getTime() / 1000) + this.settings.retentionDays * SECONDS_PER_DAY,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.settings.tableName,
                Key: { pk: projectionKey(envelope.aggregateId) },
                UpdateExpression:
                  'SET #status = :status, paymentId = :paymentId, lastSequence = :sequence, lastEventId = :eventId, ' +
                  'updatedAt = :now, appliedSequences = list_append(if_not_exists(appliedSequences, :none), :applied) ' +
                  'ADD appliedCount :one',
                // The aggregate must still be where the guard read it: `previousSequence` (nothing
                // applied yet: no projection item, its own condition).
                ConditionExpression: first ? 'attribute_not_exists(pk)' : 'lastSequence = :previous',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':status': effect.status,
                  ':paymentId': envelope.aggregateId,
                  ':sequence': envelope.sequence,
                  ':eventId': envelope.eventId,
                  ':now': now.toISOString(),
                  ':none': [],
                  ':applied': [envelope.sequence],
                  ':one': 1,
                  ...(!first && { ':previous': previousSequence }),
                },
              },
            },
          ],
        }),
      );
      return 'applied';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [inbox, projection] = error.CancellationReasons ?? [];
      if (inbox?.Code === 'ConditionalCheckFailed') return 'duplicate-event';
      const lostRace = [inbox?.Code, projection?.Code].some(
        (code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict',
      );
      if (lostRace) return 'sequence-moved';
      throw error;
    }
  }
}
