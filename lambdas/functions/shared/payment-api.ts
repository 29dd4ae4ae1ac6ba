/**
 * What the payment API functions share: their tables and retention, read from the function's
 * environment, and the payment service (repository, PG, clock, ids) built over the runtime's
 * clients.
 */
import { DynamoDbPaymentRepository } from '../../adapters/dynamodb-payment-repository';
import { SandboxPaymentGateway } from '../../adapters/sandbox-payment-gateway';
import { randomIds } from '../../adapters/system-clock';
import { ENV } from '../../platform/env-names';
import type { Environment, FunctionRuntime } from '../../platform/function-runtime';
import { positiveIntEnv, requiredEnv } from '../../platform/required-env';
import type { PaymentGateway } from '../../ports/payment-gateway';
import type { PaymentCommandDeps } from '../../use-cases/payment-commands';

/** Idempotency records outlive any PG resend schedule and any caller retry window. */
export const IDEMPOTENCY_RETENTION_DAYS = 30;

export interface PaymentApiConfig {
  readonly tables: {
    readonly payments: string;
    readonly outbox: string;
    readonly idempotency: string;
    /** Functions that move money: confirm and cancel. */
    readonly pgAttempts?: string;
    /** Functions that call the sandbox PG: create (virtual accounts), confirm, cancel. */
    readonly sandboxPgLedger?: string;
  };
  readonly outboxRetentionDays: number;
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
  };
}

/** The PG of a function that is not configured to call one (its deployment grants it none). */
const NO_GATEWAY: PaymentGateway = new Proxy({} as PaymentGateway, {
  get: () => () => Promise.reject(new Error(`This function calls no PG (${ENV.sandboxPgLedgerTable} is not set)`)),
});

const optional = <K extends string>(key: K, value: string | undefined) =>
  (value === undefined || value.trim() === '' ? {} : { [key]: value }) as Partial<Record<K, string>>;

/**
 * The payment service over the runtime's clients. A function without the PG attempts or ledger
 * table (the read routes) gets a service whose PG parts fail at once if ever called.
 */
export function createPaymentService(config: PaymentApiConfig, runtime: FunctionRuntime): PaymentCommandDeps {
  const repository = new DynamoDbPaymentRepository(runtime.aws.documents, config.tables, {
    outboxDays: config.outboxRetentionDays,
    idempotencyDays: IDEMPOTENCY_RETENTION_DAYS,
  });
  const ledgerTable = config.tables.sandboxPgLedger;
  const gateway = ledgerTable ? new SandboxPaymentGateway(runtime.aws.documents, runtime.clock, { ledgerTable }) : NO_GATEWAY;
  return { repository, attempts: repository, clock: runtime.clock, ids: randomIds, gateway };
}
