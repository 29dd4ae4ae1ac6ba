/**
 * The app's stack from the app's context: its stage (bin/app-stage.ts), subscribers, payment gateway,
 * alarm settings and the optional PG web ACL. bin/payment-outbox.ts calls it and synthesizes; tests call it
 * with the context `cdk synth -c ...` would give. Side-effect free beyond adding the stack to `app`.
 */
import type { App } from 'aws-cdk-lib';
import { PaymentOutboxStack } from '../lib/payment-outbox-stack';
import { alarmSettings } from './app-alarms';
import { paymentGatewaySettings } from './app-payment-gateway';
import { stageSettings } from './app-stage';
import { deployedAppSubscribers, noteNotificationsWebhook } from './app-subscribers';

/** Context key of the PG callback's web ACL: `-c pgWebAcl=true`. */
export const PG_WEB_ACL_CONTEXT = 'pgWebAcl';

export function defineAppStack(app: App): PaymentOutboxStack {
  const { stage, stackName } = stageSettings(app);
  const pgWebAcl: unknown = app.node.tryGetContext(PG_WEB_ACL_CONTEXT);
  const stack = new PaymentOutboxStack(app, stackName, {
    stage,
    description: 'Payment API with a transactional outbox: DynamoDB Streams relay to SNS FIFO, a FIFO queue per subscriber, signed webhooks',
    subscribers: deployedAppSubscribers(app),
    ...paymentGatewaySettings(app),
    ...alarmSettings(app),
    // A WAF web ACL with a per-IP rate rule in front of the PG callback route.
    ...((pgWebAcl === true || pgWebAcl === 'true') && { pgWebAcl: true }),
  });
  noteNotificationsWebhook(stack, app);
  return stack;
}
