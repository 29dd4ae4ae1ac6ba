/**
 * The environment of each function, resolved from the template for local use: what its
 * configuration is read from, as on Lambda (each function has its own; nothing goes to process.env).
 */
import { ENV } from '../../lambdas/platform/env-names';
import { LocalStartupError } from '../errors';
import { resolveString, type LocalRegistry, type UnresolvedHandler } from '../template/intrinsics';
import type { FunctionSpec } from '../template/resolve';
import { isRecord, type CfnValue } from '../template/types';

/** Lambda runtime settings, not configuration: the local runner has no use for them. */
const RUNTIME_ONLY = new Set(['NODE_OPTIONS', 'AWS_NODEJS_CONNECTION_REUSE_ENABLED']);

export interface EnvironmentOptions {
  /** The PG callback HMAC key used instead of the Secrets Manager secret. */
  readonly pgCallbackSecret: string;
  /** On a Toss stack: the API's base URL and the secret key used instead of the Secrets Manager secret. */
  readonly toss?: { readonly baseUrl: string; readonly secretKey: string };
  /** Webhook signing keys used instead of the secrets WEBHOOK_SECRET_ARN names, by the secret's logical id. */
  readonly webhookSecrets?: ReadonlyMap<string, string>;
  readonly onUnresolved?: UnresolvedHandler;
}

const refersToSecret = (value: CfnValue, registry: Pick<LocalRegistry, 'resourceTypes'>): boolean =>
  isRecord(value) && typeof value.Ref === 'string' && registry.resourceTypes[value.Ref] === 'AWS::SecretsManager::Secret';

/** One function's variables with Ref / GetAtt / Join resolved to local names, URLs and ARNs. */
export function resolveFunctionEnvironment(spec: FunctionSpec, registry: LocalRegistry, options: EnvironmentOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.environment)) {
    if (RUNTIME_ONLY.has(name)) continue;
    if (name === ENV.pgCallbackSecretArn && refersToSecret(value, registry)) {
      // Locally the key itself replaces the secret (the handler prefers PG_CALLBACK_SECRET).
      env[ENV.pgCallbackSecret] = options.pgCallbackSecret;
      continue;
    }
    if (name === ENV.tossSecretKeyArn && options.toss) {
      env[ENV.tossSecretKey] = options.toss.secretKey;
      continue;
    }
    if (name === ENV.tossApiBaseUrl && options.toss) {
      env[name] = options.toss.baseUrl;
      continue;
    }
    if (name === ENV.webhookSecretArn && refersToSecret(value, registry)) {
      const secret = options.webhookSecrets?.get((value as { Ref: string }).Ref);
      if (secret === undefined) throw new LocalStartupError(`${spec.logicalId} environment ${name}: no local webhook secret for ${JSON.stringify(value)}`);
      env[ENV.webhookSecret] = secret;
      continue;
    }
    env[name] = resolveString(value, registry, `${spec.logicalId} environment ${name}`, options.onUnresolved);
  }
  return env;
}

/** The Secrets Manager secret a function's WEBHOOK_SECRET_ARN refers to, with the subscriber (SUBSCRIBER_NAME) it signs for. */
export function webhookSecretReference(
  spec: FunctionSpec,
  resourceTypes: LocalRegistry['resourceTypes'],
): { secretLogicalId: string; subscriber: string } | undefined {
  const value = spec.environment[ENV.webhookSecretArn];
  if (value === undefined || !refersToSecret(value, { resourceTypes })) return undefined;
  const subscriber = spec.environment[ENV.subscriberName];
  return { secretLogicalId: (value as { Ref: string }).Ref, subscriber: typeof subscriber === 'string' ? subscriber : spec.logicalId };
}
