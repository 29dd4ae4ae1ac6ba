#!/usr/bin/env node
/**
 * CDK app: one environment-agnostic PaymentOutboxStack (synthesizes without AWS credentials),
 * checked by cdk-nag's AwsSolutions pack. Any unacknowledged finding fails `cdk synth`;
 * every acknowledgement carries its reason next to the construct it concerns (lib/constructs/).
 *
 * Subscribers (who receives payment events) are listed in bin/app-subscribers.ts: add one there.
 * The `notifications` webhook URL comes from context: `cdk deploy -c notificationsWebhookUrl=https://...`.
 * The payment gateway too (bin/app-payment-gateway.ts): `-c paymentGateway=toss` (default: the sandbox),
 * with `-c tossSecretKeyArn=arn:...` and `-c tossApiBaseUrl=https://...` (both optional).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PaymentOutboxStack } from '../lib/payment-outbox-stack';
import { paymentGatewaySettings } from './app-payment-gateway';
import { appSubscribers, notificationsWebhookUrl, warnOnLocalNotificationsUrl } from './app-subscribers';

const app = new App();

const webhookUrl = notificationsWebhookUrl(app);
const stack = new PaymentOutboxStack(app, 'PaymentOutbox', {
  description: 'Payment API with a transactional outbox: DynamoDB Streams relay to SNS FIFO, a FIFO queue per subscriber, signed webhooks',
  subscribers: appSubscribers(webhookUrl),
  ...paymentGatewaySettings(app),
});
warnOnLocalNotificationsUrl(stack, webhookUrl);

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

app.synth();
