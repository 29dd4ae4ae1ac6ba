import { RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  PENDING_EVENTS_INDEX_NAME,
  PENDING_SHARD_ATTRIBUTE,
  PENDING_SORT_ATTRIBUTE,
} from '../../lambdas/domain/pending-shards';
import { DELIVERIES_PARTITION_KEY, DELIVERIES_SORT_KEY, DELIVERIES_TTL_ATTRIBUTE } from '../../lambdas/domain/delivery-state';
import { OPEN_ATTEMPTS_INDEX, OPEN_SHARD_ATTRIBUTE } from '../../lambdas/domain/pg-attempt-keys';
import { paymentApiRoutes } from '../../lib/constructs/payment-api';
import type { PaymentGatewayKind } from '../../lib/constructs/payment-gateway';
import { OPEN_ATTEMPTS_SORT_ATTRIBUTE, PaymentTables } from '../../lib/constructs/payment-tables';
import { SANDBOX_PG_WARNING_ID, SandboxPaymentGateway } from '../../lib/constructs/sandbox-payment-gateway';
import { newTestStack, resourcesOfType, synthStack } from '../support/cdk-stack';

/** Every table of the stack, by pinned logical id. */
const ALL_TABLES = [
  'DeliveriesTable',
  'IdempotencyTable',
  'InboxTable',
  'OutboxTable',
  'PaymentsTable',
  'PgAttemptsTable',
  'SandboxPgLedgerTable',
];

describe('payment tables', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();

  it('creates exactly seven tables, all on-demand with PITR and KMS encryption, retained and deletion-protected', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 7);
    expect(Object.keys(resourcesOfType(template, 'AWS::DynamoDB::Table')).sort()).toEqual(ALL_TABLES);
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
    for (const id of ['PaymentsTable', 'IdempotencyTable', 'InboxTable', 'DeliveriesTable', 'SandboxPgLedgerTable']) {
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

  it('keys the PgAttempts table by paymentId (S) + operation (S), with no stream and no TTL (the audit trail of the money)', () => {
    // THEN
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'paymentId', KeyType: 'HASH' },
        { AttributeName: 'operation', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
      StreamSpecification: Match.absent(),
      TimeToLiveSpecification: Match.absent(),
    });
    template.templateMatches({
      Resources: {
        PgAttemptsTable: {
          Type: 'AWS::DynamoDB::Table',
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
          Properties: Match.objectLike({
            KeySchema: [
              { AttributeName: 'paymentId', KeyType: 'HASH' },
              { AttributeName: 'operation', KeyType: 'RANGE' },
            ],
            StreamSpecification: Match.absent(),
            TimeToLiveSpecification: Match.absent(),
          }),
        },
      },
    });
  });

  it('gives the PgAttempts table exactly one GSI: OpenAttempts on openShard (S) + startedAt (S), projecting ALL', () => {
    const attempts = resourcesOfType(template, 'AWS::DynamoDB::Table').PgAttemptsTable;
    expect(attempts?.Properties?.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'OpenAttempts',
        KeySchema: [
          { AttributeName: 'openShard', KeyType: 'HASH' },
          { AttributeName: 'startedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(attempts?.Properties?.LocalSecondaryIndexes).toBeUndefined();
  });

  it('defines exactly the PgAttempts attributes its keys and index use, each a string', () => {
    const attempts = resourcesOfType(template, 'AWS::DynamoDB::Table').PgAttemptsTable;
    expect(attempts?.Properties?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'paymentId', AttributeType: 'S' },
        { AttributeName: 'operation', AttributeType: 'S' },
        { AttributeName: 'openShard', AttributeType: 'S' },
        { AttributeName: 'startedAt', AttributeType: 'S' },
      ]),
    );
    expect(attempts?.Properties?.AttributeDefinitions).toHaveLength(4);
  });

  it('uses the open-attempt names the handlers use (OpenAttempts, openShard, startedAt)', () => {
    // The adapter, the reconciler and the local runner import the same constants; a rename there must show up here.
    expect([OPEN_ATTEMPTS_INDEX, OPEN_SHARD_ATTRIBUTE, OPEN_ATTEMPTS_SORT_ATTRIBUTE]).toEqual(['OpenAttempts', 'openShard', 'startedAt']);
  });

  it('keys the SandboxPgLedger table by pk (S), with no stream, no TTL and no index', () => {
    template.templateMatches({
      Resources: {
        SandboxPgLedgerTable: {
          Type: 'AWS::DynamoDB::Table',
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
          Properties: Match.objectLike({
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            SSESpecification: { SSEEnabled: true },
            DeletionProtectionEnabled: true,
            StreamSpecification: Match.absent(),
            TimeToLiveSpecification: Match.absent(),
          }),
        },
      },
    });
  });

  it('passes the default retention of 30 days to every API function as OUTBOX_RETENTION_DAYS', () => {
    const routes = paymentApiRoutes('sandbox');
    const apiEntries = routes.map((route) => route.entry);
    const apiFunctions = Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).filter((fn) =>
      apiEntries.includes(fn.Metadata?.['payment-outbox:entry']),
    );
    expect(apiFunctions).toHaveLength(routes.length);
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
    // THEN every table, the PG attempts and the sandbox ledger included
    expect(Object.keys(resourcesOfType(template, 'AWS::DynamoDB::Table')).sort()).toEqual(ALL_TABLES);
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

  it('uses the sandbox PG unless told otherwise, and rejects a payment gateway it does not know, naming the known ones', () => {
    // GIVEN / WHEN
    const { stack } = synthStack();
    // THEN
    expect(stack.paymentGateway).toBe('sandbox');
    expect(stack.sandboxPaymentGateway?.ledger).toBeDefined();
    expect(() => synthStack({ paymentGateway: 'paypal' as PaymentGatewayKind })).toThrow(
      'paymentGateway: paypal is not a payment gateway of this stack (known: sandbox, toss)',
    );
  });

  it('accepts the bounds 2 and 365', () => {
    const stack = newTestStack();
    expect(new PaymentTables(stack, 'Min', { retentionDays: 2 }).retentionDays).toBe(2);
    expect(new PaymentTables(stack, 'Max', { retentionDays: 365 }).retentionDays).toBe(365);
  });
});

describe('the PG tables as constructs', () => {
  it('keeps the sandbox ledger out of PaymentTables: six tables, the PG attempts among them, no pk-only ledger', () => {
    // GIVEN
    const stack = newTestStack();
    // WHEN
    new PaymentTables(stack, 'Tables');
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 6);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'paymentId', KeyType: 'HASH' },
        { AttributeName: 'operation', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'OpenAttempts' })],
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(SANDBOX_PG_WARNING_ID));
  });

  it('gives SandboxPaymentGateway its ledger table and the sandbox warning on the stack', () => {
    // GIVEN
    const stack = newTestStack();
    // WHEN
    const gateway = new SandboxPaymentGateway(stack, 'SandboxPaymentGateway');
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
    expect(gateway.ledger).toBeDefined();
    Annotations.fromStack(stack).hasWarning('/ConstructTestStack', Match.stringLikeRegexp(SANDBOX_PG_WARNING_ID));
  });

  it('deletes the sandbox ledger with RemovalPolicy.DESTROY, without deletion protection', () => {
    // GIVEN
    const stack = newTestStack();
    // WHEN
    new SandboxPaymentGateway(stack, 'SandboxPaymentGateway', { removalPolicy: RemovalPolicy.DESTROY });
    // THEN
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });
});
