#!/usr/bin/env node
/**
 * CDK app: one environment-agnostic PaymentOutboxStack (synthesizes without AWS credentials),
 * checked by cdk-nag's AwsSolutions pack. Any unacknowledged finding fails `cdk synth`;
 * every acknowledgement carries its reason next to the construct it concerns (lib/constructs/).
 *
 * Subscribers (who receives payment events) are listed in bin/app-subscribers.ts: add one there.
 * The `notifications` webhook is deployed only with its URL: `cdk deploy -c notificationsWebhookUrl=https://...`.
 * The payment gateway too (bin/app-payment-gateway.ts): `-c paymentGateway=toss` (default: the sandbox),
 * with `-c tossSecretKeyArn=arn:...` and `-c tossApiBaseUrl=https://...` (both optional).
 * `-c pgWebAcl=true` puts a WAF web ACL (per-IP rate rule) in front of the public PG callback route.
 * Where alarms notify (bin/app-alarms.ts): a topic the stack creates (output `AlarmTopicArn`), or
 * `-c alarmTopicArn=arn:aws:sns:...`; `-c alarmEmail=oncall@example.com` subscribes an address to it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PaymentOutboxStack } from '../lib/payment-outbox-stack';
import { alarmSettings } from './app-alarms';
import { paymentGatewaySettings } from './app-payment-gateway';
import { deployedAppSubscribers, noteNotificationsWebhook } from './app-subscribers';

const app = new App();

const stack = new PaymentOutboxStack(app, 'PaymentOutbox', {
  description: 'Payment API with a transactional outbox: DynamoDB Streams relay to SNS FIFO, a FIFO queue per subscriber, signed webhooks',
  subscribers: deployedAppSubscribers(app),
  ...paymentGatewaySettings(app),
  ...alarmSettings(app),
  // `-c pgWebAcl=true`: a WAF web ACL with a per-IP rate rule in front of the PG callback route.
  ...(app.node.tryGetContext('pgWebAcl') === true || app.node.tryGetContext('pgWebAcl') === 'true' ? { pgWebAcl: true } : {}),
});
noteNotificationsWebhook(stack, app);

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

app.synth();
