import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { parseSubscribers, type Subscriber } from '../../lambdas/domain/subscribers';
import { EXAMPLE_CONSUMER_ENTRY } from '../../lib/constructs/example-consumer';
import { SubscriberQueue, subscriberIdPart, type SubscriberQueueProps } from '../../lib/constructs/subscriber-queue';
import { functionIdByEntry, newTestStack, resourcesOfType, synthStack } from '../support/cdk-stack';

describe('payment-events subscriber queues', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();

  it('creates three queues by default: the payment-events FIFO queue, its FIFO DLQ and the standard relay-failures queue', () => {
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
            ContentBasedDeduplication: false,
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

describe('SubscriberQueue validation', () => {
  const queueSubscriber = parseSubscribers([{ name: 'ledger', delivery: { kind: 'queue' } }])[0] as Subscriber;
  const webhookSubscriber = parseSubscribers([
    { name: 'shop', delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks', maxAttempts: 4 } },
  ])[0] as Subscriber;

  function arrange(overrides: Partial<SubscriberQueueProps> = {}) {
    const stack = newTestStack();
    const topic = new sns.Topic(stack, 'Topic', { fifo: true });
    return { stack, create: () => new SubscriberQueue(stack, 'Events', { subscriber: queueSubscriber, topic, ...overrides }) };
  }

  it.each([0, 1001, 2.5, -1])('rejects maxReceiveCount %s', (maxReceiveCount) => {
    const { create } = arrange({ maxReceiveCount });
    expect(create).toThrow(`ConstructTestStack/Events: maxReceiveCount must be an integer between 1 and 1000 (got ${maxReceiveCount})`);
  });

  it('rejects a consumer timeout above the Lambda maximum of 15 minutes', () => {
    const { create } = arrange({ consumerTimeout: Duration.minutes(16) });
    expect(create).toThrow('ConstructTestStack/Events: consumerTimeout must be between 1 second and 15 minutes (got 16 minutes)');
  });

  it('rejects a standard topic', () => {
    const stack = newTestStack();
    const topic = new sns.Topic(stack, 'Standard');
    expect(() => new SubscriberQueue(stack, 'Events', { subscriber: queueSubscriber, topic })).toThrow(
      'ConstructTestStack/Events: topic must be a FIFO topic',
    );
  });

  it('computes the visibility timeout as 6 x the consumer timeout', () => {
    const { create } = arrange({ consumerTimeout: Duration.seconds(45) });
    expect(create().visibilityTimeout.toSeconds()).toBe(270);
  });

  it('redrives a webhook subscriber after maxAttempts + 5 receives by default', () => {
    const { create } = arrange({ subscriber: webhookSubscriber });
    expect(create().maxReceiveCount).toBe(9);
  });

  it('rejects a webhook maxReceiveCount that would redrive before the dispatcher dead-letters (<= maxAttempts)', () => {
    const { create } = arrange({ subscriber: webhookSubscriber, maxReceiveCount: 4 });
    expect(create).toThrow('ConstructTestStack/Events: maxReceiveCount must be an integer between 5 and 1000 (got 4)');
  });

  it('names the queues after the subscriber: <name>.fifo with the DLQ <name>-dlq.fifo', () => {
    const { stack, create } = arrange();
    create();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'ledger-dlq.fifo', FifoQueue: true });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'ledger.fifo',
      FifoQueue: true,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
  });

  it.each([
    ['payment-events', 'PaymentEvents'],
    ['notifications', 'Notifications'],
    ['a-b2-c', 'AB2C'],
  ])('turns subscriber name %s into the id part %s', (name, part) => {
    expect(subscriberIdPart(name)).toBe(part);
  });
});
