/**
 * Creates the template's SNS topics in the emulator (fauxqs serves SNS on its SQS port) and
 * subscribes the template's queues to them with the subscription attributes the template sets:
 * raw message delivery, filter policy and its scope. Publishing to a FIFO topic then fans out to
 * the subscribed FIFO queues with the message group and deduplication ids, as on AWS.
 *
 * A subscription's RedrivePolicy (its dead-letter queue for what SNS cannot deliver) is not played:
 * fauxqs 1.9.2 stores the attribute but never uses it (a notification to a missing queue is skipped),
 * and locally the subscribed queues always exist. The dead-letter queue itself is created, like every
 * queue of the template, so names and URLs match the deployed stack.
 */
import { CreateTopicCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { LocalStartupError } from '../errors';
import type { LocalQueueRef, LocalTopicRef } from '../template/intrinsics';
import type { SubscriptionSpec, TopicSpec } from '../template/resolve';

export interface CreatedTopic extends LocalTopicRef {
  readonly spec: TopicSpec;
}

export interface CreatedSubscription {
  readonly spec: SubscriptionSpec;
  readonly subscriptionArn: string;
  readonly topicArn: string;
  readonly queueArn: string;
}

export async function createTopics(client: SNSClient, specs: readonly TopicSpec[]): Promise<CreatedTopic[]> {
  const created: CreatedTopic[] = [];
  for (const spec of specs) {
    const { TopicArn: arn } = await client.send(new CreateTopicCommand({ Name: spec.topicName, Attributes: spec.attributes }));
    if (!arn) throw new LocalStartupError(`topic ${spec.topicName}: the emulator returned no ARN`);
    created.push({ spec, topicName: spec.topicName, arn });
  }
  return created;
}

/** The subscription attributes of `spec` as SNS Subscribe takes them (all strings). */
export function subscriptionAttributes(spec: SubscriptionSpec): Record<string, string> {
  return {
    RawMessageDelivery: String(spec.rawMessageDelivery),
    ...(spec.filterPolicy !== undefined && { FilterPolicy: spec.filterPolicy }),
    ...(spec.filterPolicyScope !== undefined && { FilterPolicyScope: spec.filterPolicyScope }),
  };
}

export async function createSubscriptions(
  client: SNSClient,
  specs: readonly SubscriptionSpec[],
  topics: ReadonlyMap<string, LocalTopicRef>,
  queues: ReadonlyMap<string, LocalQueueRef>,
): Promise<CreatedSubscription[]> {
  const created: CreatedSubscription[] = [];
  for (const spec of specs) {
    const topic = topics.get(spec.topicLogicalId);
    const queue = queues.get(spec.queueLogicalId);
    if (!topic || !queue) throw new LocalStartupError(`subscription ${spec.logicalId}: its topic or queue was not created`);
    const { SubscriptionArn: arn } = await client.send(
      new SubscribeCommand({
        TopicArn: topic.arn,
        Protocol: 'sqs',
        Endpoint: queue.arn,
        Attributes: subscriptionAttributes(spec),
        ReturnSubscriptionArn: true,
      }),
    );
    if (!arn) throw new LocalStartupError(`subscription ${spec.logicalId}: the emulator returned no ARN`);
    created.push({ spec, subscriptionArn: arn, topicArn: topic.arn, queueArn: queue.arn });
  }
  return created;
}
