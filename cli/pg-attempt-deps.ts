/**
 * What the attempts commands run on: the functions' own adapters (the DynamoDB payment store with
 * its PG attempts table, the sandbox PG over its ledger table) over the CLI's document client,
 * assembled as the confirm, cancel and reconciler functions assemble them
 * (lambdas/functions/shared/payment-api.ts `createPaymentService`).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbPaymentRepository } from '../lambdas/adapters/dynamodb-payment-repository';
import { SandboxPaymentGateway } from '../lambdas/adapters/sandbox-payment-gateway';
import { randomIds } from '../lambdas/adapters/system-clock';
import type { Clock } from '../lambdas/ports/clock';
import type { PgChangeDeps } from '../lambdas/use-cases/change-with-pg';
import type { StoreTables } from './target';
import { IDEMPOTENCY_RETENTION_DAYS } from '../lambdas/functions/shared/payment-api';

/** As the functions keep idempotency records (the reconciler writes none). */

export interface PgAttemptDeps extends PgChangeDeps {
  readonly repository: DynamoDbPaymentRepository;
  readonly attempts: DynamoDbPaymentRepository;
}

export function createPgAttemptDeps(
  documents: DynamoDBDocumentClient,
  tables: StoreTables,
  options: { readonly clock: Clock; readonly outboxRetentionDays: number },
): PgAttemptDeps {
  const repository = new DynamoDbPaymentRepository(
    documents,
    { payments: tables.payments, outbox: tables.outbox, idempotency: tables.idempotency, pgAttempts: tables.pgAttempts },
    { outboxDays: options.outboxRetentionDays, idempotencyDays: IDEMPOTENCY_RETENTION_DAYS },
  );
  const gateway = new SandboxPaymentGateway(documents, options.clock, { ledgerTable: tables.pgLedger });
  return { repository, attempts: repository, gateway, clock: options.clock, ids: randomIds };
}
