/**
 * Where the app's alarms notify, from context:
 *
 * ```sh
 * cdk deploy                                                   # a new alarm topic (output AlarmTopicArn), nobody subscribed
 * cdk deploy -c alarmEmail=oncall@example.com                  # ... and that address subscribed (confirm the email AWS sends)
 * cdk deploy -c alarmTopicArn=arn:aws:sns:eu-west-1:123456789012:oncall   # the on-call team's existing topic instead
 * ```
 *
 * Side-effect free (bin/payment-outbox.ts synthesizes), so tests can import it. The values themselves (ARN
 * shape, address) are validated by the stack's AlarmTopic.
 */
import type { App } from 'aws-cdk-lib';
import type { PaymentOutboxStackProps } from '../lib/payment-outbox-stack';

/** Context key of an existing SNS topic for the alarms: `-c alarmTopicArn=arn:aws:sns:...`. */
export const ALARM_TOPIC_ARN_CONTEXT = 'alarmTopicArn';

/** Context key of an email address subscribed to the alarm topic: `-c alarmEmail=oncall@example.com`. */
export const ALARM_EMAIL_CONTEXT = 'alarmEmail';

/** The stack props that say where alarms notify. */
export type AlarmSettings = Pick<PaymentOutboxStackProps, 'alarmTopicArn' | 'alarmEmail'>;

/**
 * The alarm settings from the app's context: `alarmTopicArn` and `alarmEmail`, both optional (absent or empty
 * means not given).
 *
 * @throws Error naming the context key when a value is not a string
 */
export function alarmSettings(app: App): AlarmSettings {
  const alarmTopicArn = stringContext(app, ALARM_TOPIC_ARN_CONTEXT);
  const alarmEmail = stringContext(app, ALARM_EMAIL_CONTEXT);
  return {
    ...(alarmTopicArn !== undefined && { alarmTopicArn }),
    ...(alarmEmail !== undefined && { alarmEmail }),
  };
}

/** A context value as a trimmed string, or undefined when absent or blank. */
function stringContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`-c ${key} must be a string (got ${JSON.stringify(value)})`);
  return value.trim() === '' ? undefined : value.trim();
}
