/**
 * SNS fan-out on the local runner: the template's FIFO topic and subscriptions created in fauxqs,
 * a real PublishBatch through the emulator arriving on every subscribed FIFO queue as the raw
 * body with its message attributes, group and deduplication ids, and a filter policy holding back
 * the event types a subscriber does not want. The synthesized template plus one extra subscriber
 * queue filtered to `payment.approved` (a fragment in the template's own shape).
 */
import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand, PublishBatchCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { CfnTemplate } from '../../local/template/types';
import {
  callApi,
  drainQueue,
  NOTIFICATIONS_QUEUE,
  PAYMENT_EVENTS_QUEUE,
  PAYMENT_EVENTS_TOPIC,
  receiveMessages,
  startTestStack,
  type LocalStack,
} from '../support/local-stack-harness';

const APPROVED_ONLY_QUEUE = 'approved-only.fifo';

/** The synthesized template with a queue subscribed to its topic, filtered to payment.approved. */
function withApprovedOnlySubscriber(template: CfnTemplate): CfnTemplate {
  const topicId = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::SNS::Topic')?.[0];
  if (!topicId) throw new Error('the synthesized template has no SNS topic');
  return {
    ...template,
    Resources: {
      ...template.Resources,
      ApprovedOnlyQueue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: APPROVED_ONLY_QUEUE, FifoQueue: true, ContentBasedDeduplication: false } },
      ApprovedOnlySubscription: {
        Type: 'AWS::SNS::Subscription',
        Properties: {
          Protocol: 'sqs',
          TopicArn: { Ref: topicId },
          Endpoint: { 'Fn::GetAtt': ['ApprovedOnlyQueue', 'Arn'] },
          RawMessageDelivery: true,
          FilterPolicyScope: 'MessageAttributes',
          FilterPolicy: { eventType: ['payment.approved'] },
        },
      },
    },
  };
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ consumers: false, template: withApprovedOnlySubscriber(inject('localTemplate')) });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  await stack.pollers.stream('outbox-relay').waitForIdle();
  for (const queue of [PAYMENT_EVENTS_QUEUE, NOTIFICATIONS_QUEUE, APPROVED_ONLY_QUEUE]) await drainQueue(stack, queue);
});

const topicArn = () => stack.topicArn(PAYMENT_EVENTS_TOPIC);

const envelope = (paymentId: string, sequence: number, type: string) =>
  JSON.stringify({ eventId: `${paymentId}-${sequence}`, type, aggregateType: 'payment', aggregateId: paymentId, sequence });

describe('SNS topics and subscriptions from the template', () => {
  it('creates the FIFO topic and subscribes every subscriber queue with the template’s raw delivery, filter policy and scope', async () => {
    const { Subscriptions = [] } = await stack.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn() }));
    const byQueue = new Map(Subscriptions.map((s) => [s.Endpoint, s.SubscriptionArn]));
    expect([...byQueue.keys()].sort()).toEqual(stack.model.subscriptions.map((s) => stack.queues.get(queueName(s.queueLogicalId))?.arn).sort());

    const approvedOnly = byQueue.get(stack.queues.get(APPROVED_ONLY_QUEUE)?.arn);
    const { Attributes = {} } = await stack.clients.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: approvedOnly }));
    expect(Attributes).toMatchObject({ RawMessageDelivery: 'true', FilterPolicyScope: 'MessageAttributes', FilterPolicy: '{"eventType":["payment.approved"]}' });
    expect(stack.endpoints.topics).toEqual({ [PAYMENT_EVENTS_TOPIC]: `arn:aws:sns:${stack.endpoints.region}:000000000000:${PAYMENT_EVENTS_TOPIC}` });
  });

  it('delivers a PublishBatch to each subscribed FIFO queue raw, with attributes, group and dedup ids; the filter holds back other types', async () => {
    const { Successful = [], Failed = [] } = await stack.clients.sns.send(
      new PublishBatchCommand({
        TopicArn: topicArn(),
        PublishBatchRequestEntries: [
          { type: 'payment.created', sequence: 1 },
          { type: 'payment.approved', sequence: 2 },
        ].map(({ type, sequence }) => ({
          Id: String(sequence),
          Message: envelope('pay-sns', sequence, type),
          MessageGroupId: 'pay-sns',
          MessageDeduplicationId: `pay-sns-${sequence}`,
          MessageAttributes: {
            eventType: { DataType: 'String', StringValue: type },
            sequence: { DataType: 'Number', StringValue: String(sequence) },
            aggregateId: { DataType: 'String', StringValue: 'pay-sns' },
          },
        })),
      }),
    );
    expect([Successful.length, Failed.length]).toEqual([2, 0]);

    for (const queue of [PAYMENT_EVENTS_QUEUE, NOTIFICATIONS_QUEUE]) {
      const messages = await receiveMessages(stack, queue, { count: 2 });
      expect(messages.map((m) => m.Body), queue).toEqual([envelope('pay-sns', 1, 'payment.created'), envelope('pay-sns', 2, 'payment.approved')]);
      expect(messages.map((m) => [m.Attributes?.MessageGroupId, m.Attributes?.MessageDeduplicationId])).toEqual([
        ['pay-sns', 'pay-sns-1'],
        ['pay-sns', 'pay-sns-2'],
      ]);
      expect(messages.map((m) => m.MessageAttributes?.eventType?.StringValue)).toEqual(['payment.created', 'payment.approved']);
      expect(messages[1]?.MessageAttributes?.sequence).toMatchObject({ DataType: 'Number', StringValue: '2' });
    }
    const approvedOnly = await receiveMessages(stack, APPROVED_ONLY_QUEUE, { count: 1 });
    expect(approvedOnly.map((m) => m.MessageAttributes?.eventType?.StringValue)).toEqual(['payment.approved']);
    expect(await receiveMessages(stack, APPROVED_ONLY_QUEUE, { timeoutMs: 1_000 })).toEqual([]);
  });

  it('carries the relay’s events from POST /payments + confirm through the topic to every subscriber queue', async () => {
    const created = await callApi(stack, 'POST', '/payments', { body: { orderId: 'order-sns', amount: 7_000, currency: 'KRW', method: 'CARD' } });
    const paymentId = (created.body as { paymentId: string }).paymentId;
    const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken: 'tok_visa' } });
    expect([created.status, confirmed.status]).toEqual([201, 200]);

    const [events, notifications, approvedOnly] = await Promise.all([
      receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 2 }),
      receiveMessages(stack, NOTIFICATIONS_QUEUE, { count: 2 }),
      receiveMessages(stack, APPROVED_ONLY_QUEUE, { count: 1 }),
    ]);
    const types = (messages: typeof events) => messages.map((m) => m.MessageAttributes?.eventType?.StringValue);
    expect(types(events)).toEqual(['payment.created', 'payment.approved']);
    expect(notifications.map((m) => m.Body)).toEqual(events.map((m) => m.Body));
    expect(types(approvedOnly)).toEqual(['payment.approved']);
    expect([...events, ...notifications, ...approvedOnly].every((m) => m.Attributes?.MessageGroupId === paymentId)).toBe(true);
  });
});

function queueName(logicalId: string): string {
  const spec = stack.model.queues.find((q) => q.logicalId === logicalId);
  if (!spec) throw new Error(`no queue ${logicalId}`);
  return spec.queueName;
}
