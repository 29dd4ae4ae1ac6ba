import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

/** Secret values are cached this long, so a rotation reaches warm functions within minutes. */
export const SECRET_CACHE_SECONDS = 300;

/** The two variables that name one secret: its value inline, or the ARN to fetch it from. */
export interface SecretEnvNames {
  /** Holds the value itself (local mode, tests); takes precedence. */
  readonly inline: string;
  /** Holds the ARN of the Secrets Manager secret (the deployed stack). */
  readonly arn: string;
}

/**
 * A secret string configured by environment: the inline variable when set, otherwise the Secrets
 * Manager secret its ARN variable names (fetched through Powertools, cached for
 * `SECRET_CACHE_SECONDS`).
 * @throws Error when neither variable is set, or the secret has no string value
 */
export async function secretFromEnv(names: SecretEnvNames, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const inline = env[names.inline];
  if (inline) return inline;
  const arn = env[names.arn];
  if (!arn) throw new Error(`Set ${names.arn} (or ${names.inline} for local use)`);
  const secret = await getSecret(arn, { maxAge: SECRET_CACHE_SECONDS });
  if (typeof secret !== 'string' || secret.length === 0) throw new Error(`Secret ${arn} has no string value`);
  return secret;
}
