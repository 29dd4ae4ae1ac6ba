#!/usr/bin/env node
/**
 * CDK app: one environment-agnostic PaymentOutboxStack (synthesizes without AWS credentials),
 * checked by cdk-nag's AwsSolutions pack. The stage (bin/app-stage.ts) names it and prefixes its physical
 * names: `-c stage=prod` gives the stack PaymentOutbox-prod (default: `dev`, PaymentOutbox-dev). Any unacknowledged finding fails `cdk synth`;
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
import { defineAppStack } from './app-stack';

const app = new App();
defineAppStack(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
