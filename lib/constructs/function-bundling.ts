/**
 * How every Lambda bundle is built, defined once: PaymentFunction hands these options to the CDK's
 * esbuild (lib/constructs/payment-function.ts) and bench/bundles.ts builds with the same object, so
 * the bundles the benchmark weighs and times are the ones `cdk deploy` uploads.
 *
 * Kept free of aws-cdk-lib so the benchmark can import it without loading the CDK.
 */
import type { BuildOptions } from 'esbuild';

/**
 * Prepended to every ESM bundle so that CommonJS dependencies bundled into it can still call
 * `require` for Node built-ins (esbuild's ESM output has no `require` of its own).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __pmoCreateRequire } from 'node:module'; const require = __pmoCreateRequire(import.meta.url);";

/**
 * Modules every bundle takes from this repository instead of from node_modules, as esbuild aliases
 * (module → path relative to the repository root, which is esbuild's working directory).
 *
 * `@aws-sdk/credential-provider-node`: every SDK client's default credential chain. On Lambda the
 * credentials are in the environment, the chain's first link; the other links (SSO, ini files,
 * processes, web identity, IMDS) bring STS, SSO, SSO-OIDC and Signin clients, ~120 KiB per bundle,
 * that never run there. lambdas/platform/lambda-credentials.ts keeps the environment link only.
 *
 * `@smithy/core/event-streams`: the event-stream codec (~15 KiB), which the SDK loads only for an
 * operation with an event-stream member; no service we call has one. The stub throws if reached.
 *
 * `mnemonist/lru-cache`: the DynamoDB client's endpoint-discovery cache (~7 KiB with its
 * dependencies), replaced by the same LRU cache over a `Map`.
 *
 * `semver`: brought by the X-Ray SDK (under Powertools Tracer) for its SDK v2 patcher only (~27 KiB),
 * replaced by `gte` over plain versions.
 *
 * Each replacement says in its own module why it is never reached or behaves the same.
 */
export const FUNCTION_BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './lambdas/platform/lambda-credentials.ts',
  '@smithy/core/event-streams': './lambdas/platform/bundle-aliases/smithy-event-streams.ts',
  'mnemonist/lru-cache': './lambdas/platform/bundle-aliases/lru-cache.ts',
  semver: './lambdas/platform/bundle-aliases/semver.ts',
};

/**
 * The esbuild options of every function bundle (besides entry and output): ESM for node22, the
 * AWS SDK bundled at the versions pinned in package-lock.json, ESM builds of dependencies preferred
 * (`module` before `main`) so tree shaking can drop what is not imported, minified, no legal
 * comments, and a linked source map without sources (NODE_OPTIONS=--enable-source-maps reads it).
 */
export const FUNCTION_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  treeShaking: true,
  minify: true,
  legalComments: 'none',
  sourcemap: true,
  sourcesContent: false,
  banner: { js: ESM_REQUIRE_BANNER },
  alias: FUNCTION_BUNDLE_ALIASES,
} as const satisfies BuildOptions;
