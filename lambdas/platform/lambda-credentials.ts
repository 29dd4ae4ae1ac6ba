/**
 * The SDK's default credential chain as a deployed function needs it: the execution role's
 * credentials, which Lambda puts in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN) before the handler is loaded.
 *
 * The Lambda bundles replace `@aws-sdk/credential-provider-node` with this module (an esbuild alias,
 * see lib/constructs/function-bundling.ts). The full chain's first link is this same `fromEnv`; its
 * other links (SSO, shared ini files, credential processes, web identity, container and instance
 * metadata) never answer on Lambda, yet bring STS, SSO, SSO-OIDC and Signin clients of their own:
 * about 120 KiB of every bundle. The local runner, chaos, benchmarks and tests run the TypeScript
 * against the real package and pass explicit credentials for the emulators.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** What a client's runtime config passes to its credential default provider (the subset read here). */
export type LambdaCredentialsInit = Parameters<typeof fromEnv>[0];

/**
 * The credential provider every bundled SDK client builds when it is given no credentials: the
 * environment's. The client memoizes what it returns, as it does for the full chain.
 * The provider rejects with a CredentialsProviderError when the environment holds no credentials.
 */
export function defaultProvider(init: LambdaCredentialsInit = {}): ReturnType<typeof fromEnv> {
  return fromEnv(init);
}
