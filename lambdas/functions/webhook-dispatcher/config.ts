/**
 * The webhook dispatcher's configuration in both directions: `webhookDispatcherEnvironment`
 * turns a webhook subscriber into the environment variables of its dispatcher (for the CDK
 * stack), `webhookDispatcherConfigFromEnv` reads them back at cold start with the same rules as
 * the subscriber parser (lambdas/domain/webhook-settings.ts), naming the offending variable.
 *
 * Resource variables the stack adds itself: SUBSCRIBER_QUEUE_URL, SUBSCRIBER_DLQ_URL,
 * DELIVERIES_TABLE_NAME, WEBHOOK_SECRET_ARN (or WEBHOOK_SECRET locally), and optionally
 * DELIVERIES_RETENTION_DAYS.
 */
import { ENV } from '../../platform/env-names';
import type { Environment } from '../../platform/function-runtime';
import { ConfigurationError, positiveIntEnv, requiredEnv } from '../../platform/required-env';
import { secretSourceFromEnv, type SecretEnvNames, type SecretSource } from '../../platform/secret-value';
import type { WebhookSubscriber } from '../../domain/subscribers';
import { rangeMessage, subscriberNameProblem, WEBHOOK_DEFAULTS, WEBHOOK_LIMITS, webhookUrlProblem } from '../../domain/webhook-settings';
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

/**
 * Reads and validates the dispatcher's environment with the subscriber parser's rules (webhook-settings.ts:
 * the same limits and messages, without the parser's schema library in this bundle).
 * @throws ConfigurationError naming the variable that is missing or out of range
 */
export function webhookDispatcherConfigFromEnv(env: Environment): WebhookDispatcherConfig {
  const name = requiredEnv(ENV.subscriberName, env);
  const nameProblem = subscriberNameProblem(name);
  if (nameProblem) throw new ConfigurationError(ENV.subscriberName, nameProblem);
  const url = requiredEnv(ENV.webhookUrl, env);
  const urlProblem = webhookUrlProblem(url);
  if (urlProblem) throw new ConfigurationError(ENV.webhookUrl, urlProblem);
  const setting = (variable: string, limits: { readonly min: number; readonly max: number }, fallback: number): number => {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') return fallback;
    const trimmed = raw.trim();
    if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
      throw new ConfigurationError(variable, `must be a whole number, got "${raw}"`);
    }
    const value = Number(trimmed);
    if (value < limits.min || value > limits.max) throw new ConfigurationError(variable, rangeMessage(limits));
    return value;
  };
  const timeoutSeconds = setting(ENV.webhookTimeoutSeconds, WEBHOOK_LIMITS.timeoutSeconds, WEBHOOK_DEFAULTS.timeoutSeconds);
  const maxAttempts = setting(ENV.webhookMaxAttempts, WEBHOOK_LIMITS.maxAttempts, WEBHOOK_DEFAULTS.maxAttempts);
  const baseSeconds = setting(ENV.webhookBackoffBaseSeconds, WEBHOOK_LIMITS.backoffBaseSeconds, WEBHOOK_DEFAULTS.backoff.baseSeconds);
  const maxSeconds = setting(ENV.webhookBackoffMaxSeconds, WEBHOOK_LIMITS.backoffMaxSeconds, WEBHOOK_DEFAULTS.backoff.maxSeconds);
  if (baseSeconds > maxSeconds) throw new ConfigurationError(ENV.webhookBackoffMaxSeconds, `must not be below ${ENV.webhookBackoffBaseSeconds}`);
  const subscriber: WebhookSubscriber = { name, delivery: { kind: 'webhook', url, timeoutSeconds, maxAttempts, backoff: { baseSeconds, maxSeconds } } };

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
