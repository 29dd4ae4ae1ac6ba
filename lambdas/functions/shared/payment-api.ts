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
import type { PaymentCommandDeps } from '../../use-cases/payment-commands';

/** Idempotency records outlive any PG resend schedule and any caller retry window. */
const IDEMPOTENCY_RETENTION_DAYS = 30;

export interface PaymentApiConfig {
  readonly tables: { readonly payments: string; readonly outbox: string; readonly idempotency: string };
  readonly outboxRetentionDays: number;
}

export function paymentApiConfigFromEnv(env: Environment): PaymentApiConfig {
  return {
    tables: {
      payments: requiredEnv(ENV.paymentsTable, env),
      outbox: requiredEnv(ENV.outboxTable, env),
      idempotency: requiredEnv(ENV.idempotencyTable, env),
    },
    outboxRetentionDays: positiveIntEnv(ENV.outboxRetentionDays, 30, env),
  };
}

export function createPaymentService(config: PaymentApiConfig, runtime: FunctionRuntime): PaymentCommandDeps {
  const repository = new DynamoDbPaymentRepository(runtime.aws.documents, config.tables, {
    outboxDays: config.outboxRetentionDays,
    idempotencyDays: IDEMPOTENCY_RETENTION_DAYS,
  });
  return { repository, clock: runtime.clock, ids: randomIds, gateway: new SandboxPaymentGateway(runtime.clock) };
}
