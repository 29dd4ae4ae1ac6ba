import { ENV } from './env-names';
import { secretFromEnv } from './secret-value';

/**
 * The PG webhook HMAC key: `PG_WEBHOOK_SECRET` when set (local mode, tests), otherwise the
 * Secrets Manager secret named by `PG_WEBHOOK_SECRET_ARN` (the deployed stack).
 */
export function pgWebhookSecret(): Promise<string> {
  return secretFromEnv({ inline: ENV.pgWebhookSecret, arn: ENV.pgWebhookSecretArn });
}
