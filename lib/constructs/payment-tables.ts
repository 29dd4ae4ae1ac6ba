import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DELIVERIES_PARTITION_KEY, DELIVERIES_SORT_KEY, DELIVERIES_TTL_ATTRIBUTE } from '../../lambdas/domain/delivery-state';
import {
  PENDING_EVENTS_INDEX_NAME,
  PENDING_SHARD_ATTRIBUTE,
  PENDING_SORT_ATTRIBUTE,
} from '../../lambdas/domain/pending-shards';
import { validateIntegerInRange } from './validation';

/** Name of the TTL attribute (epoch seconds) on the Outbox, Idempotency and Inbox tables. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Props of {@link PaymentTables}. */
export interface PaymentTablesProps {
  /**
   * How many days an outbox item (and an idempotency or inbox record) lives before TTL may delete it.
   * An integer between 2 and 365: longer than the 24 h stream retention, so an event the stream has
   * forgotten can still be found and republished from the table. Handlers get it as `OUTBOX_RETENTION_DAYS`.
   *
   * @default 30
   */
  readonly retentionDays?: number;

  /**
   * What happens to the tables when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * DynamoDB deletion protection on every table.
   *
   * @default - true when removalPolicy is RETAIN, false otherwise (so a DESTROY stack can be deleted)
   */
  readonly deletionProtection?: boolean;
}

/**
 * The five tables of the payment outbox, all on-demand, with point-in-time recovery and
 * AWS-managed KMS encryption:
 * - Payments (PK `paymentId` S): one item per payment.
 * - Outbox (PK `aggregateId` S, SK `sequence` N): one item per event, stream `NEW_IMAGE`, TTL `expiresAt`,
 *   and the sparse GSI `PendingEvents` (PK `pendingShard` S, SK `occurredAt` S, projection ALL) holding
 *   exactly the events not yet confirmed published (the relay and the sweeper remove `pendingShard`).
 * - Idempotency (PK `key` S): Idempotency-Key and PG transaction records, TTL `expiresAt`.
 * - Inbox (PK `pk` S): the example consumer's inbox and projection, TTL `expiresAt`.
 * - Deliveries (PK `paymentId` S, SK `sk` S = `<subscriber>#<sequence, 10 digits>`): one webhook delivery
 *   record per (subscriber, event), TTL `expiresAt` (names from lambdas/domain/delivery-state.ts).
 */
export class PaymentTables extends Construct {
  /** Payments table. */
  public readonly payments: dynamodb.Table;
  /** Outbox table (has a stream). */
  public readonly outbox: dynamodb.Table;
  /** Idempotency table. */
  public readonly idempotency: dynamodb.Table;
  /** Inbox table of the example consumer. */
  public readonly inbox: dynamodb.Table;
  /** Deliveries table: webhook delivery records, read by GET /payments/{paymentId}/deliveries. */
  public readonly deliveries: dynamodb.Table;
  /** Validated retention in days. */
  public readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: PaymentTablesProps = {}) {
    super(scope, id);

    this.retentionDays = props.retentionDays ?? 30;
    validateIntegerInRange(this, 'retentionDays', this.retentionDays, 2, 365);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection ?? removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    } satisfies Partial<dynamodb.TableProps>;

    this.payments = new dynamodb.Table(this, 'PaymentsTable', {
      ...common,
      partitionKey: { name: 'paymentId', type: dynamodb.AttributeType.STRING },
    });

    this.outbox = new dynamodb.Table(this, 'OutboxTable', {
      ...common,
      partitionKey: { name: 'aggregateId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sequence', type: dynamodb.AttributeType.NUMBER },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    // Sparse: only items still carrying the pending marker are in it. Projection ALL, because the
    // sweeper reads whole envelopes from it; the marker is spread over shards so one index partition
    // does not take every write (lambdas/domain/pending-shards.ts).
    this.outbox.addGlobalSecondaryIndex({
      indexName: PENDING_EVENTS_INDEX_NAME,
      partitionKey: { name: PENDING_SHARD_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: PENDING_SORT_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.idempotency = new dynamodb.Table(this, 'IdempotencyTable', {
      ...common,
      partitionKey: { name: 'key', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });

    this.inbox = new dynamodb.Table(this, 'InboxTable', {
      ...common,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });

    this.deliveries = new dynamodb.Table(this, 'DeliveriesTable', {
      ...common,
      partitionKey: { name: DELIVERIES_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DELIVERIES_SORT_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: DELIVERIES_TTL_ATTRIBUTE,
    });
  }
}
