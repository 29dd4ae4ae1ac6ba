/**
 * Composition root of the payment API: builds the adapters once per cold start from the
 * validated environment. Handlers import what they need from here.
 */
import { randomUUID } from 'node:crypto';
import { dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoDbPaymentRepository } from '../adapters/dynamodb-payment-repository';
import { SandboxPaymentGateway } from '../adapters/sandbox-payment-gateway';
import { ENV } from '../config/env-names';
import { positiveIntEnv, requiredEnv } from '../config/required-env';
import type { Clock, IdGenerator } from '../ports/clock';
import type { PaymentCommandDeps } from '../use-cases/payment-commands';

const systemClock: Clock = { now: () => new Date() };
const uuidIds: IdGenerator = { newId: () => randomUUID() };

/** Idempotency records outlive any PG resend schedule and any caller retry window. */
const IDEMPOTENCY_RETENTION_DAYS = 30;

export function paymentServiceFromEnv(): PaymentCommandDeps {
  const repository = new DynamoDbPaymentRepository(
    dynamoDocumentClient(),
    {
      payments: requiredEnv(ENV.paymentsTable),
      outbox: requiredEnv(ENV.outboxTable),
      idempotency: requiredEnv(ENV.idempotencyTable),
    },
    { outboxDays: positiveIntEnv(ENV.outboxRetentionDays, 30), idempotencyDays: IDEMPOTENCY_RETENTION_DAYS },
  );
  return { repository, clock: systemClock, ids: uuidIds, gateway: new SandboxPaymentGateway(systemClock) };
}
