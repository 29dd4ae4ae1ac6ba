import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import { PAYMENT_EVENTS_TOPIC_NAME } from '../../lambdas/platform/resource-names';
import { stagedName } from './stage';

export { PAYMENT_EVENTS_TOPIC_NAME };

/** The AWS managed KMS key of SNS: encryption at rest without a key policy or key cost of our own. */
export const SNS_AWS_MANAGED_KEY_ALIAS = 'alias/aws/sns';

/** Props of {@link PaymentEventTopic}. */
export interface PaymentEventTopicProps {
  /**
   * Name of the FIFO topic; must end in `.fifo`, 1-256 characters of `[A-Za-z0-9_-]` before it.
   *
   * @default 'payment-events.fifo', prefixed `<stage>-` in a staged stack
   */
  readonly topicName?: string;
}

/**
 * The fan-out point of payment events: the SNS FIFO topic `payment-events.fifo`. The relay and the
 * sweeper publish each event once (`MessageGroupId` = payment id, `MessageDeduplicationId` = event id,
 * so content-based deduplication is off); every subscriber's SQS FIFO queue subscribes to it with raw
 * message delivery and its own filter policy (see SubscriberQueue), so SNS keeps the order per payment
 * for each subscriber separately and a failing subscriber never holds back the others.
 *
 * Encrypted at rest with the AWS managed key `alias/aws/sns` (its key policy lets SNS use it for any
 * principal of the account allowed to publish, so publishers need no KMS grant), TLS-only (a topic
 * policy denies `aws:SecureTransport = false`). Throughput is limited per message group (payment),
 * not per topic: deduplication ids are event ids, unique across groups. OutboxObservability alarms on
 * the topic's NumberOfNotificationsFailed (SNS could not deliver to a subscriber queue).
 */
export class PaymentEventTopic extends Construct {
  /** The FIFO topic. */
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: PaymentEventTopicProps = {}) {
    super(scope, id);

    const topicName = props.topicName ?? stagedName(this, PAYMENT_EVENTS_TOPIC_NAME);
    if (!/^[A-Za-z0-9_-]{1,251}\.fifo$/.test(topicName)) {
      throw new Error(`${this.node.path}: topicName must be 1-251 characters of [A-Za-z0-9_-] followed by .fifo (got ${topicName})`);
    }

    this.topic = new sns.Topic(this, 'Topic', {
      topicName,
      displayName: 'Payment events',
      fifo: true,
      contentBasedDeduplication: false,
      fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP,
      masterKey: kms.Alias.fromAliasName(this, 'AwsManagedKey', SNS_AWS_MANAGED_KEY_ALIAS),
      enforceSSL: true,
    });
  }
}
