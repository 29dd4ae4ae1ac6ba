/**
 * How the local runner reads SNS topics and subscriptions from a template (local/template/resolve.ts
 * readTemplate), on a hand-written fragment in the synthesized template's shape. The same reader on
 * the real synthesized template: test/cdk/local-template-model.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LocalStartupError } from '../../local/errors';
import { readTemplate } from '../../local/template/resolve';
import type { CfnTemplate, CfnValue } from '../../local/template/types';

/** A template fragment: a FIFO topic, two FIFO queues, and their subscriptions (one filtered). */
const fanOutFragment: CfnTemplate = {
  Resources: {
    Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'events.fifo', FifoTopic: true, ContentBasedDeduplication: false, KmsMasterKeyId: 'alias/aws/sns' } },
    All: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'all.fifo', FifoQueue: true } },
    Approved: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'approved.fifo', FifoQueue: true } },
    AllSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: { Protocol: 'sqs', TopicArn: { Ref: 'Topic' }, Endpoint: { 'Fn::GetAtt': ['All', 'Arn'] }, RawMessageDelivery: true, FilterPolicyScope: 'MessageAttributes' },
    },
    ApprovedSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sqs',
        TopicArn: { Ref: 'Topic' },
        Endpoint: { 'Fn::GetAtt': ['Approved', 'Arn'] },
        RawMessageDelivery: true,
        FilterPolicyScope: 'MessageAttributes',
        FilterPolicy: { eventType: ['payment.approved'] },
      },
    },
  },
};

describe('reading SNS topics and subscriptions', () => {
  it('reads a FIFO topic with its attributes and each SQS subscription with raw delivery, filter policy and scope', () => {
    const fragment = readTemplate(fanOutFragment);
    expect(fragment.topics).toEqual([{ logicalId: 'Topic', topicName: 'events.fifo', fifo: true, attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false' } }]);
    expect(fragment.subscriptions).toEqual([
      { logicalId: 'AllSubscription', topicLogicalId: 'Topic', queueLogicalId: 'All', rawMessageDelivery: true, filterPolicyScope: 'MessageAttributes' },
      {
        logicalId: 'ApprovedSubscription',
        topicLogicalId: 'Topic',
        queueLogicalId: 'Approved',
        rawMessageDelivery: true,
        filterPolicy: '{"eventType":["payment.approved"]}',
        filterPolicyScope: 'MessageAttributes',
      },
    ]);
  });

  it('refuses a subscription it cannot play (not sqs, or an endpoint outside the template), naming the resource', () => {
    const withSubscription = (properties: Record<string, CfnValue>): CfnTemplate => ({
      Resources: { ...fanOutFragment.Resources, Odd: { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: { Ref: 'Topic' }, ...properties } } },
    });
    expect(() => readTemplate(withSubscription({ Protocol: 'https', Endpoint: 'https://example.com/hook' }))).toThrow(
      new LocalStartupError('template resource Odd: only SNS subscriptions with Protocol sqs are played locally, got "https"'),
    );
    expect(() => readTemplate(withSubscription({ Protocol: 'sqs', Endpoint: 'arn:aws:sqs:eu-west-1:123456789012:elsewhere' }))).toThrow(
      new LocalStartupError('template resource Odd: Endpoint must be Fn::GetAtt <queue>.Arn of a queue in this template'),
    );
  });
});
