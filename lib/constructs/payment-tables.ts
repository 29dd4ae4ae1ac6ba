import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DELIVERIES_PARTITION_KEY, DELIVERIES_SORT_KEY, DELIVERIES_TTL_ATTRIBUTE } from '../../lambdas/domain/delivery-state';
import { OPEN_ATTEMPTS_INDEX, OPEN_SHARD_ATTRIBUTE } from '../../lambdas/domain/pg-attempt-keys';
import {
  PENDING_EVENTS_INDEX_NAME,
  PENDING_SHARD_ATTRIBUTE,
  PENDING_SORT_ATTRIBUTE,
} from '../../lambdas/domain/pending-shards';
import { validateIntegerInRange } from './validation';

/** Name of the TTL attribute (epoch seconds) on the Outbox, Idempotency and Inbox tables. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Sort key of the PG attempts table's `OpenAttempts` index (type S, ISO-8601): the reconciler reads oldest first. */
export const OPEN_ATTEMPTS_SORT_ATTRIBUTE = 'startedAt';

/** How a table of payment data is kept: what {@link paymentTableSettings} derives its settings from. */
export interface PaymentTableRetention {
  /**
   * What happens to the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * DynamoDB deletion protection on the table.
   *
   * @default - true when removalPolicy is RETAIN, false otherwise (so a DESTROY stack can be deleted)
   */
  readonly deletionProtection?: boolean;
}

/**
 * The settings every table of payment data shares (the payment tables and the sandbox PG's ledger):
 * on-demand, point-in-time recovery, AWS-managed KMS encryption, the removal policy (default RETAIN)
 * and deletion protection (default: on when retained).
 */
export function paymentTableSettings(retention: PaymentTableRetention = {}) {
  const removalPolicy = retention.removalPolicy ?? RemovalPolicy.RETAIN;
  return {
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    deletionProtection: retention.deletionProtection ?? removalPolicy === RemovalPolicy.RETAIN,
    removalPolicy,
  } satisfies Partial<dynamodb.TableProps>;
}

/** Props of {@link PaymentTables}. */
export interface PaymentTablesProps extends PaymentTableRetention {
  /**
   * How many days an outbox item (and an idempotency or inbox record) lives before TTL may delete it.
   * An integer between 2 and 365: longer than the 24 h stream retention, so an event the stream has
   * forgotten can still be found and republished from the table. Handlers get it as `OUTBOX_RETENTION_DAYS`.
   *
   * @default 30
   */
  readonly retentionDays?: number;
}

/**
 * The six tables of the payment outbox, all on-demand, with point-in-time recovery and
 * AWS-managed KMS encryption:
 * - Payments (PK `paymentId` S): one item per payment.
 * - Outbox (PK `aggregateId` S, SK `sequence` N): one item per event, stream `NEW_IMAGE`, TTL `expiresAt`,
 *   and the sparse GSI `PendingEvents` (PK `pendingShard` S, SK `occurredAt` S, projection ALL) holding
 *   exactly the events not yet confirmed published (the relay and the sweeper remove `pendingShard`).
 * - Idempotency (PK `key` S): Idempotency-Key and PG transaction records, TTL `expiresAt`.
 * - Inbox (PK `pk` S): the example consumer's inbox and projection, TTL `expiresAt`.
 * - Deliveries (PK `paymentId` S, SK `sk` S = `<subscriber>#<sequence, 10 digits>`): one webhook delivery
 *   record per (subscriber, event), TTL `expiresAt` (names from lambdas/domain/delivery-state.ts).
 * - PgAttempts (PK `paymentId` S, SK `operation` S): one item per money-moving PG call (intent recorded
 *   before the call, closed in the commit of its answer), no TTL, no stream, and the sparse GSI
 *   `OpenAttempts` (PK `openShard` S, SK `startedAt` S, projection ALL) holding exactly the open attempts
 *   (names from lambdas/domain/pg-attempt-keys.ts).
 *
 * The PG's own ledger is not here: it belongs to the PG (the sandbox's is in {@link SandboxPaymentGateway}'s construct).
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
  /** PG attempts table: every money-moving PG call, open until its answer is committed. */
  public readonly pgAttempts: dynamodb.Table;
  /** Validated retention in days. */
  public readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: PaymentTablesProps = {}) {
    super(scope, id);

    this.retentionDays = props.retentionDays ?? 30;
    validateIntegerInRange(this, 'retentionDays', this.retentionDays, 2, 365);
    const common = paymentTableSettings(props);

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

    // No TTL: the attempts are the audit trail of every call that moved (or may have moved) money, and
    // the reconciler's only record of a call whose answer was lost; they are kept as long as the payments.
    this.pgAttempts = new dynamodb.Table(this, 'PgAttemptsTable', {
      ...common,
      partitionKey: { name: 'paymentId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'operation', type: dynamodb.AttributeType.STRING },
    });
    // Sparse: only open attempts carry `openShard`, and closing an attempt removes it. Projection ALL,
    // so the reconciler reads whole attempts (operation, PG idempotency key) without a GetItem each.
    this.pgAttempts.addGlobalSecondaryIndex({
      indexName: OPEN_ATTEMPTS_INDEX,
      partitionKey: { name: OPEN_SHARD_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: OPEN_ATTEMPTS_SORT_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
