import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SANDBOX_PG_NOTICE, SANDBOX_PG_WARNING_ID } from '../../lib/constructs/sandbox-payment-gateway';
import { resourcesOfType, synthStack } from '../support/cdk-stack';

describe('PaymentOutboxStack', () => {
  // GIVEN the stack with default props
  const { stack, template } = synthStack();

  it('is environment-agnostic (synthesizes without account or region)', () => {
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
  });

  it.each([
    ['ApiUrl'],
    ['OutboxTableName'],
    ['InboxTableName'],
    ['DeliveriesTableName'],
    ['PaymentEventsTopicArn'],
    ['PaymentEventsQueueUrl'],
    ['PaymentEventsDlqUrl'],
    ['RelayFailuresQueueUrl'],
    ['PgCallbackSecretArn'],
    ['PaymentGateway'],
    ['AlarmTopicArn'],
  ])('outputs %s', (name) => {
    expect(Object.keys(template.findOutputs(name))).toEqual([name]);
  });

  it('has no other outputs', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
      'AlarmTopicArn',
      'ApiUrl',
      'DeliveriesTableName',
      'IdempotencyTableName',
      'InboxTableName',
      'OutboxRetentionDays',
      'OutboxTableName',
      'PaymentEventsDlqUrl',
      'PaymentEventsQueueUrl',
      'PaymentEventsSnsDlqUrl',
      'PaymentEventsTopicArn',
      'PaymentGateway',
      'PaymentsTableName',
      'PgAttemptsTableName',
      'PgCallbackSecretArn',
      'RelayFailuresQueueUrl',
      'SandboxPgLedgerTableName',
    ]);
  });

  it('names a deployed sandbox as such: output PaymentGateway = sandbox, saying what the stand-in PG does and that it must be replaced', () => {
    template.hasOutput('PaymentGateway', {
      Value: 'sandbox',
      Description: Match.stringLikeRegexp('approves every card token except tok_decline\\*.*SandboxPgLedgerTable.*replaced by a real PG before taking real money'),
    });
    expect(template.findOutputs('PaymentGateway').PaymentGateway?.Description).toBe(SANDBOX_PG_NOTICE);
  });

  it('warns at synth time, once, that the stack runs on the sandbox PG (id payment-outbox:sandbox-pg)', () => {
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning(
      '/TestStack',
      Match.stringLikeRegexp(`tok_decline\\*.*SandboxPgLedgerTable.*replaced by a real PG before taking real money.*${SANDBOX_PG_WARNING_ID}`),
    );
    expect(SANDBOX_PG_WARNING_ID).toBe('payment-outbox:sandbox-pg');
    expect(annotations.findWarning('*', Match.stringLikeRegexp(SANDBOX_PG_WARNING_ID))).toHaveLength(1);
  });

  it('points the table name outputs at the Outbox, Inbox and Deliveries tables (the outbox CLI reads them on AWS)', () => {
    template.hasOutput('OutboxTableName', { Value: { Ref: 'OutboxTable' } });
    template.hasOutput('InboxTableName', { Value: { Ref: 'InboxTable' } });
    template.hasOutput('DeliveriesTableName', { Value: { Ref: 'DeliveriesTable' } });
  });

  it('points the queue URL outputs at the right queues, the topic output at the topic and the secret output at the secret', () => {
    template.hasOutput('PaymentEventsTopicArn', { Value: { Ref: 'PaymentEventsTopic' } });
    template.hasOutput('PaymentEventsQueueUrl', { Value: { Ref: 'PaymentEventsQueue' } });
    template.hasOutput('PaymentEventsDlqUrl', { Value: { Ref: 'PaymentEventsDlq' } });
    template.hasOutput('RelayFailuresQueueUrl', { Value: { Ref: 'RelayFailuresQueue' } });
    template.hasOutput('PgCallbackSecretArn', { Value: { Ref: 'PgWebhookSecret' } });
  });

  it('pins the logical ids of the stateful resources and of the subscriptions', () => {
    const ids = [
      ...Object.keys(resourcesOfType(template, 'AWS::SNS::Topic')),
      ...Object.keys(resourcesOfType(template, 'AWS::SNS::Subscription')),
      ...Object.keys(resourcesOfType(template, 'AWS::DynamoDB::Table')),
      ...Object.keys(resourcesOfType(template, 'AWS::SQS::Queue')),
      ...Object.keys(resourcesOfType(template, 'AWS::SecretsManager::Secret')),
    ].sort();
    expect(ids).toEqual([
      'AlarmTopic',
      'DeliveriesTable',
      'IdempotencyTable',
      'InboxTable',
      'OutboxTable',
      'PaymentEventsDlq',
      'PaymentEventsQueue',
      'PaymentEventsSnsDlq',
      'PaymentEventsSubscription',
      'PaymentEventsTopic',
      'PaymentsTable',
      'PgAttemptsTable',
      'PgWebhookSecret',
      'RelayFailuresQueue',
      'SandboxPgLedgerTable',
    ]);
  });

  it('has 32 alarms: DLQ depth, SNS DLQ depth, subscriber backlog age, fan-out delivery failures, relay IteratorAge, relay failures, oldest pending event age, oldest open PG attempt age, PG misconfigured, API 5xx, and Errors and Throttles of each of its 11 functions', () => {
    template.resourceCountIs('AWS::Lambda::Function', 11);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 9 + 1 + 2 * 11);
  });

  it('pins the alarm topic and its key (a replaced topic would lose its confirmed subscriptions), and the email subscription when there is one', () => {
    expect(Object.keys(resourcesOfType(template, 'AWS::KMS::Key'))).toEqual(['AlarmTopicKey']);
    const { template: withEmail } = synthStack({ alarmEmail: 'oncall@example.com' });
    expect(Object.keys(resourcesOfType(withEmail, 'AWS::SNS::Subscription')).sort()).toEqual(['AlarmEmailSubscription', 'PaymentEventsSubscription']);
  });

  it('has one dashboard and two scheduled rules (the sweeper and the PG reconciler)', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::Events::Rule', 2);
    expect(Object.keys(resourcesOfType(template, 'AWS::Events::Rule')).map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'ReconcilerSchedule',
      'SweeperSchedule',
    ]);
  });

  it('has two event source mappings: the Outbox stream relay and the example consumer', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  });

  it('wires the example consumer to payment-events.fifo, 10 messages per batch, with partial batch responses', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': ['PaymentEventsQueue', 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});
