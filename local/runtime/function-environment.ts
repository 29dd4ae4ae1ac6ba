/**
 * The environment of each function, resolved from the template for local use, and the
 * merged environment the runner puts into process.env before importing any handler
 * (handlers read their configuration at module scope).
 */
import { ENV } from '../../lambdas/config/env-names';
import { LocalStartupError } from '../errors';
import { resolveString, type LocalRegistry, type UnresolvedHandler } from '../template/intrinsics';
import type { FunctionSpec } from '../template/resolve';
import { isRecord, type CfnValue } from '../template/types';

/** Lambda runtime settings, not configuration: not copied into the runner's own process. */
const RUNTIME_ONLY = new Set(['NODE_OPTIONS', 'AWS_NODEJS_CONNECTION_REUSE_ENABLED']);

/**
 * Keys that may differ between functions (identity, not configuration). They are set only
 * while that function's module is imported; module-scope readers (Powertools) see the right value.
 */
const PER_FUNCTION_KEYS = new Set(['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE']);

export interface EnvironmentOptions {
  /** The PG webhook HMAC key used instead of the Secrets Manager secret. */
  readonly pgWebhookSecret: string;
  readonly onUnresolved?: UnresolvedHandler;
}

const refersToSecret = (value: CfnValue, registry: LocalRegistry): boolean =>
  isRecord(value) && typeof value.Ref === 'string' && registry.resourceTypes[value.Ref] === 'AWS::SecretsManager::Secret';

/** One function's variables with Ref / GetAtt / Join resolved to local names, URLs and ARNs. */
export function resolveFunctionEnvironment(spec: FunctionSpec, registry: LocalRegistry, options: EnvironmentOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.environment)) {
    if (RUNTIME_ONLY.has(name)) continue;
    if (name === ENV.pgWebhookSecretArn && refersToSecret(value, registry)) {
      // Locally the key itself replaces the secret (the handler prefers PG_WEBHOOK_SECRET).
      env[ENV.pgWebhookSecret] = options.pgWebhookSecret;
      continue;
    }
    env[name] = resolveString(value, registry, `${spec.logicalId} environment ${name}`, options.onUnresolved);
  }
  return env;
}

export interface MergedEnvironment {
  /** Variables every handler module sees in process.env. */
  readonly shared: Record<string, string>;
  /** Per-function identity variables (see PER_FUNCTION_KEYS), set while importing that function. */
  readonly perFunction: Map<string, Record<string, string>>;
}

/** Merges all functions' variables; a configuration key with two different values is an error. */
export function mergeEnvironments(environments: ReadonlyMap<string, Record<string, string>>): MergedEnvironment {
  const shared: Record<string, string> = {};
  const owner: Record<string, string> = {};
  const perFunction = new Map<string, Record<string, string>>();
  for (const [logicalId, env] of environments) {
    const own: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      if (PER_FUNCTION_KEYS.has(name)) {
        own[name] = value;
        continue;
      }
      const previous = shared[name];
      if (previous !== undefined && previous !== value) {
        throw new LocalStartupError(
          `functions ${owner[name]} and ${logicalId} set ${name} to different values (${previous} / ${value}); ` +
            'the local runner loads all handlers into one process and needs one value per variable',
        );
      }
      shared[name] = value;
      owner[name] = logicalId;
    }
    perFunction.set(logicalId, own);
  }
  return { shared, perFunction };
}
