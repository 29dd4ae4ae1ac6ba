import { describe, expect, it } from 'vitest';
import { PENDING_EVENTS_INDEX_NAME } from '../../lambdas/domain/pending-shards';
import { OPEN_ATTEMPTS_INDEX } from '../../lambdas/domain/pg-attempt-keys';
import { actionsOf, type PolicyStatementJson, resourcesOf, resourcesOfType, synthAppStack } from '../support/cdk-stack';

/**
 * Actions that support no resource-level permissions and that CDK itself grants on "*":
 * X-Ray for active tracing, dynamodb:ListStreams for a stream event source. Nothing else may use "*".
 */
const UNSCOPABLE_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams']);

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
