import { describe, expect, it } from 'vitest';
import { PENDING_EVENTS_INDEX_NAME } from '../../lambdas/domain/pending-shards';
import { OPEN_ATTEMPTS_INDEX } from '../../lambdas/domain/pg-attempt-keys';
import {
  actionsOf,
  actionsOnResource,
  functionIdByEntry,
  type PolicyStatementJson,
  resourcesOf,
  resourcesOfType,
  statementsOfFunction,
  synthAppStack,
} from '../support/cdk-stack';

/**
 * Actions that support no resource-level permissions and that CDK itself grants on "*":
 * X-Ray for active tracing, dynamodb:ListStreams for a stream event source. Nothing else may use "*".
 */
const UNSCOPABLE_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams']);

/** The tables a route or the example consumer may be granted on. */
const TABLES = ['PaymentsTable', 'OutboxTable', 'IdempotencyTable', 'DeliveriesTable', 'PgAttemptsTable', 'InboxTable', 'SandboxPgLedgerTable'] as const;
type TableId = (typeof TABLES)[number];

const dynamodb = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`).sort();

/** The stand-in PG: an answer Put and a balance Update in one transaction, consistent GetItems of answers and balances. */
const SANDBOX_LEDGER_CALL = dynamodb('GetItem', 'PutItem', 'UpdateItem');

/**
 * What a payment change does (commitWithRetries): one consistent read of the payment and the idempotency
 * record (Gets in a TransactGetItems, authorized as GetItem); one TransactWriteItems whose items are Puts
 * (payment, event, idempotency record).
 */
const CHANGE: Partial<Record<TableId, string[]>> = {
  PaymentsTable: dynamodb('GetItem', 'PutItem'),
  OutboxTable: dynamodb('PutItem'),
  IdempotencyTable: dynamodb('GetItem', 'PutItem'),
};

/** Per route (and the example consumer): exactly the actions its role has on each table, on each PG. Absent = none. */
function expectedTableActions(paymentGateway: 'sandbox' | 'toss'): Record<string, Partial<Record<TableId, string[]>>> {
  const ledger = paymentGateway === 'sandbox' ? { SandboxPgLedgerTable: SANDBOX_LEDGER_CALL } : {};
  return {
    'lambdas/functions/create-payment/entry.ts': {
      ...CHANGE,
      // A new payment is never read: only the transaction's Put.
      PaymentsTable: dynamodb('PutItem'),
      ...ledger,
      // Toss: the virtual account's callback secret, a Put in the create transaction.
      ...(paymentGateway === 'toss' && { PgAttemptsTable: dynamodb('PutItem') }),
    },
    'lambdas/functions/get-payment/entry.ts': { PaymentsTable: dynamodb('GetItem') },
    'lambdas/functions/confirm-payment/entry.ts': {
      ...CHANGE,
      // + the ConditionCheck of the payment's version when the attempt is opened
      PaymentsTable: dynamodb('ConditionCheckItem', 'GetItem', 'PutItem'),
      // Get the payment's attempts (in the TransactGetItems with the payment); open (transaction Put), close (PutItem, or the commit's Put)
      PgAttemptsTable: dynamodb('GetItem', 'PutItem'),
      ...ledger,
    },
    'lambdas/functions/cancel-payment/entry.ts': {
      ...CHANGE,
      PaymentsTable: dynamodb('ConditionCheckItem', 'GetItem', 'PutItem'),
      // + a cancel without refund checks that no attempt is open (ConditionCheck items)
      PgAttemptsTable: dynamodb('ConditionCheckItem', 'GetItem', 'PutItem'),
      ...ledger,
    },
    'lambdas/functions/list-payment-events/entry.ts': { PaymentsTable: dynamodb('GetItem'), OutboxTable: dynamodb('Query') },
    'lambdas/functions/list-payment-deliveries/entry.ts': {
      PaymentsTable: dynamodb('GetItem'),
      OutboxTable: dynamodb('Query'),
      DeliveriesTable: dynamodb('Query'),
    },
    ...(paymentGateway === 'sandbox'
      ? { 'lambdas/functions/pg-deposit-callback/entry.ts': CHANGE }
      : { 'lambdas/functions/toss-deposit-callback/entry.ts': { ...CHANGE, PgAttemptsTable: dynamodb('GetItem') } }),
    // lastAppliedSequence (GetItem); commit = TransactWriteItems of a Put (inbox) and an Update (projection)
    'lambdas/functions/example-consumer/entry.ts': { InboxTable: dynamodb('GetItem', 'PutItem', 'UpdateItem') },
  };
}

/** What every function's role has besides its bindings: its log group's streams, and X-Ray for active tracing. */
const BASE_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
/** Read access to a secret (the sandbox's HMAC key, Toss's secret key). */
const SECRET_READ = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
/** An SQS event source: receive, delete, and what the poller reads about the queue. */
const SQS_EVENT_SOURCE = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];

/** Every action of the role, besides the DynamoDB actions of expectedTableActions. */
function expectedOtherActions(paymentGateway: 'sandbox' | 'toss'): Record<string, string[]> {
  const pgCall = paymentGateway === 'toss' ? SECRET_READ : [];
  return {
    'lambdas/functions/create-payment/entry.ts': pgCall,
    'lambdas/functions/get-payment/entry.ts': [],
    'lambdas/functions/confirm-payment/entry.ts': pgCall,
    'lambdas/functions/cancel-payment/entry.ts': pgCall,
    'lambdas/functions/list-payment-events/entry.ts': [],
    'lambdas/functions/list-payment-deliveries/entry.ts': [],
    ...(paymentGateway === 'sandbox'
      ? { 'lambdas/functions/pg-deposit-callback/entry.ts': SECRET_READ }
      : { 'lambdas/functions/toss-deposit-callback/entry.ts': SECRET_READ }),
    'lambdas/functions/example-consumer/entry.ts': SQS_EVENT_SOURCE,
  };
}

describe.each(['sandbox', 'toss'] as const)('exact grants of the API routes and the example consumer on the %s PG', (paymentGateway) => {
  // GIVEN the stack as the app builds it, on each PG
  const { template } = synthAppStack({ paymentGateway });
  const expectedTables = expectedTableActions(paymentGateway);
  const expectedOthers = expectedOtherActions(paymentGateway);

  it.each(Object.keys(expectedTables))('%s has exactly its actions on each table', (entry) => {
    const id = functionIdByEntry(template, entry);
    const granted = Object.fromEntries(
      TABLES.map((table) => [table, actionsOnResource(template, id, table)] as const).filter(([, actions]) => actions.length > 0),
    );
    expect(granted).toEqual(expectedTables[entry]);
  });

  it.each(Object.keys(expectedTables))('%s has exactly this sorted action list in its role', (entry) => {
    const id = functionIdByEntry(template, entry);
    const all = [...new Set(statementsOfFunction(template, id).flatMap(actionsOf))].sort();
    const tableActions = Object.values(expectedTables[entry] ?? {}).flat();
    expect(all).toEqual([...new Set([...BASE_ACTIONS, ...(expectedOthers[entry] ?? []), ...tableActions])].sort());
  });

  it('grants no route and not the consumer Scan, DeleteItem, BatchGetItem or BatchWriteItem on any table but the sandbox ledger', () => {
    const broad = ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'];
    const offending = Object.keys(expectedTables).flatMap((entry) => {
      const id = functionIdByEntry(template, entry);
      return TABLES.filter((table) => table !== 'SandboxPgLedgerTable').flatMap((table) =>
        actionsOnResource(template, id, table)
          .filter((action) => broad.includes(action))
          .map((action) => `${entry}: ${action} on ${table}`),
      );
    });
    expect(offending).toEqual([]);
  });
});

describe.each(['sandbox', 'toss'] as const)('least privilege on the %s PG', (paymentGateway) => {
  // GIVEN the stack as the app builds it (one queue subscriber, one webhook subscriber), on each PG
  const { template } = synthAppStack({ paymentGateway });

  /** Every statement of every identity policy in the template (inline policies, role policies, managed policies). */
  function identityStatements(): { where: string; statement: PolicyStatementJson }[] {
    const found: { where: string; statement: PolicyStatementJson }[] = [];
    for (const [id, policy] of Object.entries(resourcesOfType(template, 'AWS::IAM::Policy'))) {
      for (const statement of policy.Properties?.PolicyDocument.Statement ?? []) found.push({ where: id, statement });
    }
    for (const [id, policy] of Object.entries(resourcesOfType(template, 'AWS::IAM::ManagedPolicy'))) {
      for (const statement of policy.Properties?.PolicyDocument.Statement ?? []) found.push({ where: id, statement });
    }
    for (const [id, role] of Object.entries(resourcesOfType(template, 'AWS::IAM::Role'))) {
      for (const inline of role.Properties?.Policies ?? []) {
        for (const statement of inline.PolicyDocument.Statement) found.push({ where: id, statement });
      }
    }
    return found;
  }

  it('finds the policies to check (guards against a vacuous pass)', () => {
    expect(identityStatements().length).toBeGreaterThan(20);
  });

  it('uses no wildcard in any action', () => {
    const wildcards = identityStatements().flatMap(({ where, statement }) =>
      actionsOf(statement)
        .filter((action) => action.includes('*'))
        .map((action) => `${where}: ${action}`),
    );
    expect(wildcards).toEqual([]);
  });

  it('uses Resource "*" only for actions that cannot be scoped (X-Ray, dynamodb:ListStreams)', () => {
    const offending = identityStatements()
      .filter(({ statement }) => resourcesOf(statement).includes('*'))
      .flatMap(({ where, statement }) =>
        actionsOf(statement)
          .filter((action) => !UNSCOPABLE_ACTIONS.has(action))
          .map((action) => `${where}: ${action} on *`),
      );
    expect(offending).toEqual([]);
  });

  it('grants dynamodb:ListStreams only to the relay', () => {
    const holders = identityStatements()
      .filter(({ statement }) => actionsOf(statement).includes('dynamodb:ListStreams'))
      .map(({ where }) => where);
    expect(holders).toHaveLength(1);
    expect(holders[0]).toMatch(/^RelayFunction/);
  });

  it('grants index access only to the sweeper (PendingEvents) and the PG reconciler (OpenAttempts), each only dynamodb:Query on its own index ARN', () => {
    const onIndexes = identityStatements()
      .filter(({ statement }) => resourcesOf(statement).some((resource) => JSON.stringify(resource).includes('/index/')))
      .sort((a, b) => a.where.localeCompare(b.where));
    expect(onIndexes.map(({ where }) => where)).toHaveLength(2);
    const [reconciler, sweeper] = onIndexes;
    expect(sweeper?.where).toMatch(/^SweeperFunction/);
    expect(actionsOf(sweeper!.statement)).toEqual(['dynamodb:Query']);
    expect(resourcesOf(sweeper!.statement)).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['OutboxTable', 'Arn'] }, `/index/${PENDING_EVENTS_INDEX_NAME}`]] },
    ]);
    expect(reconciler?.where).toMatch(/^ReconcilerFunction/);
    expect(actionsOf(reconciler!.statement)).toEqual(['dynamodb:Query']);
    expect(resourcesOf(reconciler!.statement)).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['PgAttemptsTable', 'Arn'] }, `/index/${OPEN_ATTEMPTS_INDEX}`]] },
    ]);
  });

  it('has no resource ARN pattern with a wildcard (such as table/index/* or a bare account-wide ARN)', () => {
    const patterns = identityStatements().flatMap(({ where, statement }) =>
      resourcesOf(statement)
        .filter((resource) => resource !== '*' && JSON.stringify(resource).includes('*'))
        .map((resource) => `${where}: ${JSON.stringify(resource)}`),
    );
    expect(patterns).toEqual([]);
  });

  it('allows only; no statement of ours relies on a Deny to be safe', () => {
    expect(identityStatements().filter(({ statement }) => statement.Effect !== 'Allow')).toEqual([]);
  });

  it('attaches an AWS managed policy only to the API Gateway CloudWatch logging role', () => {
    const withManaged = Object.entries(resourcesOfType(template, 'AWS::IAM::Role'))
      .filter(([, role]) => role.Properties?.ManagedPolicyArns !== undefined)
      .map(([, role]) => JSON.stringify(role.Properties?.ManagedPolicyArns));
    expect(withManaged).toHaveLength(1);
    expect(withManaged[0]).toContain('AmazonAPIGatewayPushToCloudWatchLogs');
  });
});
