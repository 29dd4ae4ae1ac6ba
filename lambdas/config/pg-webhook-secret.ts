import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ENV } from './env-names';

/** Secret values are cached this long, so a rotation reaches warm functions within minutes. */
const SECRET_CACHE_SECONDS = 300;

/**
 * The PG webhook HMAC key: `PG_WEBHOOK_SECRET` when set (local mode, tests), otherwise the
 * Secrets Manager secret named by `PG_WEBHOOK_SECRET_ARN` (the deployed stack).
 */
export async function pgWebhookSecret(): Promise<string> {
  const inline = process.env[ENV.pgWebhookSecret];
  if (inline) return inline;
  const arn = process.env[ENV.pgWebhookSecretArn];
  if (!arn) throw new Error(`Set ${ENV.pgWebhookSecretArn} (or ${ENV.pgWebhookSecret} for local use)`);
  const secret = await getSecret(arn, { maxAge: SECRET_CACHE_SECONDS });
  if (typeof secret !== 'string' || secret.length === 0) throw new Error(`Secret ${arn} has no string value`);
  return secret;
}
