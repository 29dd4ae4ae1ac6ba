import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  PENDING_EVENTS_INDEX_NAME,
  PENDING_SHARD_ATTRIBUTE,
  PENDING_SORT_ATTRIBUTE,
} from '../../lambdas/domain/pending-shards';
import { DELIVERIES_PARTITION_KEY, DELIVERIES_SORT_KEY, DELIVERIES_TTL_ATTRIBUTE } from '../../lambdas/domain/delivery-state';
import { PAYMENT_API_ROUTES } from '../../lib/constructs/payment-api';
import { PaymentTables } from '../../lib/constructs/payment-tables';
import { newTestStack, resourcesOfType, synthStack } from '../support/cdk-stack';

describe('payment tables', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();

  it('creates exactly five tables, all on-demand with PITR and KMS encryption, retained and deletion-protected', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 5);
    for (const table of Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('keys the Payments table by paymentId (S) with no stream and no TTL', () => {
    template.templateMatches({
      Resources: {
        PaymentsTable: {
          Type: 'AWS::DynamoDB::Table',
          Properties: Match.objectLike({
            KeySchema: [{ AttributeName: 'paymentId', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'paymentId', AttributeType: 'S' }],
            StreamSpecification: Match.absent(),
            TimeToLiveSpecification: Match.absent(),
          }),
        },
      },
    });
  });

  it('keys the Outbox table by aggregateId (S) + sequence (N), streams NEW_IMAGE and expires on expiresAt', () => {
    template.templateMatches({
      Resources: {
        OutboxTable: {
          Type: 'AWS::DynamoDB::Table',
          Properties: Match.objectLike({
            KeySchema: [
              { AttributeName: 'aggregateId', KeyType: 'HASH' },
              { AttributeName: 'sequence', KeyType: 'RANGE' },
            ],
            StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
            TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          }),
        },
      },
    });
  });

  it('gives the Outbox table exactly one GSI: PendingEvents on pendingShard (S) + occurredAt (S), projecting ALL', () => {
    const outbox = resourcesOfType(template, 'AWS::DynamoDB::Table').OutboxTable;
    expect(outbox?.Properties?.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: PENDING_EVENTS_INDEX_NAME,
        KeySchema: [
          { AttributeName: PENDING_SHARD_ATTRIBUTE, KeyType: 'HASH' },
          { AttributeName: PENDING_SORT_ATTRIBUTE, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(outbox?.Properties?.LocalSecondaryIndexes).toBeUndefined();
  });

  it('uses the pending-marker names the handlers use (PendingEvents, pendingShard, occurredAt)', () => {
    // The relay, the sweeper and the local runner import the same constants; a rename there must show up here.
    expect([PENDING_EVENTS_INDEX_NAME, PENDING_SHARD_ATTRIBUTE, PENDING_SORT_ATTRIBUTE]).toEqual(['PendingEvents', 'pendingShard', 'occurredAt']);
  });

  it('defines exactly the Outbox attributes its keys and index use, each with its type', () => {
    const outbox = resourcesOfType(template, 'AWS::DynamoDB::Table').OutboxTable;
    expect(outbox?.Properties?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'aggregateId', AttributeType: 'S' },
        { AttributeName: 'sequence', AttributeType: 'N' },
        { AttributeName: PENDING_SHARD_ATTRIBUTE, AttributeType: 'S' },
        { AttributeName: PENDING_SORT_ATTRIBUTE, AttributeType: 'S' },
      ]),
    );
    expect(outbox?.Properties?.AttributeDefinitions).toHaveLength(4);
  });

  it('gives no other table a secondary index', () => {
    for (const id of ['PaymentsTable', 'IdempotencyTable', 'InboxTable', 'DeliveriesTable']) {
      const table = resourcesOfType(template, 'AWS::DynamoDB::Table')[id];
      expect(table?.Properties?.GlobalSecondaryIndexes, id).toBeUndefined();
      expect(table?.Properties?.LocalSecondaryIndexes, id).toBeUndefined();
    }
  });

  it('keys the Idempotency table by key (S) and expires on expiresAt, without a stream', () => {
    template.templateMatches({
      Resources: {
        IdempotencyTable: {
          Type: 'AWS::DynamoDB::Table',
          Properties: Match.objectLike({
            KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
            TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
            StreamSpecification: Match.absent(),
          }),
        },
      },
    });
  });

  it('keys the Inbox table by pk (S) and expires on expiresAt, without a stream', () => {
    template.templateMatches({
      Resources: {
        InboxTable: {
          Type: 'AWS::DynamoDB::Table',
          Properties: Match.objectLike({
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
            StreamSpecification: Match.absent(),
          }),
        },
      },
    });
  });

  it('keys the Deliveries table by paymentId (S) + sk (S), the names the delivery log uses, and expires on expiresAt', () => {
    template.templateMatches({
      Resources: {
        DeliveriesTable: {
          Type: 'AWS::DynamoDB::Table',
          Properties: Match.objectLike({
            KeySchema: [
              { AttributeName: DELIVERIES_PARTITION_KEY, KeyType: 'HASH' },
              { AttributeName: DELIVERIES_SORT_KEY, KeyType: 'RANGE' },
            ],
            AttributeDefinitions: [
              { AttributeName: DELIVERIES_PARTITION_KEY, AttributeType: 'S' },
              { AttributeName: DELIVERIES_SORT_KEY, AttributeType: 'S' },
            ],
            TimeToLiveSpecification: { AttributeName: DELIVERIES_TTL_ATTRIBUTE, Enabled: true },
            StreamSpecification: Match.absent(),
          }),
        },
      },
    });
    expect([DELIVERIES_PARTITION_KEY, DELIVERIES_SORT_KEY, DELIVERIES_TTL_ATTRIBUTE]).toEqual(['paymentId', 'sk', 'expiresAt']);
  });

  it('passes the default retention of 30 days to every API function as OUTBOX_RETENTION_DAYS', () => {
    const apiEntries = PAYMENT_API_ROUTES.map((route) => route.entry);
    const apiFunctions = Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).filter((fn) =>
      apiEntries.includes(fn.Metadata?.['payment-outbox:entry']),
    );
    expect(apiFunctions).toHaveLength(PAYMENT_API_ROUTES.length);
    for (const fn of apiFunctions) {
      expect(fn.Properties?.Environment.Variables.OUTBOX_RETENTION_DAYS).toBe('30');
    }
  });
});

describe('payment tables with stack props', () => {
  it('uses retentionDays from the stack props for OUTBOX_RETENTION_DAYS', () => {
    // GIVEN / WHEN
    const { template } = synthStack({ retentionDays: 7 });
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ OUTBOX_RETENTION_DAYS: '7' }) },
    });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.not(Match.objectLike({ OUTBOX_RETENTION_DAYS: '30' })) },
    });
  });

  it('deletes tables and drops deletion protection with RemovalPolicy.DESTROY', () => {
    // GIVEN / WHEN
    const { template } = synthStack({ removalPolicy: RemovalPolicy.DESTROY });
    // THEN
    for (const table of Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties?.DeletionProtectionEnabled).toBe(false);
    }
  });

  it.each([
    [1, 'got 1'],
    [366, 'got 366'],
    [2.5, 'got 2.5'],
    [0, 'got 0'],
  ])('rejects retentionDays %s with a message naming the range', (retentionDays, got) => {
    // GIVEN
    const stack = newTestStack();
    // WHEN / THEN
    expect(() => new PaymentTables(stack, 'Tables', { retentionDays })).toThrow(
      `ConstructTestStack/Tables: retentionDays must be an integer between 2 and 365 (${got})`,
    );
  });

  it('accepts the bounds 2 and 365', () => {
    const stack = newTestStack();
    expect(new PaymentTables(stack, 'Min', { retentionDays: 2 }).retentionDays).toBe(2);
    expect(new PaymentTables(stack, 'Max', { retentionDays: 365 }).retentionDays).toBe(365);
  });
});
