import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { OutboxRelay, RELAY_ENTRY } from '../../lib/constructs/outbox-relay';
import { actionsOnResource, functionIdByEntry, newTestStack, resourcesOfType, statementsOfFunction, synthStack } from '../support/cdk-stack';

describe('outbox relay', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();
  const relayId = functionIdByEntry(template, RELAY_ENTRY);

  it('has one event source mapping on the Outbox stream, invoking the relay', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      { EventSourceArn: { 'Fn::GetAtt': ['OutboxTable', 'StreamArn'] } },
      1,
    );
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': ['OutboxTable', 'StreamArn'] },
      FunctionName: { Ref: relayId },
    });
  });

  it('starts at TRIM_HORIZON with one poller per shard and partial batch responses', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': ['OutboxTable', 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('filters on the dynamodb key only: the pending marker (a leaf, type S) exists in the new image', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': ['OutboxTable', 'StreamArn'] },
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { pendingShard: { S: [{ exists: true }] } } } }) }],
      },
    });
  });

  it('has no filter on a top-level key other than dynamodb (DynamoDB mappings only support filtering on dynamodb)', () => {
    const mapping = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).find(
      (esm) => esm.Properties?.FunctionName.Ref === relayId,
    );
    const filters = (mapping?.Properties?.FilterCriteria?.Filters ?? []) as Array<{ Pattern: string }>;
    expect(filters).toHaveLength(1);
    for (const filter of filters) expect(Object.keys(JSON.parse(filter.Pattern) as object)).toEqual(['dynamodb']);
  });

  it('bisects failing batches, retries 10 times, gives up on records older than 12 h, reads 100 records per batch', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': ['OutboxTable', 'StreamArn'] },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 12 * 3600,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
  });

  it('keeps the maximum record age below the 24 h stream retention', () => {
    const mapping = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).find(
      (esm) => esm.Properties?.FunctionName.Ref === relayId,
    );
    expect(mapping?.Properties?.MaximumRecordAgeInSeconds).toBeGreaterThan(0);
    expect(mapping?.Properties?.MaximumRecordAgeInSeconds).toBeLessThan(24 * 3600);
  });

  it('sends records it gives up on to the standard relay-failures queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': ['OutboxTable', 'StreamArn'] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['RelayFailuresQueue', 'Arn'] } } },
    });
  });

  it('tells the relay the topic to publish to through PAYMENT_EVENTS_TOPIC_ARN, and no queue URL', () => {
    const relay = resourcesOfType(template, 'AWS::Lambda::Function')[relayId];
    expect(relay?.Properties?.Environment.Variables.PAYMENT_EVENTS_TOPIC_ARN).toEqual({ Ref: 'PaymentEventsTopic' });
    expect(relay?.Properties?.Environment.Variables.PAYMENT_EVENTS_QUEUE_URL).toBeUndefined();
  });

  it('grants the relay sns:Publish on the payment-events.fifo topic and nothing else on it', () => {
    expect(actionsOnResource(template, relayId, 'PaymentEventsTopic')).toEqual(['sns:Publish']);
  });

  it('grants the relay no SNS action on another resource, and no KMS action (the topic uses the AWS managed key)', () => {
    const statements = statementsOfFunction(template, relayId);
    const sns = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('sns:')));
    expect(sns).toEqual([{ Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'PaymentEventsTopic' } }]);
    expect(statements.flatMap((statement) => [statement.Action].flat()).filter((action) => action.startsWith('kms:'))).toEqual([]);
  });

  it('tells the relay the Outbox table through OUTBOX_TABLE_NAME', () => {
    const relay = resourcesOfType(template, 'AWS::Lambda::Function')[relayId];
    expect(relay?.Properties?.Environment.Variables.OUTBOX_TABLE_NAME).toEqual({ Ref: 'OutboxTable' });
  });

  it('grants the relay stream reads on the Outbox stream', () => {
    expect(actionsOnResource(template, relayId, 'OutboxTable', 'StreamArn')).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
    ]);
  });

  it('grants the relay only BatchGetItem, Query and UpdateItem on the Outbox table ARN (predecessor checks, pending predecessors, marks)', () => {
    expect(actionsOnResource(template, relayId, 'OutboxTable')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  it('grants the relay no access to the other tables', () => {
    for (const table of ['PaymentsTable', 'IdempotencyTable', 'InboxTable']) {
      expect(actionsOnResource(template, relayId, table)).toEqual([]);
    }
  });

  it('grants the relay nothing on the subscriber queues and only send on relay-failures', () => {
    expect(actionsOnResource(template, relayId, 'PaymentEventsQueue')).toEqual([]);
    expect(actionsOnResource(template, relayId, 'PaymentEventsDlq')).toEqual([]);
    expect(actionsOnResource(template, relayId, 'RelayFailuresQueue')).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
  });

  it('gives the relay no secret access', () => {
    const actions = statementsOfFunction(template, relayId).flatMap((statement) => statement.Action);
    expect(actions.filter((action) => action.startsWith('secretsmanager:'))).toEqual([]);
  });

  it('applies relay settings from the stack props', () => {
    // GIVEN / WHEN
    const { template: custom } = synthStack({
      relay: { batchSize: 25, retryAttempts: 3, maxRecordAge: Duration.hours(1), maxBatchingWindow: Duration.seconds(1) },
    });
    // THEN
    custom.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': ['OutboxTable', 'StreamArn'] },
      BatchSize: 25,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 1,
      StartingPosition: 'TRIM_HORIZON',
    });
  });
});

describe('OutboxRelay validation', () => {
  function arrange() {
    const stack = newTestStack();
    const outboxTable = new dynamodb.Table(stack, 'Outbox', {
      partitionKey: { name: 'aggregateId', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    const eventTopic = new sns.Topic(stack, 'Events', { fifo: true });
    return { stack, outboxTable, eventTopic };
  }

  it.each([
    ['maxRecordAge', { maxRecordAge: Duration.hours(24) }, 'maxRecordAge must be between 1 minute and 23 hours (got 1 day)'],
    ['maxRecordAge', { maxRecordAge: Duration.seconds(30) }, 'maxRecordAge must be between 1 minute and 23 hours (got 30 seconds)'],
    ['retryAttempts', { retryAttempts: -1 }, 'retryAttempts must be an integer between 0 and 10000 (got -1)'],
    ['retryAttempts', { retryAttempts: 1.5 }, 'retryAttempts must be an integer between 0 and 10000 (got 1.5)'],
    ['batchSize', { batchSize: 0 }, 'batchSize must be an integer between 1 and 10000 (got 0)'],
    ['batchSize', { batchSize: 10_001 }, 'batchSize must be an integer between 1 and 10000 (got 10001)'],
    ['maxBatchingWindow', { maxBatchingWindow: Duration.minutes(6) }, 'maxBatchingWindow must be between 0 seconds and 5 minutes (got 6 minutes)'],
  ])('rejects an out-of-range %s', (_prop, settings, message) => {
    const { stack, outboxTable, eventTopic } = arrange();
    expect(() => new OutboxRelay(stack, 'Relay', { outboxTable, eventTopic, ...settings })).toThrow(
      `ConstructTestStack/Relay: ${message}`,
    );
  });

  it('rejects a standard topic as event topic', () => {
    const { stack, outboxTable } = arrange();
    const standard = new sns.Topic(stack, 'Standard');
    expect(() => new OutboxRelay(stack, 'Relay', { outboxTable, eventTopic: standard })).toThrow(
      'ConstructTestStack/Relay: eventTopic must be a FIFO topic',
    );
  });

  it('rejects an outbox table without a stream', () => {
    const { stack, eventTopic } = arrange();
    const noStream = new dynamodb.Table(stack, 'NoStream', {
      partitionKey: { name: 'aggregateId', type: dynamodb.AttributeType.STRING },
    });
    expect(() => new OutboxRelay(stack, 'Relay', { outboxTable: noStream, eventTopic })).toThrow(
      'ConstructTestStack/Relay: outboxTable must have a stream',
    );
  });
});
