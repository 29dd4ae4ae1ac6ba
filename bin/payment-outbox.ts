#!/usr/bin/env node
/**
 * CDK app: one environment-agnostic PaymentOutboxStack (synthesizes without AWS credentials),
 * checked by cdk-nag's AwsSolutions pack. Any unacknowledged finding fails `cdk synth`;
 * every acknowledgement carries its reason next to the construct it concerns (lib/constructs/).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PaymentOutboxStack } from '../lib/payment-outbox-stack';

const app = new App();

new PaymentOutboxStack(app, 'PaymentOutbox', {
  description: 'Payment API with a transactional outbox: DynamoDB Streams relay to SQS FIFO',
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

app.synth();
