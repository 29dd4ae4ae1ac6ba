import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { Environment } from './function-runtime';
import { ConfigurationError } from './required-env';

/** Secret values are cached this long, so a rotation reaches warm functions within minutes. */
export const SECRET_CACHE_SECONDS = 300;

/** The two variables that name one secret: its value inline, or the ARN to fetch it from. */
export interface SecretEnvNames {
  /** Holds the value itself (local mode, tests); takes precedence. */
  readonly inline: string;
  /** Holds the ARN of the Secrets Manager secret (the deployed stack). */
  readonly arn: string;
}

/** Where a secret comes from, as configured: the value itself, or the Secrets Manager secret to fetch. */
export type SecretSource = { readonly value: string } | { readonly arn: string };

/**
 * The secret's source from the environment: the inline variable when set, otherwise the ARN variable.
 * @throws ConfigurationError when neither is set
 */
export function secretSourceFromEnv(names: SecretEnvNames, env: Environment): SecretSource {
  const value = env[names.inline];
  if (value) return { value };
  const arn = env[names.arn];
  if (!arn) throw new ConfigurationError(names.arn, `is required (or ${names.inline} for local use)`);
  return { arn };
}

/**
 * The secret string: the inline value, or the Secrets Manager secret fetched through Powertools
 * and cached for `SECRET_CACHE_SECONDS`.
 * @throws Error when the secret has no string value
 */
export async function readSecret(source: SecretSource): Promise<string> {
  if ('value' in source) return source.value;
  const secret = await getSecret(source.arn, { maxAge: SECRET_CACHE_SECONDS });
  if (typeof secret !== 'string' || secret.length === 0) throw new Error(`Secret ${source.arn} has no string value`);
  return secret;
}
