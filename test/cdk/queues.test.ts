import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONSUMER_ENTRY } from '../../lib/constructs/example-consumer';
import { PaymentEventQueue } from '../../lib/constructs/payment-event-queue';
import { functionIdByEntry, newTestStack, resourcesOfType, synthStack } from './helpers';

describe('payment-events queues', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();

  it('creates three queues: the FIFO queue, its FIFO DLQ and the standard relay-failures queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 3);
  });

  it('makes payment-events.fifo a FIFO queue with explicit deduplication ids and a redrive policy to its DLQ after 5 receives', () => {
    template.templateMatches({
      Resources: {
        PaymentEventsQueue: {
          Type: 'AWS::SQS::Queue',
          Properties: Match.objectLike({
            QueueName: 'payment-events.fifo',
            FifoQueue: true,
            ContentBasedDeduplication: false,
            SqsManagedSseEnabled: true,
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['PaymentEventsDlq', 'Arn'] }, maxReceiveCount: 5 },
          }),
        },
      },
    });
  });

  it('makes payment-events-dlq.fifo a FIFO queue keeping messages 14 days, with no redrive of its own', () => {
    template.templateMatches({
      Resources: {
        PaymentEventsDlq: {
          Type: 'AWS::SQS::Queue',
          Properties: Match.objectLike({
            QueueName: 'payment-events-dlq.fifo',
            FifoQueue: true,
            MessageRetentionPeriod: 14 * 24 * 3600,
            SqsManagedSseEnabled: true,
            RedrivePolicy: Match.absent(),
          }),
        },
      },
    });
  });

  it('makes relay-failures a standard (non-FIFO) encrypted queue keeping messages 14 days', () => {
    template.templateMatches({
      Resources: {
        RelayFailuresQueue: {
          Type: 'AWS::SQS::Queue',
          Properties: Match.objectLike({
            QueueName: 'relay-failures',
            FifoQueue: Match.absent(),
            MessageRetentionPeriod: 14 * 24 * 3600,
            SqsManagedSseEnabled: true,
          }),
        },
      },
    });
  });

  it('denies non-TLS access on every queue', () => {
    template.resourceCountIs('AWS::SQS::QueuePolicy', 3);
    for (const queueId of ['PaymentEventsQueue', 'PaymentEventsDlq', 'RelayFailuresQueue']) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('sets the visibility timeout of payment-events.fifo to at least 6 times the consumer function timeout', () => {
    const queue = resourcesOfType(template, 'AWS::SQS::Queue').PaymentEventsQueue;
    const consumer = resourcesOfType(template, 'AWS::Lambda::Function')[functionIdByEntry(template, EXAMPLE_CONSUMER_ENTRY)];
    expect(consumer?.Properties?.Timeout).toBe(30);
    expect(queue?.Properties?.VisibilityTimeout).toBe(180);
    expect(queue?.Properties?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (consumer?.Properties?.Timeout as number));
  });

  it('uses maxReceiveCount from the stack props', () => {
    const { template: custom } = synthStack({ maxReceiveCount: 3 });
    custom.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'payment-events.fifo',
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
  });
});

describe('PaymentEventQueue validation', () => {
  it.each([0, 1001, 2.5, -1])('rejects maxReceiveCount %s', (maxReceiveCount) => {
    const stack = newTestStack();
    expect(() => new PaymentEventQueue(stack, 'Events', { maxReceiveCount })).toThrow(
      `ConstructTestStack/Events: maxReceiveCount must be an integer between 1 and 1000 (got ${maxReceiveCount})`,
    );
  });

  it('rejects a consumer timeout above the Lambda maximum of 15 minutes', () => {
    const stack = newTestStack();
    expect(() => new PaymentEventQueue(stack, 'Events', { consumerTimeout: Duration.minutes(16) })).toThrow(
      'ConstructTestStack/Events: consumerTimeout must be between 1 second and 15 minutes (got 16 minutes)',
    );
  });

  it('rejects a base name SQS would not accept', () => {
    const stack = newTestStack();
    expect(() => new PaymentEventQueue(stack, 'Events', { queueBaseName: 'payment events' })).toThrow(
      'queueBaseName must be 1-66 characters of [A-Za-z0-9_-] (got payment events)',
    );
  });

  it('computes the visibility timeout as 6 x the consumer timeout', () => {
    const stack = newTestStack();
    const events = new PaymentEventQueue(stack, 'Events', { consumerTimeout: Duration.seconds(45) });
    expect(events.visibilityTimeout.toSeconds()).toBe(270);
  });
});
