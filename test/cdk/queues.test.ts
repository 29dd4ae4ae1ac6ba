import { type CfnElement, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { parseSubscribers, WEBHOOK_DEFAULTS, WEBHOOK_LIMITS, type Subscriber } from '../../lambdas/domain/subscribers';
import { EXAMPLE_CONSUMER_ENTRY } from '../../lib/constructs/example-consumer';
import {
  SubscriberQueue,
  subscriberIdPart,
  webhookMaxReceiveCount,
  WEBHOOK_GROUP_DEPTH_BOUND,
  WEBHOOK_REDRIVE_MARGIN,
  type SubscriberQueueProps,
} from '../../lib/constructs/subscriber-queue';
import { functionIdByEntry, newTestStack, resourcesOfType, synthStack } from '../support/cdk-stack';

describe('payment-events subscriber queues', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();

  it('creates four queues by default: the payment-events FIFO queue, its FIFO DLQ, its subscription FIFO DLQ and the standard relay-failures queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 4);
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'payment-events-sns-dlq.fifo', FifoQueue: true });
  });

  it('puts payment-events.fifo, its DLQ and its subscription DLQ in high-throughput FIFO mode (deduplication and quota per message group)', () => {
    for (const queueName of ['payment-events.fifo', 'payment-events-dlq.fifo', 'payment-events-sns-dlq.fifo']) {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: queueName,
        FifoQueue: true,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      });
    }
  });

  it('leaves relay-failures (a standard queue) without FIFO throughput settings', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'relay-failures',
      DeduplicationScope: Match.absent(),
      FifoThroughputLimit: Match.absent(),
    });
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
    template.resourceCountIs('AWS::SQS::QueuePolicy', 4);
    const snsDlqId = Object.entries(resourcesOfType(template, 'AWS::SQS::Queue')).find(
      ([, queue]) => queue.Properties?.QueueName === 'payment-events-sns-dlq.fifo',
    )?.[0];
    for (const queueId of ['PaymentEventsQueue', 'PaymentEventsDlq', snsDlqId, 'RelayFailuresQueue']) {
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

  it('redrives a webhook subscriber after maxAttempts x 10 + 20 receives by default (4 attempts: 60)', () => {
    const { create } = arrange({ subscriber: webhookSubscriber });
    expect(create().maxReceiveCount).toBe(60);
    expect(webhookMaxReceiveCount(4)).toBe(4 * WEBHOOK_GROUP_DEPTH_BOUND + WEBHOOK_REDRIVE_MARGIN);
  });

  it('sizes the webhook backstop for every allowed maxAttempts within the SQS maximum of 1000 receives', () => {
    expect(webhookMaxReceiveCount(WEBHOOK_DEFAULTS.maxAttempts)).toBe(100);
    expect(webhookMaxReceiveCount(WEBHOOK_LIMITS.maxAttempts.max)).toBe(220);
    expect(webhookMaxReceiveCount(WEBHOOK_LIMITS.maxAttempts.max)).toBeLessThanOrEqual(1000);
  });

  it('rejects a webhook maxReceiveCount below the backstop, which ordering alone could exhaust before the dispatcher dead-letters', () => {
    const { create } = arrange({ subscriber: webhookSubscriber, maxReceiveCount: 9 });
    expect(create).toThrow('ConstructTestStack/Events: maxReceiveCount must be an integer between 60 and 1000 (got 9)');
  });

  it("gives the subscription a redrive policy to the FIFO queue <name>-sns-dlq.fifo, which SNS may send to from this topic only", () => {
    const { stack, create } = arrange();
    const events = create();
    const template = Template.fromStack(stack);
    const dlqId = stack.getLogicalId(events.subscriptionDeadLetterQueue.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'ledger-sns-dlq.fifo',
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
      RedrivePolicy: Match.absent(),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventsQueue'), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Resource: { 'Fn::GetAtt': [dlqId, 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('^Topic') } } },
          }),
        ]),
      },
    });
  });

  it('gives the subscription DLQ depth as a metric for its alarm: ApproximateNumberOfMessagesVisible, maximum over 1 minute', () => {
    const { stack, create } = arrange();
    const events = create();
    const metric = events.subscriptionDeadLetterQueueDepth;
    expect(metric).toMatchObject({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', statistic: 'Maximum' });
    expect(metric.period.toSeconds()).toBe(60);
    expect(stack.resolve(metric.dimensions?.QueueName)).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(events.subscriptionDeadLetterQueue.node.defaultChild as CfnElement), 'QueueName'] });
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
