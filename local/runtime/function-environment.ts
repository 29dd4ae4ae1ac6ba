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

/**
 * Configuration of one webhook dispatcher (its subscriber, URL, queues, signing key): each
 * dispatcher function has its own values. They are given to that function's module only (see
 * MergedEnvironment.isolated), as each Lambda function has its own environment.
 */
export const DISPATCHER_KEYS: ReadonlySet<string> = new Set([
  ENV.subscriberName,
  ENV.webhookUrl,
  ENV.webhookTimeoutSeconds,
  ENV.webhookMaxAttempts,
  ENV.webhookBackoffBaseSeconds,
  ENV.webhookBackoffMaxSeconds,
  ENV.subscriberQueueUrl,
  ENV.subscriberDlqUrl,
  ENV.webhookSecret,
]);

export interface EnvironmentOptions {
  /** The PG webhook HMAC key used instead of the Secrets Manager secret. */
  readonly pgWebhookSecret: string;
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
    if (name === ENV.pgWebhookSecretArn && refersToSecret(value, registry)) {
      // Locally the key itself replaces the secret (the handler prefers PG_WEBHOOK_SECRET).
      env[ENV.pgWebhookSecret] = options.pgWebhookSecret;
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

export interface MergedEnvironment {
  /** Variables every handler module sees in process.env. */
  readonly shared: Record<string, string>;
  /** Per-function variables (PER_FUNCTION_KEYS, DISPATCHER_KEYS and `functionScoped`), set while importing that function. */
  readonly perFunction: Map<string, Record<string, string>>;
  /**
   * Functions with configuration of their own (not only identity): their module is imported with
   * a copy of process.env holding it, which a module that keeps `process.env` (read at call time)
   * keeps; they are not visible to the other modules.
   */
  readonly isolated: ReadonlySet<string>;
}

/**
 * Merges all functions' variables; a configuration key with two different values is an error,
 * except the per-function keys (and `functionScoped`, e.g. keys of local overrides).
 */
export function mergeEnvironments(
  environments: ReadonlyMap<string, Record<string, string>>,
  functionScoped: ReadonlySet<string> = new Set(),
): MergedEnvironment {
  const shared: Record<string, string> = {};
  const owner: Record<string, string> = {};
  const perFunction = new Map<string, Record<string, string>>();
  const isolated = new Set<string>();
  for (const [logicalId, env] of environments) {
    const own: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      if (PER_FUNCTION_KEYS.has(name)) {
        own[name] = value;
        continue;
      }
      if (DISPATCHER_KEYS.has(name) || functionScoped.has(name)) {
        own[name] = value;
        isolated.add(logicalId);
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
  return { shared, perFunction, isolated };
}
