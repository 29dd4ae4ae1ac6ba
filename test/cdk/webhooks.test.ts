import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import {
  appSubscribers,
  DEFAULT_NOTIFICATIONS_WEBHOOK_URL,
  LOCAL_WEBHOOK_WARNING_ID,
  NOTIFICATIONS_WEBHOOK_URL_CONTEXT,
  notificationsWebhookUrl,
  warnOnLocalNotificationsUrl,
} from '../../bin/app-subscribers';
import { ATTEMPT_OVERHEAD_MS } from '../../lambdas/functions/webhook-dispatcher/webhook-dispatcher';
import { parseSubscribers, WEBHOOK_DEFAULTS, type WebhookSubscriber } from '../../lambdas/domain/subscribers';
import { webhookDispatcherEnvironment } from '../../lambdas/functions/webhook-dispatcher/config';
import { SubscriberQueue, webhookMaxReceiveCount } from '../../lib/constructs/subscriber-queue';
import {
  DISPATCHER_ATTEMPT_OVERHEAD_SECONDS,
  WEBHOOK_DISPATCHER_ENTRY,
  WebhookDispatcher,
  webhookDispatcherTimeout,
} from '../../lib/constructs/webhook-dispatcher';
import { SANDBOX_PG_WARNING_ID } from '../../lib/constructs/sandbox-payment-gateway';
import { PaymentOutboxStack } from '../../lib/payment-outbox-stack';
import {
  actionsOf,
  actionsOnResource,
  functionIdByEntry,
  newTestApp,
  newTestStack,
  resourcesOf,
  resourcesOfType,
  statementsOfFunction,
  synthAppStack,
  synthStack,
} from '../support/cdk-stack';

describe('webhook dispatcher of the app (notifications)', () => {
  // GIVEN the stack as the app builds it
  const { stack, template } = synthAppStack();
  const notifications = stack.subscribers.find((subscriber) => subscriber.name === 'notifications') as WebhookSubscriber;
  const dispatcherId = functionIdByEntry(template, WEBHOOK_DISPATCHER_ENTRY);
  const dispatcher = resourcesOfType(template, 'AWS::Lambda::Function')[dispatcherId];

  it('is one function per webhook subscriber, entry lambdas/functions/webhook-dispatcher/entry.ts', () => {
    expect(dispatcher?.Metadata?.['payment-outbox:entry']).toBe(WEBHOOK_DISPATCHER_ENTRY);
  });

  it('gets the subscriber settings, its queue, DLQ, the Deliveries table, the retention and its secret ARN', () => {
    expect(dispatcher?.Properties?.Environment.Variables).toMatchObject({
      ...webhookDispatcherEnvironment(notifications),
      SUBSCRIBER_QUEUE_URL: { Ref: 'NotificationsQueue' },
      SUBSCRIBER_DLQ_URL: { Ref: 'NotificationsDlq' },
      DELIVERIES_TABLE_NAME: { Ref: 'DeliveriesTable' },
      DELIVERIES_RETENTION_DAYS: '30',
      WEBHOOK_SECRET_ARN: { Ref: 'NotificationsWebhookSecret' },
    });
    expect(dispatcher?.Properties?.Environment.Variables).toMatchObject({
      SUBSCRIBER_NAME: 'notifications',
      WEBHOOK_URL: DEFAULT_NOTIFICATIONS_WEBHOOK_URL,
      WEBHOOK_TIMEOUT_SECONDS: String(WEBHOOK_DEFAULTS.timeoutSeconds),
      WEBHOOK_MAX_ATTEMPTS: String(WEBHOOK_DEFAULTS.maxAttempts),
      WEBHOOK_BACKOFF_BASE_SECONDS: String(WEBHOOK_DEFAULTS.backoff.baseSeconds),
      WEBHOOK_BACKOFF_MAX_SECONDS: String(WEBHOOK_DEFAULTS.backoff.maxSeconds),
    });
    expect(dispatcher?.Properties?.Environment.Variables.WEBHOOK_SECRET).toBeUndefined();
  });

  it('reads its queue through an event source mapping: 5 messages per batch, partial batch responses', () => {
    template.resourcePropertiesCountIs('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: dispatcherId } }, 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: dispatcherId },
      EventSourceArn: { 'Fn::GetAtt': ['NotificationsQueue', 'Arn'] },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('has a timeout longer than request timeout x batch size, and its queue a visibility timeout of 6 x that', () => {
    const timeout = dispatcher?.Properties?.Timeout as number;
    expect(timeout).toBe(5 * (5 + 3) + 10);
    expect(timeout).toBeGreaterThan(WEBHOOK_DEFAULTS.timeoutSeconds * 5);
    const queue = resourcesOfType(template, 'AWS::SQS::Queue').NotificationsQueue;
    expect(queue?.Properties?.VisibilityTimeout).toBe(6 * timeout);
  });

  it('uses the attempt overhead the handler keeps per message', () => {
    expect(DISPATCHER_ATTEMPT_OVERHEAD_SECONDS * 1000).toBe(ATTEMPT_OVERHEAD_MS);
  });

  it('redrives its queue only after maxAttempts x 10 + 20 receives (a backstop ordering cannot reach), into notifications-dlq.fifo', () => {
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    expect(queues.NotificationsQueue?.Properties).toMatchObject({
      QueueName: 'notifications.fifo',
      FifoQueue: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['NotificationsDlq', 'Arn'] }, maxReceiveCount: webhookMaxReceiveCount(WEBHOOK_DEFAULTS.maxAttempts) },
    });
    expect(queues.NotificationsQueue?.Properties?.RedrivePolicy.maxReceiveCount).toBe(100);
    expect(queues.NotificationsQueue?.Properties).toMatchObject({ DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' });
    expect(queues.NotificationsDlq?.Properties).toMatchObject({ DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' });
    expect(queues.NotificationsDlq?.Properties).toMatchObject({ QueueName: 'notifications-dlq.fifo', FifoQueue: true });
  });

  it('may change visibility on (and consume) its queue, send to its DLQ, nothing more on either', () => {
    expect(actionsOnResource(template, dispatcherId, 'NotificationsQueue')).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
    expect(actionsOnResource(template, dispatcherId, 'NotificationsDlq')).toEqual(['sqs:SendMessage']);
  });

  it('may GetItem and PutItem on the Deliveries table ARN (what the delivery log does), and touch no other table', () => {
    expect(actionsOnResource(template, dispatcherId, 'DeliveriesTable')).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    for (const table of ['PaymentsTable', 'OutboxTable', 'IdempotencyTable', 'InboxTable']) {
      expect(actionsOnResource(template, dispatcherId, table), table).toEqual([]);
    }
  });

  it('may read its own secret only', () => {
    expect(actionsOnResource(template, dispatcherId, 'NotificationsWebhookSecret')).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actionsOnResource(template, dispatcherId, 'PgWebhookSecret')).toEqual([]);
  });

  it('has no other permission, no wildcard action, and "*" only for X-Ray', () => {
    const statements = statementsOfFunction(template, dispatcherId);
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    const onStar = statements.filter((statement) => resourcesOf(statement).includes('*')).flatMap(actionsOf).sort();
    expect(onStar).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(actions.filter((action) => /^(sns|kms|dynamodb:(Query|Scan|UpdateItem|DeleteItem|BatchWriteItem)|lambda):/.test(action))).toEqual([]);
  });

  it('creates a generated signing secret per webhook subscriber, 64 characters without punctuation, retained', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: Match.objectLike({
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
      }),
      DeletionPolicy: 'Retain',
    });
    expect(resourcesOfType(template, 'AWS::SecretsManager::Secret').NotificationsWebhookSecret).toBeDefined();
  });

  it('outputs the signing secret ARN and the notifications queue URLs', () => {
    template.hasOutput('NotificationsWebhookSecretArn', { Value: { Ref: 'NotificationsWebhookSecret' } });
    template.hasOutput('NotificationsQueueUrl', { Value: { Ref: 'NotificationsQueue' } });
    template.hasOutput('NotificationsDlqUrl', { Value: { Ref: 'NotificationsDlq' } });
    template.hasOutput('DeliveriesTableName', { Value: { Ref: 'DeliveriesTable' } });
  });

  it('shows delivered, retried and dead-lettered counts and latency per webhook subscriber on the dashboard', () => {
    const dashboard = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'))[0];
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);
    for (const metric of ['WebhookDelivered', 'WebhookRetries', 'WebhookDeadLettered', 'WebhookDeliveryLatency']) {
      expect(body).toContain(`[\\"PaymentOutbox\\",\\"${metric}\\",\\"service\\",\\"payment-outbox\\",\\"subscriber\\",\\"notifications\\"`);
    }
  });

  it('alarms on the notifications DLQ', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['NotificationsDlq', 'QueueName'] } }],
      Threshold: 0,
    });
  });
});

describe('webhook subscribers from configuration', () => {
  it('creates no dispatcher and no webhook secret for a stack with queue subscribers only', () => {
    const { template } = synthStack();
    expect(Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).map((fn) => fn.Metadata?.['payment-outbox:entry'])).not.toContain(
      WEBHOOK_DISPATCHER_ENTRY,
    );
    expect(Object.keys(resourcesOfType(template, 'AWS::SecretsManager::Secret'))).toEqual(['PgWebhookSecret']);
  });

  it('sizes timeout, visibility and redrive from each subscriber settings', () => {
    // GIVEN a webhook with a slow receiver and few attempts
    const { template } = synthStack({
      subscribers: [
        { name: 'payment-events', delivery: { kind: 'queue' } },
        { name: 'slow', delivery: { kind: 'webhook', url: 'https://slow.example.com/h', timeoutSeconds: 20, maxAttempts: 3 } },
      ],
    });
    const id = functionIdByEntry(template, WEBHOOK_DISPATCHER_ENTRY);
    const fn = resourcesOfType(template, 'AWS::Lambda::Function')[id];
    expect(fn?.Properties?.Timeout).toBe(5 * (20 + 3) + 10);
    expect(fn?.Properties?.Environment.Variables).toMatchObject({ WEBHOOK_TIMEOUT_SECONDS: '20', WEBHOOK_MAX_ATTEMPTS: '3' });
    const queue = resourcesOfType(template, 'AWS::SQS::Queue').SlowQueue;
    expect(queue?.Properties?.VisibilityTimeout).toBe(6 * (5 * 23 + 10));
    expect(queue?.Properties?.RedrivePolicy.maxReceiveCount).toBe(3 * 10 + 20);
  });

  it('gives two webhook subscribers their own dispatcher, secret and queue', () => {
    const { template } = synthStack({
      subscribers: [
        { name: 'a-hooks', delivery: { kind: 'webhook', url: 'https://a.example.com/h' } },
        { name: 'b-hooks', delivery: { kind: 'webhook', url: 'https://b.example.com/h' } },
      ],
    });
    const dispatchers = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function')).filter(
      ([, fn]) => fn.Metadata?.['payment-outbox:entry'] === WEBHOOK_DISPATCHER_ENTRY,
    );
    expect(dispatchers).toHaveLength(2);
    const bySubscriber = Object.fromEntries(dispatchers.map(([id, fn]) => [fn.Properties?.Environment.Variables.SUBSCRIBER_NAME, id]));
    for (const [name, part] of [
      ['a-hooks', 'AHooks'],
      ['b-hooks', 'BHooks'],
    ] as const) {
      const id = bySubscriber[name] as string;
      const variables = resourcesOfType(template, 'AWS::Lambda::Function')[id]?.Properties?.Environment.Variables;
      expect(variables).toMatchObject({
        SUBSCRIBER_QUEUE_URL: { Ref: `${part}Queue` },
        SUBSCRIBER_DLQ_URL: { Ref: `${part}Dlq` },
        WEBHOOK_SECRET_ARN: { Ref: `${part}WebhookSecret` },
      });
      const other = part === 'AHooks' ? 'BHooks' : 'AHooks';
      expect(actionsOnResource(template, id, `${other}Queue`)).toEqual([]);
      expect(actionsOnResource(template, id, `${other}Dlq`)).toEqual([]);
      expect(actionsOnResource(template, id, `${other}WebhookSecret`)).toEqual([]);
    }
  });

  it('fails synthesis when a webhook subscriber name maps to the PG secret id', () => {
    expect(() => synthStack({ subscribers: [{ name: 'pg', delivery: { kind: 'webhook', url: 'https://pg.example.com/h' } }] })).toThrow(
      'subscribers: pg would use the CloudFormation id PgWebhookSecret, already used by the stack; rename the subscriber',
    );
  });
});

describe('WebhookDispatcher validation', () => {
  function arrange(settings: Record<string, unknown> = {}) {
    const stack = newTestStack();
    const subscriber = parseSubscribers([{ name: 'shop', delivery: { kind: 'webhook', url: 'https://shop.example.com/h', ...settings } }])[0] as WebhookSubscriber;
    const topic = new sns.Topic(stack, 'Topic', { fifo: true });
    const deliveriesTable = new dynamodb.Table(stack, 'Deliveries', { partitionKey: { name: 'paymentId', type: dynamodb.AttributeType.STRING } });
    return { stack, subscriber, topic, deliveriesTable };
  }

  it('rejects a queue whose consumer timeout is below the dispatcher timeout', () => {
    const { stack, subscriber, topic, deliveriesTable } = arrange();
    const subscriberQueue = new SubscriberQueue(stack, 'Queue', { subscriber, topic, consumerTimeout: Duration.seconds(30) });
    expect(() => new WebhookDispatcher(stack, 'Dispatcher', { subscriber, subscriberQueue, deliveriesTable, retentionDays: 30 })).toThrow(
      "ConstructTestStack/Dispatcher: the queue's consumerTimeout (30 seconds) must be at least the dispatcher timeout (50 seconds)",
    );
  });

  it.each([
    [{ batchSize: 11 }, 'batchSize must be an integer between 1 and 10 (got 11)'],
    [{ retentionDays: 0 }, 'retentionDays must be an integer between 1 and 365 (got 0)'],
  ])('rejects %o', (overrides, message) => {
    const { stack, subscriber, topic, deliveriesTable } = arrange();
    const subscriberQueue = new SubscriberQueue(stack, 'Queue', { subscriber, topic, consumerTimeout: Duration.minutes(5) });
    expect(
      () => new WebhookDispatcher(stack, 'Dispatcher', { subscriber, subscriberQueue, deliveriesTable, retentionDays: 30, ...overrides }),
    ).toThrow(`ConstructTestStack/Dispatcher: ${message}`);
  });

  it('grows the timeout with the batch size', () => {
    const { subscriber } = arrange({ timeoutSeconds: 10 });
    expect(webhookDispatcherTimeout(subscriber, 1).toSeconds()).toBe(13 + 10);
    expect(webhookDispatcherTimeout(subscriber, 10).toSeconds()).toBe(130 + 10);
  });

  it('builds on its own with a queue sized for it', () => {
    const { stack, subscriber, topic, deliveriesTable } = arrange();
    const subscriberQueue = new SubscriberQueue(stack, 'Queue', { subscriber, topic, consumerTimeout: webhookDispatcherTimeout(subscriber) });
    new WebhookDispatcher(stack, 'Dispatcher', { subscriber, subscriberQueue, deliveriesTable, retentionDays: 7 });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SUBSCRIBER_NAME: 'shop', DELIVERIES_RETENTION_DAYS: '7' }) },
    });
  });
});

describe('the app subscribers (bin/app-subscribers.ts)', () => {
  it('are the payment-events queue and the notifications webhook on the local receiver by default', () => {
    expect(appSubscribers()).toEqual([
      { name: 'payment-events', delivery: { kind: 'queue' } },
      { name: 'notifications', delivery: { kind: 'webhook', url: 'http://localhost:3001/payment-events' } },
    ]);
  });

  it('take the notifications URL from the context notificationsWebhookUrl', () => {
    const app = newTestApp({ [NOTIFICATIONS_WEBHOOK_URL_CONTEXT]: 'https://notify.example.com/payments' });
    expect(notificationsWebhookUrl(app)).toBe('https://notify.example.com/payments');
    expect(notificationsWebhookUrl(newTestApp())).toBe(DEFAULT_NOTIFICATIONS_WEBHOOK_URL);
  });

  it('warn at synth time while the notifications URL is the localhost default, naming the context to set', () => {
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'AppStack', { subscribers: appSubscribers() });
    warnOnLocalNotificationsUrl(stack, notificationsWebhookUrl(app));
    Annotations.fromStack(stack).hasWarning(
      '/AppStack',
      Match.stringLikeRegexp(`set -c notificationsWebhookUrl=https://\\.\\.\\. before deploying.*${LOCAL_WEBHOOK_WARNING_ID}`),
    );
  });

  it('do not warn with a real URL', () => {
    const app = newTestApp({ [NOTIFICATIONS_WEBHOOK_URL_CONTEXT]: 'https://notify.example.com/payments' });
    const url = notificationsWebhookUrl(app);
    const stack = new PaymentOutboxStack(app, 'AppStack', { subscribers: appSubscribers(url) });
    warnOnLocalNotificationsUrl(stack, url);
    const annotations = Annotations.fromStack(stack);
    annotations.hasNoWarning('*', Match.stringLikeRegexp(LOCAL_WEBHOOK_WARNING_ID));
    // The only warning left is the sandbox PG's (test/cdk/stack.test.ts).
    expect(annotations.findWarning('*', Match.anyValue()).map((warning) => String(warning.entry.data))).toEqual([
      expect.stringContaining(SANDBOX_PG_WARNING_ID),
    ]);
  });
});
