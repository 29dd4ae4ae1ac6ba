import { describe, expect, it } from 'vitest';
import type { Environment } from '../../lambdas/platform/function-runtime';
import { ConfigurationError } from '../../lambdas/platform/required-env';
import { parseSubscribers, type WebhookSubscriber } from '../../lambdas/domain/subscribers';
import { webhookDispatcherConfigFromEnv, webhookDispatcherEnvironment } from '../../lambdas/functions/webhook-dispatcher/config';

const RESOURCES = {
  SUBSCRIBER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/shop.fifo',
  SUBSCRIBER_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/shop-dlq.fifo',
  DELIVERIES_TABLE_NAME: 'Deliveries',
  WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:shop-webhook-AbCdEf',
};
const MINIMAL = { SUBSCRIBER_NAME: 'shop', WEBHOOK_URL: 'https://shop.example.com/hooks', ...RESOURCES };

function configurationError(env: Environment): ConfigurationError {
  try {
    webhookDispatcherConfigFromEnv(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('webhookDispatcherEnvironment', () => {
  it('writes out every webhook setting, defaults included, and reads back to the same settings', () => {
    const [subscriber] = parseSubscribers([
      { name: 'shop', delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks', maxAttempts: 4 } },
    ]) as [WebhookSubscriber];

    const environment = webhookDispatcherEnvironment(subscriber);
    const config = webhookDispatcherConfigFromEnv({ ...environment, ...RESOURCES });

    expect(environment).toEqual({
      SUBSCRIBER_NAME: 'shop',
      WEBHOOK_URL: 'https://shop.example.com/hooks',
      WEBHOOK_TIMEOUT_SECONDS: '5',
      WEBHOOK_MAX_ATTEMPTS: '4',
      WEBHOOK_BACKOFF_BASE_SECONDS: '2',
      WEBHOOK_BACKOFF_MAX_SECONDS: '300',
    });
    expect(config.settings).toEqual({
      subscriber: 'shop',
      url: 'https://shop.example.com/hooks',
      timeoutSeconds: 5,
      policy: { maxAttempts: 4, backoff: { baseSeconds: 2, maxSeconds: 300 } },
    });
  });
});

describe('webhookDispatcherConfigFromEnv', () => {
  it('applies the subscriber defaults to unset settings and reads the resources', () => {
    expect(webhookDispatcherConfigFromEnv(MINIMAL)).toEqual({
      settings: {
        subscriber: 'shop',
        url: 'https://shop.example.com/hooks',
        timeoutSeconds: 5,
        policy: { maxAttempts: 8, backoff: { baseSeconds: 2, maxSeconds: 300 } },
      },
      queueUrl: RESOURCES.SUBSCRIBER_QUEUE_URL,
      dlqUrl: RESOURCES.SUBSCRIBER_DLQ_URL,
      deliveriesTable: 'Deliveries',
      deliveriesRetentionDays: 30,
      signingSecret: { arn: RESOURCES.WEBHOOK_SECRET_ARN },
    });
  });

  it('takes the signing key from WEBHOOK_SECRET over WEBHOOK_SECRET_ARN (local mode)', () => {
    expect(webhookDispatcherConfigFromEnv({ ...MINIMAL, WEBHOOK_SECRET: 'whsec_local' }).signingSecret).toEqual({ value: 'whsec_local' });
    expect(webhookDispatcherConfigFromEnv({ ...MINIMAL, WEBHOOK_SECRET_ARN: undefined, WEBHOOK_SECRET: 'whsec_local' }).signingSecret).toEqual({
      value: 'whsec_local',
    });
  });

  it('reads the optional retention', () => {
    expect(webhookDispatcherConfigFromEnv({ ...MINIMAL, DELIVERIES_RETENTION_DAYS: '7' }).deliveriesRetentionDays).toBe(7);
  });

  it.each([
    [{ SUBSCRIBER_NAME: undefined }, 'Environment variable SUBSCRIBER_NAME is required but not set'],
    [{ WEBHOOK_URL: ' ' }, 'Environment variable WEBHOOK_URL is required but not set'],
    [{ SUBSCRIBER_QUEUE_URL: undefined }, 'Environment variable SUBSCRIBER_QUEUE_URL is required but not set'],
    [{ SUBSCRIBER_DLQ_URL: undefined }, 'Environment variable SUBSCRIBER_DLQ_URL is required but not set'],
    [{ DELIVERIES_TABLE_NAME: undefined }, 'Environment variable DELIVERIES_TABLE_NAME is required but not set'],
    // The signing key is resolved when the configuration is read, so a dispatcher without one fails its cold start.
    [{ WEBHOOK_SECRET_ARN: undefined }, 'Environment variable WEBHOOK_SECRET_ARN is required (or WEBHOOK_SECRET for local use)'],
    [{ WEBHOOK_SECRET_ARN: '', WEBHOOK_SECRET: '' }, 'Environment variable WEBHOOK_SECRET_ARN is required (or WEBHOOK_SECRET for local use)'],
    [{ SUBSCRIBER_NAME: 'Shop' }, 'Environment variable SUBSCRIBER_NAME must be kebab case (a-z, 0-9, single hyphens between words)'],
    [{ WEBHOOK_URL: 'http://shop.example.com' }, 'Environment variable WEBHOOK_URL must use https (plain http only for localhost or 127.0.0.1)'],
    [{ WEBHOOK_TIMEOUT_SECONDS: '30' }, 'Environment variable WEBHOOK_TIMEOUT_SECONDS must be between 1 and 29'],
    [{ WEBHOOK_TIMEOUT_SECONDS: '2.5' }, 'Environment variable WEBHOOK_TIMEOUT_SECONDS must be a whole number, got "2.5"'],
    [{ WEBHOOK_MAX_ATTEMPTS: '0' }, 'Environment variable WEBHOOK_MAX_ATTEMPTS must be between 1 and 20'],
    [{ WEBHOOK_BACKOFF_BASE_SECONDS: 'ten' }, 'Environment variable WEBHOOK_BACKOFF_BASE_SECONDS must be a whole number, got "ten"'],
    [{ WEBHOOK_BACKOFF_BASE_SECONDS: '0' }, 'Environment variable WEBHOOK_BACKOFF_BASE_SECONDS must be between 1 and 3600'],
    [{ WEBHOOK_BACKOFF_MAX_SECONDS: '50000' }, 'Environment variable WEBHOOK_BACKOFF_MAX_SECONDS must be between 1 and 43200'],
    [{ WEBHOOK_BACKOFF_BASE_SECONDS: '60', WEBHOOK_BACKOFF_MAX_SECONDS: '30' }, 'Environment variable WEBHOOK_BACKOFF_MAX_SECONDS must not be below WEBHOOK_BACKOFF_BASE_SECONDS'],
    [{ DELIVERIES_RETENTION_DAYS: '-1' }, 'Environment variable DELIVERIES_RETENTION_DAYS must be a positive integer, got "-1"'],
  ])('refuses %j, naming the variable', (override, message) => {
    const error = configurationError({ ...MINIMAL, ...override });

    expect(error.message).toBe(message);
  });
});

describe('the dispatcher and the subscriber parser', () => {
  // The dispatcher re-checks its settings without the parser (whose schema library its bundle leaves out):
  // both must refuse the same values with the same words.
  it.each([
    ['name', { name: 'Shop' }, { SUBSCRIBER_NAME: 'Shop' }],
    ['name', { name: 'x'.repeat(41) }, { SUBSCRIBER_NAME: 'x'.repeat(41) }],
    ['name', { name: 'shop-dlq' }, { SUBSCRIBER_NAME: 'shop-dlq' }],
    ['url', { url: 'ftp://shop.example.com' }, { WEBHOOK_URL: 'ftp://shop.example.com' }],
    ['url', { url: 'https://user:pw@shop.example.com' }, { WEBHOOK_URL: 'https://user:pw@shop.example.com' }],
    ['url', { url: 'not a url' }, { WEBHOOK_URL: 'not a url' }],
    ['timeoutSeconds', { timeoutSeconds: 0 }, { WEBHOOK_TIMEOUT_SECONDS: '0' }],
    ['maxAttempts', { maxAttempts: 21 }, { WEBHOOK_MAX_ATTEMPTS: '21' }],
    ['backoff', { backoff: { baseSeconds: 3601 } }, { WEBHOOK_BACKOFF_BASE_SECONDS: '3601' }],
    ['backoff', { backoff: { maxSeconds: 43_201 } }, { WEBHOOK_BACKOFF_MAX_SECONDS: '43201' }],
  ])('refuse a bad %s with the same message: %j', (_field, setting, variables) => {
    const { name = 'shop', url = 'https://shop.example.com/hooks', ...delivery } = setting as Record<string, unknown>;
    let parserMessage = '';
    try {
      parseSubscribers([{ name, delivery: { kind: 'webhook', url, ...delivery } }]);
    } catch (error) {
      parserMessage = ((error as { problems: string[] }).problems[0] ?? '').replace(/^[^:]*: /, '');
    }
    expect(parserMessage).not.toBe('');
    expect(configurationError({ ...MINIMAL, ...variables }).message).toMatch(new RegExp(`^Environment variable [A-Z_]+ ${parserMessage.replace(/[()+.]/g, '\\$&')}$`));
  });
});
