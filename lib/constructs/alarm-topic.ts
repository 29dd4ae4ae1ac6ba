import { ArnFormat, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Props of {@link AlarmTopic}. */
export interface AlarmTopicProps {
  /**
   * ARN of an existing standard (not FIFO) SNS topic the alarms notify, e.g. the on-call team's. The stack then
   * creates no topic and no key: that topic's access policy must let `cloudwatch.amazonaws.com` publish, and a
   * topic encrypted with KMS needs a customer managed key whose policy lets CloudWatch use it
   * (`alias/aws/sns` does not: CloudWatch cannot publish to a topic encrypted with it).
   *
   * @default - a new topic, encrypted with a new customer managed key
   */
  readonly topicArn?: string;

  /**
   * An email address subscribed to the topic (created or existing). AWS mails a confirmation link to it; the
   * address gets no notification until someone follows that link.
   *
   * @default - no subscription
   */
  readonly email?: string;
}

/** A standard SNS topic ARN (alarm actions cannot publish to a FIFO topic). */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** A plausible email address: one `@`, a dotted domain, no blanks. */
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s.]+$/;

/**
 * The SNS topic every alarm of the stack notifies, on ALARM and on OK: a new standard topic, or an existing one
 * given by ARN, with an optional email subscription.
 *
 * A new topic is encrypted with a customer managed KMS key of its own (rotated yearly): CloudWatch alarms cannot
 * publish to a topic encrypted with the AWS managed key `alias/aws/sns`, whose policy nobody can extend. The key
 * policy lets `cloudwatch.amazonaws.com` use the key for the topic's messages (`kms:Decrypt`,
 * `kms:GenerateDataKey*`); the topic policy denies publishing without TLS and allows CloudWatch to publish for
 * this account's alarms in this region only (`aws:SourceAccount`, `aws:SourceArn`), since a topic policy of our
 * own replaces SNS's default one.
 */
export class AlarmTopic extends Construct {
  /** The topic the alarms notify. */
  public readonly topic: sns.ITopic;
  /** The key encrypting a topic this construct created; undefined for an existing topic. */
  public readonly key: kms.Key | undefined;
  /** The email subscription, when an address is given. */
  public readonly emailSubscription: sns.Subscription | undefined;
  /** The alarm (and OK) action publishing to the topic. */
  public readonly action: cloudwatchActions.SnsAction;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);

    if (props.topicArn !== undefined && !Token.isUnresolved(props.topicArn)) {
      if (props.topicArn.endsWith('.fifo')) {
        throw new Error(`${this.node.path}: topicArn must be a standard SNS topic; CloudWatch alarms cannot notify a FIFO topic (got ${props.topicArn})`);
      }
      if (!TOPIC_ARN.test(props.topicArn)) {
        throw new Error(`${this.node.path}: topicArn must be an SNS topic ARN, arn:<partition>:sns:<region>:<account>:<name> (got ${props.topicArn})`);
      }
    }
    if (props.email !== undefined && !Token.isUnresolved(props.email) && !EMAIL.test(props.email)) {
      throw new Error(`${this.node.path}: email must be one email address, name@domain (got ${props.email})`);
    }

    if (props.topicArn !== undefined) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', props.topicArn);
      this.key = undefined;
    } else {
      const stack = Stack.of(this);
      this.key = new kms.Key(this, 'Key', {
        description: 'Encrypts the alarm notifications of the payment outbox (CloudWatch may use it to publish to the alarm topic)',
        enableKeyRotation: true,
        // The key protects notifications in flight only: once the stack (and the topic) is gone, nothing needs it.
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublishToTheAlarmTopic',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      const topic = new sns.Topic(this, 'Topic', {
        displayName: 'Payment outbox alarms',
        masterKey: this.key,
        enforceSSL: true,
      });
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowThisAccountsAlarmsToPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: {
              'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
            },
          },
        }),
      );
      this.topic = topic;
    }

    this.emailSubscription =
      props.email === undefined
        ? undefined
        : new sns.Subscription(this, 'EmailSubscription', { topic: this.topic, protocol: sns.SubscriptionProtocol.EMAIL, endpoint: props.email });

    this.action = new cloudwatchActions.SnsAction(this.topic);
  }
}
