/**
 * What the delivery status query reads about a payment, from the Payments table (does it exist)
 * and the Outbox table (its events, with `publishedAt` once the relay or the sweeper confirmed
 * them published).
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PublishedEvent } from '../domain/delivery-state';
import { envelopeFromOutboxItem } from '../domain/event-envelope';
import { PUBLISHED_AT_ATTRIBUTE } from '../domain/pending-shards';
import type { PaymentEventsReader } from '../ports/payment-events-reader';
import { queryOutboxPartition } from './outbox-partition';

export interface PaymentEventsTables {
  readonly payments: string;
  readonly outbox: string;
}

export class DynamoDbPaymentEventsReader implements PaymentEventsReader {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: PaymentEventsTables,
  ) {}

  async paymentExists(paymentId: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tables.payments,
        Key: { paymentId },
        ProjectionExpression: 'paymentId',
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  async listPublishedEvents(paymentId: string): Promise<PublishedEvent[]> {
    const items = await queryOutboxPartition(this.client, this.tables.outbox, paymentId);
    return items
      .map((item) => {
        const publishedAt = item[PUBLISHED_AT_ATTRIBUTE];
        return { envelope: envelopeFromOutboxItem(item), ...(typeof publishedAt === 'string' && { publishedAt }) };
      })
      .sort((a, b) => a.envelope.sequence - b.envelope.sequence);
  }
}
