/**
 * Where a command runs. Local mode reads the local runner's `.local/endpoints.json` (emulator
 * endpoints, queue URLs, table names, the PG the stack calls); AWS mode uses the SDK's usual
 * region and credentials chain with the Outbox table, queue and PG named by flags or the
 * handlers' own environment variables (the PG: pg-selection.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient, paginateListTables } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../lambdas/platform/env-names';
import { LOCAL_CREDENTIALS } from '../local/clients';
import { endpointsFilePath, parseEndpointsFile } from '../local/endpoints-file';
import { DEFAULT_STATE_DIR } from '../local/paths';
import type { TargetOptions } from './args';
import { stackNames, type StackOutputs } from './stack-outputs';
import { UsageError } from './errors';
import { selectAwsPaymentGateway, selectLocalPaymentGateway, type PgSelection } from './pg-selection';

export { parseEndpointsFile };

/** The payment store's tables the attempts commands read and write. */
export interface StoreTables {
  readonly payments: string;
  readonly outbox: string;
  readonly idempotency: string;
  readonly pgAttempts: string;
}

/** A table the attempts commands may need: the store's, or the sandbox PG's ledger (`attempts reconcile` on the sandbox only). */
export type AttemptsTable = keyof StoreTables | 'pgLedger';

/** The store's tables, in the order a missing one is reported. */
export const STORE_TABLE_KEYS: readonly (keyof StoreTables)[] = ['payments', 'outbox', 'idempotency', 'pgAttempts'];

/** Per table: its CDK logical id (the local runner's `tables` key), its flag and the functions' variable. */
export const ATTEMPTS_TABLE_SOURCES: Readonly<Record<AttemptsTable, { readonly logicalId: string; readonly flag: string; readonly env: string }>> = {
  payments: { logicalId: 'PaymentsTable', flag: '--payments-table', env: ENV.paymentsTable },
  outbox: { logicalId: 'OutboxTable', flag: '--outbox-table', env: ENV.outboxTable },
  idempotency: { logicalId: 'IdempotencyTable', flag: '--idempotency-table', env: ENV.idempotencyTable },
  pgAttempts: { logicalId: 'PgAttemptsTable', flag: '--pg-attempts-table', env: ENV.pgAttemptsTable },
  pgLedger: { logicalId: 'SandboxPgLedgerTable', flag: '--pg-ledger-table', env: ENV.sandboxPgLedgerTable },
};

/** Days an event committed by the CLI is kept (its `expiresAt`), as the functions' OUTBOX_RETENTION_DAYS default. */
export const DEFAULT_OUTBOX_RETENTION_DAYS = 30;


export type Target =
  | {
      readonly kind: 'local';
      /** The endpoints.json it came from. */
      readonly source: string;
      readonly region: string;
      readonly dynamodbEndpoint: string;
      readonly sqsEndpoint: string;
      readonly queues: Readonly<Record<string, string>>;
      readonly tables: Readonly<Record<string, string>>;
      /** `--outbox-table`, else `tables.Outbox`/`tables.OutboxTable`; else discovered with ListTables. */
      readonly outboxTable?: string;
      /** `--queue-url` only (the environment describes AWS, not the local stack). */
      readonly paymentEventsQueueUrl?: string;
      /** The store's other tables found so far (the Outbox's is `outboxTable`): flags, else endpoints.json `tables` by logical id. */
      readonly storeTables?: Partial<Record<AttemptsTable, string>>;
      /** The PG the stack calls (endpoints.json `paymentGateway`), for `attempts reconcile`. */
      readonly paymentGateway: PgSelection;
    }
  | {
      readonly kind: 'aws';
      /** undefined = the SDK's chain (AWS_REGION, profile config). */
      readonly region?: string;
      /** `--stack NAME`: the deployed stack whose outputs named the tables and queues. */
      readonly stackName?: string;
      readonly outboxTable?: string;
      readonly paymentEventsQueueUrl?: string;
      readonly queues: Readonly<Record<string, string>>;
      /** The store's other tables found so far (the Outbox's is `outboxTable`): flags, else the functions' variables. */
      readonly storeTables?: Partial<Record<AttemptsTable, string>>;
      /** OUTBOX_RETENTION_DAYS when set (the stack's retention), for events the CLI commits. */
      readonly outboxRetentionDays?: number;
      /** The PG the stack calls (`--pg`, else the functions' variables), for `attempts reconcile`. */
      readonly paymentGateway: PgSelection;
    };

/** What target resolution may read; injectable for tests. */
export interface TargetContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The file's text, or undefined when it does not exist. */
  readText(path: string): string | undefined;
  /** @default `<repo>/.local` (or LOCAL_STATE_DIR) + `/endpoints.json` */
  readonly defaultEndpointsFile?: string;
  /** `--stack NAME`: the stack's outputs (DescribeStacks, read before resolving). */
  readonly stack?: StackOutputs;
}

export const processTargetContext: TargetContext = {
  env: process.env,
  readText: (path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined),
};

/** The endpoints.json the local runner writes: `$LOCAL_STATE_DIR/endpoints.json`, else `<repo>/.local/endpoints.json`. */
export function defaultEndpointsFile(env: TargetContext['env']): string {
  return endpointsFilePath(env.LOCAL_STATE_DIR ? resolve(env.LOCAL_STATE_DIR) : DEFAULT_STATE_DIR);
}

/**
 * Picks local or AWS mode and collects names. `--local` / `--aws` decide; without either, local
 * mode when endpoints.json exists.
 * @throws Error with what to do when local mode is asked for and the file is missing or unreadable
 */
export function resolveTarget(options: TargetOptions, context: TargetContext = processTargetContext): Target {
  const file = options.endpointsFile ? resolve(options.endpointsFile) : (context.defaultEndpointsFile ?? defaultEndpointsFile(context.env));
  const text = options.mode === 'aws' ? undefined : context.readText(file);
  const mode = options.mode ?? (text === undefined ? 'aws' : 'local');

  if (mode === 'aws') {
    // Flags first, then the stack's outputs (--stack), then the functions' variables.
    const fromStack = context.stack && stackNames(context.stack);
    const env = { ...context.env, ...fromStack?.env };
    const region = options.region ?? context.env.AWS_REGION ?? context.env.AWS_DEFAULT_REGION;
    const outboxTable = options.outboxTable ?? fromStack?.tables.outbox ?? nonBlank(env[ENV.outboxTable]);
    const queueUrl = options.queueUrl ?? fromStack?.paymentEventsQueueUrl ?? nonBlank(env[ENV.paymentEventsQueueUrl]);
    const storeTables = storeTablesOf(options, (source, table) => fromStack?.tables[table] ?? nonBlank(env[source.env]));
    const retention = nonBlank(env[ENV.outboxRetentionDays]);
    if (retention !== undefined && !/^\d+$/.test(retention.trim())) throw new Error(`${ENV.outboxRetentionDays} must be a whole number of days (got "${retention}")`);
    return {
      kind: 'aws',
      ...(region !== undefined && { region }),
      ...(context.stack && { stackName: context.stack.stackName }),
      ...(outboxTable !== undefined && { outboxTable }),
      ...(queueUrl !== undefined && { paymentEventsQueueUrl: queueUrl }),
      queues: fromStack?.queues ?? {},
      ...(storeTables && { storeTables }),
      ...(retention !== undefined && { outboxRetentionDays: Number(retention) }),
      paymentGateway: selectAwsPaymentGateway({ ...(options.paymentGateway && { override: options.paymentGateway }), env }),
    };
  }

  if (text === undefined) {
    throw new Error(`local mode: ${file} does not exist. Start the local stack (npm start), pass --endpoints <file>, or use --aws.`);
  }
  const endpoints = parseEndpointsFile(text, file);
  if (options.region !== undefined && options.region !== endpoints.region) {
    throw new Error(`local mode: the local stack runs in ${endpoints.region}; --region ${options.region} does not apply`);
  }
  const { tables } = endpoints;
  const outboxTable = options.outboxTable ?? tables.Outbox ?? tables.OutboxTable;
  const storeTables = storeTablesOf(options, (source) => nonBlank(tables[source.logicalId]));
  return {
    kind: 'local',
    source: file,
    region: endpoints.region,
    dynamodbEndpoint: endpoints.dynamodbEndpoint,
    sqsEndpoint: endpoints.sqsEndpoint,
    queues: endpoints.queues,
    tables,
    ...(outboxTable !== undefined && { outboxTable }),
    ...(options.queueUrl !== undefined && { paymentEventsQueueUrl: options.queueUrl }),
    ...(storeTables && { storeTables }),
    paymentGateway: selectLocalPaymentGateway({ text, file, ...(options.paymentGateway && { override: options.paymentGateway }), env: context.env }),
  };
}

/** Flags first, then `fallback`, per table (the Outbox's is `outboxTable`); undefined when none is known. */
function storeTablesOf(
  options: TargetOptions,
  fallback: (source: (typeof ATTEMPTS_TABLE_SOURCES)[AttemptsTable], table: AttemptsTable) => string | undefined,
): Partial<Record<AttemptsTable, string>> | undefined {
  const flags: Record<Exclude<AttemptsTable, 'outbox'>, string | undefined> = {
    payments: options.paymentsTable,
    idempotency: options.idempotencyTable,
    pgAttempts: options.pgAttemptsTable,
    pgLedger: options.pgLedgerTable,
  };
  const found: Partial<Record<AttemptsTable, string>> = {};
  for (const key of Object.keys(flags) as (keyof typeof flags)[]) {
    const name = flags[key] ?? fallback(ATTEMPTS_TABLE_SOURCES[key], key);
    if (name !== undefined) found[key] = name;
  }
  return Object.keys(found).length > 0 ? found : undefined;
}

/** The payment store's tables (what `attempts list` reads). @throws UsageError as {@link requireTables} */
export function requireStoreTables(target: Target): StoreTables {
  return requireTables(target, STORE_TABLE_KEYS);
}

/**
 * The named tables, or a usage error naming each one missing and how to name it (a flag or the
 * functions' variable on AWS; a flag or endpoints.json locally).
 * @throws UsageError
 */
export function requireTables<K extends AttemptsTable>(target: Target, keys: readonly K[]): Record<K, string> {
  const found: Partial<Record<AttemptsTable, string>> = { ...target.storeTables, ...(target.outboxTable !== undefined && { outbox: target.outboxTable }) };
  const missing = keys.filter((key) => found[key] === undefined);
  if (missing.length === 0) return Object.fromEntries(keys.map((key) => [key, found[key]])) as Record<K, string>;
  const how = missing.map((key) => {
    const source = ATTEMPTS_TABLE_SOURCES[key];
    const hint = key === 'pgLedger' && target.kind === 'aws' ? ` (the sandbox PG's; on a Toss stack set ${ENV.paymentGateway}=toss or pass --pg toss)` : '';
    return `\n  ${source.logicalId}: ${source.flag} <name>${target.kind === 'aws' ? ` or ${source.env}` : ''}${hint}`;
  });
  const where = target.kind === 'aws' ? 'AWS mode: table name(s) missing' : `local mode: table name(s) missing from the "tables" of ${target.source}`;
  throw new UsageError(`${where}:${how.join('')}`);
}

export interface TargetClients {
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** AWS mode: the Toss secret key named by TOSS_SECRET_KEY_ARN (the local stack has no Secrets Manager). */
  readonly secretsManager: SecretsManagerClient;
  destroy(): void;
}

/**
 * SDK clients for the target. The SQS client always sends to its configured endpoint
 * (`useQueueUrlAsEndpoint: false`): the emulator's queue URLs name a host that may not resolve;
 * on AWS the endpoint and the queue URL's host are the same.
 */
export function createClients(target: Target): TargetClients {
  const common =
    target.kind === 'local'
      ? { region: target.region, credentials: LOCAL_CREDENTIALS }
      : target.region !== undefined
        ? { region: target.region }
        : {};
  const dynamodb = new DynamoDBClient({ ...common, ...(target.kind === 'local' && { endpoint: target.dynamodbEndpoint }) });
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = new SQSClient({ ...common, useQueueUrlAsEndpoint: false, ...(target.kind === 'local' && { endpoint: target.sqsEndpoint }) });
  const secretsManager = new SecretsManagerClient(common);
  return {
    dynamodb,
    documents,
    sqs,
    secretsManager,
    destroy() {
      documents.destroy();
      dynamodb.destroy();
      sqs.destroy();
      secretsManager.destroy();
    },
  };
}

/**
 * The Outbox table's name: given, or (local mode) the one table whose name contains `OutboxTable`
 * (the local runner names tables after their CDK logical ids).
 */
export async function resolveOutboxTable(target: Target, dynamodb: DynamoDBClient): Promise<string> {
  if (target.outboxTable !== undefined) return target.outboxTable;
  if (target.kind === 'aws') {
    throw new Error(`name the Outbox table: --stack <stack name>, --outbox-table <name> or ${ENV.outboxTable} (the stack's OutboxTable resource)`);
  }
  const names: string[] = [];
  for await (const page of paginateListTables({ client: dynamodb }, {})) names.push(...(page.TableNames ?? []));
  const found = pickOutboxTable(names);
  if (found === undefined) {
    throw new Error(`local mode: no single Outbox table among ${names.length === 0 ? 'no tables' : names.join(', ')}; pass --outbox-table <name>`);
  }
  return found;
}

/** The one name containing `OutboxTable` (else `Outbox`), or undefined when none or several match. */
export function pickOutboxTable(names: readonly string[]): string | undefined {
  for (const fragment of ['OutboxTable', 'Outbox']) {
    const matches = names.filter((name) => name.includes(fragment));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) return undefined;
  }
  return undefined;
}

function nonBlank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
