/**
 * Which PG `attempts reconcile` asks, and how to reach it: the one the stack's functions call.
 *
 * - Local mode: endpoints.json `paymentGateway` (written by `npm start`; absent in files of older
 *   runners and hand-written ones, which means the sandbox). On Toss, the key of tools/toss-local
 *   is in the file; a real Toss test key never is, so it comes from TOSS_SECRET_KEY.
 * - AWS mode: the functions' own variables, read as they read them (`paymentGatewayConfigFromEnv`):
 *   PAYMENT_GATEWAY (default sandbox), TOSS_API_BASE_URL (default Toss's), TOSS_SECRET_KEY or
 *   TOSS_SECRET_KEY_ARN, TOSS_TIMEOUT_MS.
 * - `--pg sandbox|toss` overrides PAYMENT_GATEWAY; locally it applies only to a file that does not
 *   say which PG the stack calls (asking another PG than the stack's answers `not-found`, which
 *   would close attempts whose money moved).
 *
 * Pure: the environment and the file's text come in. A problem is kept as an `unusable` selection,
 * not thrown: only the commands that ask the PG need one (`requirePaymentGateway` in
 * pg-attempt-deps.ts throws it then).
 */
import { ENV } from '../lambdas/platform/env-names';
import { ConfigurationError } from '../lambdas/platform/required-env';
import type { SecretSource } from '../lambdas/platform/secret-value';
import { paymentGatewayConfigFromEnv } from '../lambdas/functions/shared/payment-api';
import {
  DEFAULT_PAYMENT_GATEWAY,
  DEFAULT_TOSS_API_BASE_URL,
  DEFAULT_TOSS_TIMEOUT_MS,
  isPaymentGatewayKind,
  PAYMENT_GATEWAY_KINDS,
  type PaymentGatewayKind,
} from '../lambdas/platform/payment-gateways';
import type { LocalPaymentGatewayInfo } from '../local/endpoints-file';

/** Toss Payments as the CLI reaches it. */
export interface TossSelection {
  readonly kind: 'toss';
  /** What chose it: the file, `--pg toss`, `PAYMENT_GATEWAY=toss`. */
  readonly from: string;
  /** No trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly secretKey: SecretSource;
  /** Where the key comes from, to print (never the key). */
  readonly secretKeyFrom: string;
}

export type PgSelection =
  | { readonly kind: 'sandbox'; readonly from: string }
  | TossSelection
  /** The PG cannot be used as configured; `problem` says why and what to do. */
  | { readonly kind: 'unusable'; readonly problem: string };

/** Environment the selection reads. */
type Env = Readonly<Record<string, string | undefined>>;

/** The PG of a local stack: its endpoints.json `paymentGateway`, unless `--pg` applies. */
export function selectLocalPaymentGateway(input: {
  /** endpoints.json's text (already known to be a JSON object). */
  readonly text: string;
  readonly file: string;
  readonly override?: PaymentGatewayKind;
  readonly env: Env;
}): PgSelection {
  const { file, override, env } = input;
  let info: LocalPaymentGatewayInfo | undefined;
  try {
    info = parseEndpointsPaymentGateway(input.text, file);
  } catch (error) {
    return { kind: 'unusable', problem: (error as Error).message };
  }
  if (info === undefined) {
    // A file that does not say: the sandbox, as every runner before Toss; --pg may say otherwise.
    if (override !== 'toss') return { kind: 'sandbox', from: override ? '--pg sandbox' : `${file} (no "paymentGateway")` };
    const baseUrl = (trimmed(env[ENV.tossApiBaseUrl]) ?? DEFAULT_TOSS_API_BASE_URL).replace(/\/+$/, '');
    if (!isHttpUrl(baseUrl)) return { kind: 'unusable', problem: `local mode on Toss (--pg toss): ${ENV.tossApiBaseUrl} must be an http(s) URL (got "${baseUrl}")` };
    return tossFromEnvKey('--pg toss', baseUrl, env, `local mode on Toss (--pg toss, ${baseUrl}): set ${ENV.tossSecretKey} to the Toss secret key`);
  }
  if (override !== undefined && override !== info.kind) {
    return { kind: 'unusable', problem: `local mode: the local stack calls the ${info.kind} PG (${file}); --pg ${override} does not apply` };
  }
  if (info.kind === 'sandbox') return { kind: 'sandbox', from: file };
  if (info.local) {
    return { kind: 'toss', from: file, baseUrl: info.baseUrl, timeoutMs: DEFAULT_TOSS_TIMEOUT_MS, secretKey: { value: info.local.secretKey }, secretKeyFrom: `${file} (tools/toss-local's made-up key)` };
  }
  return tossFromEnvKey(
    file,
    info.baseUrl,
    env,
    `local mode: the local stack calls Toss at ${info.baseUrl}, whose secret key is not written to ${file}: ` +
      `set ${ENV.tossSecretKey} to the key it was started with (npm start -- --pg toss --pg-secret-key <key>)`,
  );
}

/** The PG of an AWS stack, from the functions' variables; `--pg` wins over PAYMENT_GATEWAY. */
export function selectAwsPaymentGateway(input: { readonly override?: PaymentGatewayKind; readonly env: Env }): PgSelection {
  const { override, env } = input;
  const named = trimmed(env[ENV.paymentGateway]);
  const kind = override ?? named ?? DEFAULT_PAYMENT_GATEWAY;
  const from = override ? `--pg ${override}` : named ? `${ENV.paymentGateway}=${named}` : `${ENV.paymentGateway} unset (the default)`;
  if (!isPaymentGatewayKind(kind)) {
    return { kind: 'unusable', problem: `AWS mode: ${ENV.paymentGateway} must be one of ${PAYMENT_GATEWAY_KINDS.join(', ')} (got "${kind}"); or pass --pg sandbox|toss` };
  }
  if (kind === 'sandbox') return { kind, from };
  if (!env[ENV.tossSecretKey] && !env[ENV.tossSecretKeyArn]) {
    return {
      kind: 'unusable',
      problem:
        `AWS mode on Toss (${from}): the Toss secret key is missing: set ${ENV.tossSecretKeyArn} to the secret the stack's functions read it from ` +
        `(stack output TossSecretKeyArn), or ${ENV.tossSecretKey} to the key itself`,
    };
  }
  try {
    // The functions' own reading (URL check, TOSS_TIMEOUT_MS, key precedence), as Toss whatever PAYMENT_GATEWAY says.
    const config = paymentGatewayConfigFromEnv({ ...env, [ENV.paymentGateway]: 'toss' });
    if (config.kind !== 'toss') throw new Error('unreachable: asked for toss');
    const secretKeyFrom = 'value' in config.secretKey ? ENV.tossSecretKey : `${ENV.tossSecretKeyArn} ${config.secretKey.arn}`;
    return { kind: 'toss', from, baseUrl: config.baseUrl, timeoutMs: config.timeoutMs, secretKey: config.secretKey, secretKeyFrom };
  } catch (error) {
    if (error instanceof ConfigurationError) return { kind: 'unusable', problem: `AWS mode on Toss (${from}): ${error.message}` };
    throw error;
  }
}

/**
 * endpoints.json `paymentGateway` (local/endpoints-file.ts `LocalPaymentGatewayInfo`), checked;
 * undefined when the file has none.
 * @throws Error naming the file and the field
 */
export function parseEndpointsPaymentGateway(text: string, file: string): LocalPaymentGatewayInfo | undefined {
  const json = JSON.parse(text) as Record<string, unknown>;
  const pg = json.paymentGateway;
  if (pg === undefined) return undefined;
  if (!isRecord(pg)) throw new Error(`${file}: "paymentGateway" must be an object`);
  if (pg.kind === 'sandbox') return { kind: 'sandbox' };
  if (pg.kind !== 'toss') throw new Error(`${file}: "paymentGateway.kind" must be one of ${PAYMENT_GATEWAY_KINDS.join(', ')} (got ${JSON.stringify(pg.kind)})`);
  if (typeof pg.baseUrl !== 'string' || !isHttpUrl(pg.baseUrl)) throw new Error(`${file}: "paymentGateway.baseUrl" must be an http(s) URL`);
  const baseUrl = pg.baseUrl.replace(/\/+$/, '');
  const depositCallbackUrl = typeof pg.depositCallbackUrl === 'string' ? pg.depositCallbackUrl : '';
  if (pg.local === undefined) return { kind: 'toss', baseUrl, depositCallbackUrl };
  const local = pg.local;
  if (!isRecord(local) || typeof local.secretKey !== 'string' || local.secretKey === '') {
    throw new Error(`${file}: "paymentGateway.local.secretKey" must be a non-empty string`);
  }
  return { kind: 'toss', baseUrl, depositCallbackUrl, local: { secretKey: local.secretKey, controlUrl: typeof local.controlUrl === 'string' ? local.controlUrl : '' } };
}

/** Toss with the key from TOSS_SECRET_KEY, or `missing` as the problem when it is unset. */
function tossFromEnvKey(from: string, baseUrl: string, env: Env, missing: string): PgSelection {
  const value = env[ENV.tossSecretKey];
  if (!value) return { kind: 'unusable', problem: missing };
  return { kind: 'toss', from, baseUrl, timeoutMs: DEFAULT_TOSS_TIMEOUT_MS, secretKey: { value }, secretKeyFrom: ENV.tossSecretKey };
}

function isHttpUrl(url: string): boolean {
  return /^https?:\/\/[^/]+/.test(url);
}

function trimmed(value: string | undefined): string | undefined {
  const result = value?.trim();
  return result === undefined || result === '' ? undefined : result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
