/**
 * The deployed app's subscribers (bin/app-subscribers.ts `deployedAppSubscribers`): the
 * `notifications` webhook only when its URL is given, and synth says how to add it otherwise.
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  deployedAppSubscribers,
  LOCAL_WEBHOOK_WARNING_ID,
  noteNotificationsWebhook,
  NOTIFICATIONS_NOT_DEPLOYED_INFO_ID,
  NOTIFICATIONS_WEBHOOK_URL_CONTEXT,
} from '../../bin/app-subscribers';
import { PaymentOutboxStack } from '../../lib/payment-outbox-stack';
import { newTestApp } from '../support/cdk-stack';

function appStack(context: Record<string, string> = {}) {
  const app = newTestApp(context);
  const stack = new PaymentOutboxStack(app, 'AppStack', { subscribers: deployedAppSubscribers(app) });
  noteNotificationsWebhook(stack, app);
  return stack;
}

describe('the deployed app without -c notificationsWebhookUrl', () => {
  it('has only the payment-events queue: no notifications queue, secret or dispatcher', () => {
    expect(deployedAppSubscribers(newTestApp())).toEqual([{ name: 'payment-events', delivery: { kind: 'queue' } }]);
    const template = Template.fromStack(appStack());
    expect(Object.values(template.findResources('AWS::SQS::Queue')).map((queue) => queue.Properties?.QueueName)).not.toContain('notifications.fifo');
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('Notifications'))).toEqual([]);
  });

  it('says at synth time how to add the webhook, and does not warn about the local receiver', () => {
    const annotations = Annotations.fromStack(appStack());
    annotations.hasInfo('/AppStack', Match.stringLikeRegexp(`${NOTIFICATIONS_NOT_DEPLOYED_INFO_ID}.*-c ${NOTIFICATIONS_WEBHOOK_URL_CONTEXT}=https://`));
    annotations.hasNoWarning('*', Match.stringLikeRegexp(LOCAL_WEBHOOK_WARNING_ID));
  });
});

describe('the deployed app with -c notificationsWebhookUrl', () => {
  it('deploys the notifications webhook on that URL, without the note', () => {
    const context = { [NOTIFICATIONS_WEBHOOK_URL_CONTEXT]: 'https://notify.example.com/payments' };
    expect(deployedAppSubscribers(newTestApp(context))).toEqual([
      { name: 'payment-events', delivery: { kind: 'queue' } },
      { name: 'notifications', delivery: { kind: 'webhook', url: 'https://notify.example.com/payments' } },
    ]);
    const stack = appStack(context);
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { QueueName: 'notifications.fifo' });
    Annotations.fromStack(stack).hasNoInfo('*', Match.stringLikeRegexp(NOTIFICATIONS_NOT_DEPLOYED_INFO_ID));
  });

  it('still warns when the URL given is the local receiver', () => {
    const annotations = Annotations.fromStack(appStack({ [NOTIFICATIONS_WEBHOOK_URL_CONTEXT]: 'http://localhost:3001/payment-events' }));
    annotations.hasWarning('/AppStack', Match.stringLikeRegexp(LOCAL_WEBHOOK_WARNING_ID));
  });
});
