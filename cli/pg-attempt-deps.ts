/**
 * What the attempts commands run on: the functions' own adapters (the DynamoDB payment store with
 * its PG attempts table; the PG the stack calls: the sandbox over its ledger table, or Toss
 * Payments over HTTP) over the CLI's clients, assembled as the confirm, cancel and reconciler
 * functions assemble them (lambdas/functions/shared/payment-api.ts `createPaymentService`).
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbPaymentRepository } from '../lambdas/adapters/dynamodb-payment-repository';
import { SandboxPaymentGateway } from '../lambdas/adapters/sandbox-payment-gateway';
import { randomIds } from '../lambdas/adapters/system-clock';
import { requestTraceContext } from '../lambdas/domain/trace-context';
import { randomTraceIds } from '../lambdas/platform/trace-scope';
import { TossPaymentGateway } from '../lambdas/adapters/toss/toss-payment-gateway';
import { IDEMPOTENCY_RETENTION_DAYS } from '../lambdas/functions/shared/payment-api';
import {
  DEFAULT_TOSS_VIRTUAL_ACCOUNT_BANK,
  DEFAULT_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS,
  TOSS_SECRET_KEY_PLACEHOLDER,
} from '../lambdas/platform/payment-gateways';
import type { SecretSource } from '../lambdas/platform/secret-value';
import type { Clock } from '../lambdas/ports/clock';
import type { PaymentGateway } from '../lambdas/ports/payment-gateway';
import type { PgChangeDeps } from '../lambdas/use-cases/change-with-pg';
import { UsageError } from './errors';
import type { TossSelection } from './pg-selection';
import { requireTables, STORE_TABLE_KEYS, type StoreTables, type Target } from './target';

export interface PgAttemptDeps extends PgChangeDeps {
  readonly repository: DynamoDbPaymentRepository;
  readonly attempts: DynamoDbPaymentRepository;
}

/** The PG `attempts reconcile` asks, with what it needs to be reached. */
export type AttemptsPg = { readonly kind: 'sandbox'; readonly from: string; readonly ledgerTable: string } | TossSelection;

interface StoreOptions {
  readonly outboxRetentionDays: number;
}

/** The payment store (payments, Outbox, idempotency, PG attempts), as the functions keep it. */
export function createPaymentStore(documents: DynamoDBDocumentClient, tables: StoreTables, options: StoreOptions): DynamoDbPaymentRepository {
  return new DynamoDbPaymentRepository(
    documents,
    { payments: tables.payments, outbox: tables.outbox, idempotency: tables.idempotency, pgAttempts: tables.pgAttempts },
    { outboxDays: options.outboxRetentionDays, idempotencyDays: IDEMPOTENCY_RETENTION_DAYS },
    // One trace per CLI run: the events an operator's reconcile commits share it (and it shows in their logs downstream).
    () => cliRunTrace,
  );
}

const cliRunTrace = requestTraceContext(undefined, randomTraceIds);

/**
 * The store's tables and the PG `attempts reconcile` asks: the target's PG (pg-selection.ts) and,
 * on the sandbox, its ledger table. A usage error says what is missing and how to give it.
 * @throws UsageError
 */
export function requireReconcileSetup(target: Target): { readonly tables: StoreTables; readonly pg: AttemptsPg } {
  const selection = target.paymentGateway;
  if (selection.kind === 'unusable') throw new UsageError(selection.problem);
  if (selection.kind === 'toss') return { tables: requireTables(target, STORE_TABLE_KEYS), pg: selection };
  const { pgLedger, ...tables } = requireTables(target, [...STORE_TABLE_KEYS, 'pgLedger']);
  return { tables, pg: { kind: 'sandbox', from: selection.from, ledgerTable: pgLedger } };
}

export function createPgAttemptDeps(
  clients: { readonly documents: DynamoDBDocumentClient; readonly secretsManager: SecretsManagerClient },
  tables: StoreTables,
  pg: AttemptsPg,
  options: StoreOptions & {
    readonly clock: Clock;
    /** Toss's HTTP. @default globalThis.fetch */
    readonly fetch?: typeof fetch;
  },
): PgAttemptDeps {
  const repository = createPaymentStore(clients.documents, tables, options);
  const gateway: PaymentGateway =
    pg.kind === 'sandbox'
      ? new SandboxPaymentGateway(clients.documents, options.clock, { ledgerTable: pg.ledgerTable })
      : new TossPaymentGateway({
          baseUrl: pg.baseUrl,
          secretKey: secretKeyReader(pg.secretKey, clients.secretsManager),
          timeoutMs: pg.timeoutMs,
          // The CLI issues no account (it only looks the PG up); the functions' defaults.
          virtualAccount: { bank: DEFAULT_TOSS_VIRTUAL_ACCOUNT_BANK, validHours: DEFAULT_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS },
          clock: options.clock,
          ...(options.fetch && { fetch: options.fetch }),
        });
  return { repository, attempts: repository, gateway, clock: options.clock, ids: randomIds };
}

/** One line for the output: which PG, where, and what chose it (never the key). */
export function describeAttemptsPg(pg: AttemptsPg): string {
  return pg.kind === 'sandbox'
    ? `sandbox, over its ledger table ${pg.ledgerTable}; chosen by ${pg.from}`
    : `toss at ${pg.baseUrl}, secret key from ${pg.secretKeyFrom}; chosen by ${pg.from}`;
}

/**
 * The secret key, read once per run: the value itself, or the secret named by its ARN through
 * Secrets Manager (`GetSecretValue`, its `SecretString`, as the functions read it). A failed read
 * is not kept, so a later call tries again.
 * @throws Error naming the secret when it cannot be read, has no string value or still holds the
 *   placeholder the stack creates it with (TOSS_SECRET_KEY_PLACEHOLDER)
 */
export function secretKeyReader(source: SecretSource, secretsManager: SecretsManagerClient): () => Promise<string> {
  if ('value' in source) return () => Promise.resolve(source.value);
  let read: Promise<string> | undefined;
  return () => {
    read ??= fetchSecretString(secretsManager, source.arn).catch((error: unknown) => {
      read = undefined;
      throw error;
    });
    return read;
  };
}

async function fetchSecretString(secretsManager: SecretsManagerClient, arn: string): Promise<string> {
  let secret: string | undefined;
  try {
    ({ SecretString: secret } = await secretsManager.send(new GetSecretValueCommand({ SecretId: arn })));
  } catch (error) {
    const err = error as Error;
    throw new Error(`the Toss secret key could not be read from ${arn}: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}`, { cause: error });
  }
  if (secret === undefined || secret === '') throw new Error(`the Toss secret key's secret ${arn} has no string value`);
  if (secret === TOSS_SECRET_KEY_PLACEHOLDER) {
    throw new Error(`the Toss secret key's secret ${arn} still holds the stack's placeholder: put the key first (aws secretsmanager put-secret-value --secret-id ${arn} --secret-string <key>)`);
  }
  return secret;
}
