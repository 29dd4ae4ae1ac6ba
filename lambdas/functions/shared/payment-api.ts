/**
 * What the payment API functions share: their tables, retention and PG, read from the function's
 * environment, and the payment service (repository, PG, clock, ids) built over the runtime's
 * clients.
 */
import { DynamoDbPaymentRepository } from '../../adapters/dynamodb-payment-repository';
import { SandboxPaymentGateway } from '../../adapters/sandbox-payment-gateway';
import { randomIds } from '../../adapters/system-clock';
import { TossPaymentGateway } from '../../adapters/toss/toss-payment-gateway';
import { ENV } from '../../platform/env-names';
import { currentTraceContext } from '../../platform/trace-scope';
import {
  DEFAULT_PAYMENT_GATEWAY,
  DEFAULT_TOSS_API_BASE_URL,
  DEFAULT_TOSS_TIMEOUT_MS,
  DEFAULT_TOSS_VIRTUAL_ACCOUNT_BANK,
  DEFAULT_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS,
  isPaymentGatewayKind,
  PAYMENT_GATEWAY_KINDS,
} from '../../platform/payment-gateways';
import type { Environment, FunctionRuntime } from '../../platform/function-runtime';
import { ConfigurationError, positiveIntEnv, requiredEnv } from '../../platform/required-env';
import { readSecret, secretSourceFromEnv, type SecretSource } from '../../platform/secret-value';
import type { DepositLookup, PaymentGateway } from '../../ports/payment-gateway';
import type { PaymentCommandDeps } from '../../use-cases/payment-commands';

/** Idempotency records outlive any PG resend schedule and any caller retry window. */
export const IDEMPOTENCY_RETENTION_DAYS = 30;


/** The PG a function calls, as configured. */
export type PaymentGatewayConfig =
  | { readonly kind: 'sandbox' }
  | {
      readonly kind: 'toss';
      readonly baseUrl: string;
      readonly secretKey: SecretSource;
      readonly timeoutMs: number;
      readonly virtualAccountBank: string;
      readonly virtualAccountValidHours: number;
    };

export interface PaymentApiConfig {
  readonly tables: {
    readonly payments: string;
    readonly outbox: string;
    readonly idempotency: string;
    /** Functions that move money (confirm, cancel) and those that keep or read a callback secret (create and the Toss callback on Toss). */
    readonly pgAttempts?: string;
    /** Functions that call the sandbox PG: create (virtual accounts), confirm, cancel. */
    readonly sandboxPgLedger?: string;
  };
  readonly outboxRetentionDays: number;
  readonly paymentGateway: PaymentGatewayConfig;
}

/** The PG from the environment: PAYMENT_GATEWAY (`sandbox` when unset) and, for Toss, its variables. */
export function paymentGatewayConfigFromEnv(env: Environment): PaymentGatewayConfig {
  const kind = (env[ENV.paymentGateway] ?? '').trim() || DEFAULT_PAYMENT_GATEWAY;
  if (!isPaymentGatewayKind(kind)) {
    throw new ConfigurationError(ENV.paymentGateway, `must be one of ${PAYMENT_GATEWAY_KINDS.join(', ')}, got "${kind}"`);
  }
  if (kind === 'sandbox') return { kind };
  const baseUrl = (env[ENV.tossApiBaseUrl] ?? '').trim() || DEFAULT_TOSS_API_BASE_URL;
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new ConfigurationError(ENV.tossApiBaseUrl, `must be an http(s) URL, got "${baseUrl}"`);
  return {
    kind: 'toss',
    baseUrl: baseUrl.replace(/\/+$/, ''),
    secretKey: secretSourceFromEnv({ inline: ENV.tossSecretKey, arn: ENV.tossSecretKeyArn }, env),
    timeoutMs: positiveIntEnv(ENV.tossTimeoutMs, DEFAULT_TOSS_TIMEOUT_MS, env),
    virtualAccountBank: (env[ENV.tossVirtualAccountBank] ?? '').trim() || DEFAULT_TOSS_VIRTUAL_ACCOUNT_BANK,
    virtualAccountValidHours: positiveIntEnv(ENV.tossVirtualAccountValidHours, DEFAULT_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS, env),
  };
}

export function paymentApiConfigFromEnv(env: Environment): PaymentApiConfig {
  return {
    tables: {
      payments: requiredEnv(ENV.paymentsTable, env),
      outbox: requiredEnv(ENV.outboxTable, env),
      idempotency: requiredEnv(ENV.idempotencyTable, env),
      ...optional('pgAttempts', env[ENV.pgAttemptsTable]),
      ...optional('sandboxPgLedger', env[ENV.sandboxPgLedgerTable]),
    },
    outboxRetentionDays: positiveIntEnv(ENV.outboxRetentionDays, 30, env),
    paymentGateway: paymentGatewayConfigFromEnv(env),
  };
}

/** The PG of a function that is not configured to call one (its deployment grants it none). */
const NO_GATEWAY: PaymentGateway & DepositLookup = new Proxy({ name: 'none' } as PaymentGateway & DepositLookup, {
  get: (target, property) =>
    property === 'name' || property === 'supportedCurrencies' || property === 'then'
      ? target[property as keyof typeof target]
      : () => Promise.reject(new Error(`This function calls no PG (${ENV.sandboxPgLedgerTable} is not set)`)),
});

const optional = <K extends string>(key: K, value: string | undefined) =>
  (value === undefined || value.trim() === '' ? {} : { [key]: value }) as Partial<Record<K, string>>;

/** The PG a function calls: Toss, the sandbox over its ledger, or none (the read routes). */
export function createPaymentGateway(config: PaymentApiConfig, runtime: FunctionRuntime): PaymentGateway & Partial<DepositLookup> {
  const pg = config.paymentGateway;
  if (pg.kind === 'toss') {
    return new TossPaymentGateway({
      baseUrl: pg.baseUrl,
      secretKey: () => readSecret(pg.secretKey),
      timeoutMs: pg.timeoutMs,
      virtualAccount: { bank: pg.virtualAccountBank, validHours: pg.virtualAccountValidHours },
      clock: runtime.clock,
    });
  }
  const ledgerTable = config.tables.sandboxPgLedger;
  return ledgerTable ? new SandboxPaymentGateway(runtime.aws.documents, runtime.clock, { ledgerTable }) : NO_GATEWAY;
}

/**
 * The payment service over the runtime's clients. A function without the PG attempts or ledger
 * table (the read routes) gets a service whose PG parts fail at once if ever called.
 */
export function createPaymentService(config: PaymentApiConfig, runtime: FunctionRuntime): PaymentCommandDeps & { readonly gateway: PaymentGateway & Partial<DepositLookup> } {
  const repository = new DynamoDbPaymentRepository(
    runtime.aws.documents,
    config.tables,
    { outboxDays: config.outboxRetentionDays, idempotencyDays: IDEMPOTENCY_RETENTION_DAYS },
    currentTraceContext,
  );
  return { repository, attempts: repository, clock: runtime.clock, ids: randomIds, gateway: createPaymentGateway(config, runtime) };
}
