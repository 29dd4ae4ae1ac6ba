/**
 * The webhook dispatcher's configuration in both directions: `webhookDispatcherEnvironment`
 * turns a webhook subscriber into the environment variables of its dispatcher (for the CDK
 * stack), `webhookDispatcherConfigFromEnv` reads them back at cold start with the same rules as
 * the subscriber parser, naming the offending variable.
 *
 * Resource variables the stack adds itself: SUBSCRIBER_QUEUE_URL, SUBSCRIBER_DLQ_URL,
 * DELIVERIES_TABLE_NAME, WEBHOOK_SECRET_ARN (or WEBHOOK_SECRET locally), and optionally
 * DELIVERIES_RETENTION_DAYS.
 */
import { ENV } from '../../platform/env-names';
import type { Environment } from '../../platform/function-runtime';
import { ConfigurationError, positiveIntEnv, requiredEnv } from '../../platform/required-env';
import { secretSourceFromEnv, type SecretEnvNames, type SecretSource } from '../../platform/secret-value';
import { parseSubscribers, SubscriberConfigError, type WebhookSubscriber } from '../../domain/subscribers';
import type { WebhookDispatchSettings } from '../../use-cases/dispatch-webhook';

/** Days a delivery record is kept unless DELIVERIES_RETENTION_DAYS says otherwise. */
export const DEFAULT_DELIVERIES_RETENTION_DAYS = 30;

/** Where the dispatcher's signing key comes from. */
export const WEBHOOK_SECRET_ENV: SecretEnvNames = { inline: ENV.webhookSecret, arn: ENV.webhookSecretArn };

export interface WebhookDispatcherConfig {
  readonly settings: WebhookDispatchSettings;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly deliveriesTable: string;
  readonly deliveriesRetentionDays: number;
  /** The signing key: WEBHOOK_SECRET (local mode, tests) or the secret WEBHOOK_SECRET_ARN names. */
  readonly signingSecret: SecretSource;
}

/** The subscriber's settings as dispatcher environment variables (every default written out). */
export function webhookDispatcherEnvironment(subscriber: WebhookSubscriber): Record<string, string> {
  const { delivery } = subscriber;
  return {
    [ENV.subscriberName]: subscriber.name,
    [ENV.webhookUrl]: delivery.url,
    [ENV.webhookTimeoutSeconds]: String(delivery.timeoutSeconds),
    [ENV.webhookMaxAttempts]: String(delivery.maxAttempts),
    [ENV.webhookBackoffBaseSeconds]: String(delivery.backoff.baseSeconds),
    [ENV.webhookBackoffMaxSeconds]: String(delivery.backoff.maxSeconds),
  };
}

/** Subscriber fields and the variable each comes from, for error messages. */
const VARIABLE_OF_FIELD: ReadonlyArray<[RegExp, string]> = [
  [/^name$/, ENV.subscriberName],
  [/^delivery\.url$/, ENV.webhookUrl],
  [/^delivery\.timeoutSeconds$/, ENV.webhookTimeoutSeconds],
  [/^delivery\.maxAttempts$/, ENV.webhookMaxAttempts],
  [/^delivery\.backoff\.baseSeconds$/, ENV.webhookBackoffBaseSeconds],
  [/^delivery\.backoff\.maxSeconds$/, ENV.webhookBackoffMaxSeconds],
];

/**
 * Reads and validates the dispatcher's environment.
 * @throws ConfigurationError naming the variable that is missing or out of range
 */
export function webhookDispatcherConfigFromEnv(env: Environment): WebhookDispatcherConfig {
  const name = requiredEnv(ENV.subscriberName, env);
  const url = requiredEnv(ENV.webhookUrl, env);
  const optionalInt = (variable: string): number | undefined => {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') return undefined;
    const trimmed = raw.trim();
    if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
      throw new ConfigurationError(variable, `must be a whole number, got "${raw}"`);
    }
    return Number(trimmed);
  };
  const timeoutSeconds = optionalInt(ENV.webhookTimeoutSeconds);
  const maxAttempts = optionalInt(ENV.webhookMaxAttempts);
  const baseSeconds = optionalInt(ENV.webhookBackoffBaseSeconds);
  const maxSeconds = optionalInt(ENV.webhookBackoffMaxSeconds);

  let subscriber: WebhookSubscriber;
  try {
    [subscriber] = parseSubscribers([
      {
        name,
        delivery: {
          kind: 'webhook',
          url,
          ...(timeoutSeconds !== undefined && { timeoutSeconds }),
          ...(maxAttempts !== undefined && { maxAttempts }),
          backoff: {
            ...(baseSeconds !== undefined && { baseSeconds }),
            ...(maxSeconds !== undefined && { maxSeconds }),
          },
        },
      },
    ]) as [WebhookSubscriber];
  } catch (error) {
    if (!(error instanceof SubscriberConfigError)) throw error;
    throw configurationError(error);
  }

  const { delivery } = subscriber;
  return {
    settings: {
      subscriber: subscriber.name,
      url: delivery.url,
      timeoutSeconds: delivery.timeoutSeconds,
      policy: { maxAttempts: delivery.maxAttempts, backoff: delivery.backoff },
    },
    queueUrl: requiredEnv(ENV.subscriberQueueUrl, env),
    dlqUrl: requiredEnv(ENV.subscriberDlqUrl, env),
    deliveriesTable: requiredEnv(ENV.deliveriesTable, env),
    deliveriesRetentionDays: positiveIntEnv(ENV.deliveriesRetentionDays, DEFAULT_DELIVERIES_RETENTION_DAYS, env),
    signingSecret: secretSourceFromEnv(WEBHOOK_SECRET_ENV, env),
  };
}

function configurationError(error: SubscriberConfigError): ConfigurationError {
  const problem = error.problems[0] ?? 'is invalid';
  const match = /^subscribers\[0\](?: \([^)]*\))?\.([^:]+): (.*)$/.exec(problem);
  if (!match) return new ConfigurationError(ENV.subscriberName, problem);
  const [, field = '', message = ''] = match;
  if (field === 'delivery.backoff') {
    return new ConfigurationError(ENV.webhookBackoffMaxSeconds, `must not be below ${ENV.webhookBackoffBaseSeconds}`);
  }
  const variable = VARIABLE_OF_FIELD.find(([pattern]) => pattern.test(field))?.[1] ?? ENV.subscriberName;
  return new ConfigurationError(variable, message);
}
