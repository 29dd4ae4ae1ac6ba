import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SubscriberConfigError } from '../../lambdas/domain/subscribers';
import { EXAMPLE_CONSUMER_ENTRY } from '../../lib/constructs/example-consumer';
import { resourcesOfType, synthStack } from '../support/cdk-stack';

/** Three subscribers: the example consumer's queue, a filtered queue subscriber, a webhook. */
const SUBSCRIBERS = [
  { name: 'payment-events', delivery: { kind: 'queue' } },
  { name: 'ledger', eventTypes: ['payment.cancelled', 'payment.approved'], delivery: { kind: 'queue' } },
  { name: 'shop', delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks/payments' } },
];

describe('payment events topic', () => {
  // GIVEN the stack with default props
  const { template } = synthStack();

  it('is one SNS FIFO topic payment-events.fifo with explicit deduplication ids, encrypted with the AWS managed SNS key', () => {
    // One FIFO topic for the events (the alarm topic, a standard topic, is another matter).
    template.resourcePropertiesCountIs('AWS::SNS::Topic', { FifoTopic: true }, 1);
    template.templateMatches({
      Resources: {
        PaymentEventsTopic: {
          Type: 'AWS::SNS::Topic',
          Properties: Match.objectLike({
            TopicName: 'payment-events.fifo',
            FifoTopic: true,
            ContentBasedDeduplication: false,
            KmsMasterKeyId: { 'Fn::Join': ['', Match.arrayWith([':alias/aws/sns'])] },
          }),
        },
      },
    });
  });

  it('denies publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: 'PaymentEventsTopic' }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has, by default, one subscriber: payment-events, a queue subscriber receiving every event type', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.templateMatches({
      Resources: {
        PaymentEventsSubscription: {
          Type: 'AWS::SNS::Subscription',
          Properties: {
            Protocol: 'sqs',
            TopicArn: { Ref: 'PaymentEventsTopic' },
            Endpoint: { 'Fn::GetAtt': ['PaymentEventsQueue', 'Arn'] },
            RawMessageDelivery: true,
            FilterPolicyScope: 'MessageAttributes',
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['PaymentEventsSnsDlq', 'Arn'] } },
          },
        },
      },
    });
  });
});

describe('subscribers from configuration', () => {
  // GIVEN three subscribers
  const { template } = synthStack({ subscribers: SUBSCRIBERS });
  const queues = resourcesOfType(template, 'AWS::SQS::Queue');

  it('subscribes each subscriber queue to the topic with raw message delivery, filtering on message attributes', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 3);
    for (const part of ['PaymentEvents', 'Ledger', 'Shop']) {
      template.templateMatches({
        Resources: {
          [`${part}Subscription`]: {
            Type: 'AWS::SNS::Subscription',
            Properties: Match.objectLike({
              Protocol: 'sqs',
              TopicArn: { Ref: 'PaymentEventsTopic' },
              Endpoint: { 'Fn::GetAtt': [`${part}Queue`, 'Arn'] },
              RawMessageDelivery: true,
              FilterPolicyScope: 'MessageAttributes',
            }),
          },
        },
      });
    }
  });

  it('filters a subscriber that takes some event types on eventType, in canonical order', () => {
    template.templateMatches({
      Resources: {
        LedgerSubscription: { Properties: Match.objectLike({ FilterPolicy: { eventType: ['payment.approved', 'payment.cancelled'] } }) },
      },
    });
  });

  it('puts no filter policy on subscribers that take every event type', () => {
    const subscriptions = resourcesOfType(template, 'AWS::SNS::Subscription');
    expect(subscriptions.PaymentEventsSubscription?.Properties?.FilterPolicy).toBeUndefined();
    expect(subscriptions.ShopSubscription?.Properties?.FilterPolicy).toBeUndefined();
  });

  it('gives each subscriber a FIFO queue <name>.fifo and a FIFO DLQ <name>-dlq.fifo under pinned logical ids', () => {
    for (const [part, name] of [
      ['PaymentEvents', 'payment-events'],
      ['Ledger', 'ledger'],
      ['Shop', 'shop'],
    ] as const) {
      expect(queues[`${part}Queue`]?.Properties).toMatchObject({ QueueName: `${name}.fifo`, FifoQueue: true, ContentBasedDeduplication: false });
      expect(queues[`${part}Dlq`]?.Properties).toMatchObject({ QueueName: `${name}-dlq.fifo`, FifoQueue: true, ContentBasedDeduplication: false });
      expect(queues[`${part}Queue`]?.Properties?.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [`${part}Dlq`, 'Arn'] });
      expect(queues[`${part}Dlq`]?.Properties?.RedrivePolicy).toBeUndefined();
    }
    expect(Object.keys(queues)).toHaveLength(10);
  });

  it('redrives queue subscribers after 5 receives and a webhook subscriber after maxAttempts (8) x 10 + 20', () => {
    expect(queues.PaymentEventsQueue?.Properties?.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(queues.LedgerQueue?.Properties?.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(queues.ShopQueue?.Properties?.RedrivePolicy.maxReceiveCount).toBe(100);
  });

  it('puts every subscriber queue, DLQ and subscription DLQ in high-throughput FIFO mode', () => {
    const fifo = Object.values(queues).filter((queue) => queue.Properties?.FifoQueue === true);
    expect(fifo).toHaveLength(9);
    for (const queue of fifo) {
      expect(queue.Properties, queue.Properties?.QueueName).toMatchObject({ DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' });
    }
  });

  it("redrives each subscription into its own FIFO queue <name>-sns-dlq.fifo, which SNS may send to from this topic only", () => {
    const subscriptions = resourcesOfType(template, 'AWS::SNS::Subscription');
    for (const [part, name] of [
      ['PaymentEvents', 'payment-events'],
      ['Ledger', 'ledger'],
      ['Shop', 'shop'],
    ] as const) {
      const target = (subscriptions[`${part}Subscription`]?.Properties?.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] } })
        .deadLetterTargetArn['Fn::GetAtt'];
      expect(target[1]).toBe('Arn');
      expect(queues[target[0]]?.Properties).toMatchObject({
        QueueName: `${name}-sns-dlq.fifo`,
        FifoQueue: true,
        ContentBasedDeduplication: false,
        MessageRetentionPeriod: 14 * 24 * 3600,
        SqsManagedSseEnabled: true,
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: target[0] }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Principal: { Service: 'sns.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'PaymentEventsTopic' } } },
            }),
          ]),
        },
      });
    }
  });

  it('applies the stack maxReceiveCount to queue subscribers only', () => {
    const { template: custom } = synthStack({ subscribers: SUBSCRIBERS, maxReceiveCount: 2 });
    const customQueues = resourcesOfType(custom, 'AWS::SQS::Queue');
    expect(customQueues.LedgerQueue?.Properties?.RedrivePolicy.maxReceiveCount).toBe(2);
    expect(customQueues.ShopQueue?.Properties?.RedrivePolicy.maxReceiveCount).toBe(100);
  });

  it('lets SNS send to each subscriber queue from this topic only, and to no subscriber DLQ', () => {
    const snsStatement = Match.objectLike({
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Principal: { Service: 'sns.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'PaymentEventsTopic' } } },
    });
    for (const part of ['PaymentEvents', 'Ledger', 'Shop']) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: `${part}Queue` }],
        PolicyDocument: { Statement: Match.arrayWith([snsStatement]) },
      });
    }
    const queueOf = (policy: { Properties?: Record<string, unknown> }) => (policy.Properties?.Queues as { Ref: string }[])[0]?.Ref ?? '';
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy'));
    const dlqPolicies = policies.filter((policy) => /Dlq$/.test(queueOf(policy)) && !/SnsDlq$/.test(queueOf(policy)));
    expect(dlqPolicies).toHaveLength(3);
    for (const policy of dlqPolicies) expect(JSON.stringify(policy.Properties?.PolicyDocument)).not.toContain('sns.amazonaws.com');
    // The SNS subscriptions' own DLQs take what SNS could not deliver, from this topic only.
    const snsDlqPolicies = policies.filter((policy) => /SnsDlq$/.test(queueOf(policy)));
    expect(snsDlqPolicies).toHaveLength(3);
    for (const policy of snsDlqPolicies) expect(JSON.stringify(policy.Properties?.PolicyDocument)).toContain('sns.amazonaws.com');
  });

  it('outputs the topic ARN and each subscriber queue and DLQ URL', () => {
    template.hasOutput('PaymentEventsTopicArn', { Value: { Ref: 'PaymentEventsTopic' } });
    for (const part of ['PaymentEvents', 'Ledger', 'Shop']) {
      template.hasOutput(`${part}QueueUrl`, { Value: { Ref: `${part}Queue` } });
      template.hasOutput(`${part}DlqUrl`, { Value: { Ref: `${part}Dlq` } });
    }
  });

  it('alarms on every subscriber DLQ and SNS subscription DLQ; the payment-events alarm keeps its id', () => {
    const alarms = Object.entries(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).filter(
      ([, alarm]) => alarm.Properties?.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    const byQueue = Object.fromEntries(
      alarms.map(([id, alarm]) => [(alarm.Properties?.Dimensions[0].Value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0], id]),
    );
    expect(Object.keys(byQueue).sort()).toEqual([
      'LedgerDlq',
      'LedgerSnsDlq',
      'PaymentEventsDlq',
      'PaymentEventsSnsDlq',
      'RelayFailuresQueue',
      'ShopDlq',
      'ShopSnsDlq',
    ]);
    expect(byQueue.PaymentEventsSnsDlq).toMatch(/^ObservabilityPaymentEventsSnsDeadLetterQueueNotEmpty[0-9A-F]{8}$/);
    expect(byQueue.PaymentEventsDlq).toMatch(/^ObservabilityPaymentEventsDeadLetterQueueNotEmpty[0-9A-F]{8}$/);
    expect(byQueue.LedgerDlq).toMatch(/^ObservabilityLedgerDeadLetterQueueNotEmpty[0-9A-F]{8}$/);
    expect(byQueue.ShopDlq).toMatch(/^ObservabilityShopDeadLetterQueueNotEmpty[0-9A-F]{8}$/);
    for (const [, alarm] of alarms) expect(alarm.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('wires the example consumer to the payment-events queue only', () => {
    const consumers = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function')).filter(
      ([, fn]) => fn.Metadata?.['payment-outbox:entry'] === EXAMPLE_CONSUMER_ENTRY,
    );
    expect(consumers).toHaveLength(1);
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).filter(
      (esm) => esm.Properties?.FunctionName.Ref === consumers[0]?.[0],
    );
    expect(mappings.map((esm) => esm.Properties?.EventSourceArn)).toEqual([{ 'Fn::GetAtt': ['PaymentEventsQueue', 'Arn'] }]);
  });
});

describe('subscriber configuration errors and the example consumer', () => {
  it('fails synthesis with a SubscriberConfigError naming every problem', () => {
    const invalid = [
      { name: 'shop', delivery: { kind: 'webhook', url: 'http://shop.example.com/hooks' } },
      { name: 'Ledger', delivery: { kind: 'queue' } },
    ];
    expect(() => synthStack({ subscribers: invalid })).toThrow(SubscriberConfigError);
    expect(() => synthStack({ subscribers: invalid })).toThrow(
      'Invalid subscriber configuration: subscribers[0] (shop).delivery.url: must use https (plain http only for localhost or 127.0.0.1); ' +
        'subscribers[1] (Ledger).name: must be kebab case (a-z, 0-9, single hyphens between words)',
    );
  });

  it('fails synthesis when two subscriber names map to the same CloudFormation ids', () => {
    const clash = [
      { name: 'ab-1', delivery: { kind: 'queue' } },
      { name: 'ab1', delivery: { kind: 'queue' } },
    ];
    expect(() => synthStack({ subscribers: clash })).toThrow(
      'subscribers: ab1 would use the CloudFormation id Ab1Queue, already used by subscriber ab-1; rename the subscriber',
    );
  });

  it('fails synthesis when a subscriber name maps to an id of the stack itself', () => {
    expect(() => synthStack({ subscribers: [{ name: 'relay-failures', delivery: { kind: 'queue' } }] })).toThrow(
      'subscribers: relay-failures would use the CloudFormation id RelayFailuresQueue, already used by the stack; rename the subscriber',
    );
  });

  it('has no example consumer when there is no payment-events queue subscriber', () => {
    const { stack, template } = synthStack({ subscribers: [{ name: 'ledger', delivery: { kind: 'queue' } }] });
    expect(stack.exampleConsumer).toBeUndefined();
    const entries = Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).map((fn) => fn.Metadata?.['payment-outbox:entry']);
    expect(entries).not.toContain(EXAMPLE_CONSUMER_ENTRY);
  });

  it('wires the example consumer to another queue subscriber when told to', () => {
    const { template } = synthStack({ subscribers: [{ name: 'ledger', delivery: { kind: 'queue' } }], exampleConsumerSubscriber: 'ledger' });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: { 'Fn::GetAtt': ['LedgerQueue', 'Arn'] } });
  });

  it('rejects an example consumer subscriber that is not a queue subscriber', () => {
    expect(() => synthStack({ subscribers: SUBSCRIBERS, exampleConsumerSubscriber: 'shop' })).toThrow(
      'exampleConsumerSubscriber: shop is not a queue subscriber (subscribers: payment-events, ledger, shop)',
    );
  });
});
