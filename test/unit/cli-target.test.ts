import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors';
import { requireReconcileSetup } from '../../cli/pg-attempt-deps';
import { parseEndpointsFile, pickOutboxTable, requireStoreTables, resolveTarget, type TargetContext } from '../../cli/target';

const FILE = '/repo/.local/endpoints.json';
const endpoints = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    apiUrl: 'http://127.0.0.1:3000/prod',
    region: 'us-east-1',
    sqsEndpoint: 'http://127.0.0.1:4566',
    dynamodbEndpoint: 'http://127.0.0.1:8000',
    queues: { 'payment-events.fifo': 'http://sqs.us-east-1.localhost:4566/000000000000/payment-events.fifo' },
    pgCallbackSecret: 's',
    ...extra,
  });

function context(files: Record<string, string>, env: Record<string, string> = {}): TargetContext {
  return { env, readText: (path) => files[path], defaultEndpointsFile: FILE };
}

describe('resolveTarget', () => {
  it('uses the local stack when its endpoints.json exists and no mode is given', () => {
    const target = resolveTarget({}, context({ [FILE]: endpoints() }, { OUTBOX_TABLE_NAME: 'aws-outbox' }));

    expect(target).toEqual({
      kind: 'local',
      source: FILE,
      region: 'us-east-1',
      dynamodbEndpoint: 'http://127.0.0.1:8000',
      sqsEndpoint: 'http://127.0.0.1:4566',
      queues: { 'payment-events.fifo': 'http://sqs.us-east-1.localhost:4566/000000000000/payment-events.fifo' },
      tables: {},
      paymentGateway: { kind: 'sandbox', from: `${FILE} (no "paymentGateway")` },
    });
  });

  it('takes the Outbox table from the "tables" key of endpoints.json, and a flag over it', () => {
    const files = { [FILE]: endpoints({ tables: { Outbox: 'StackTablesOutboxTable1', Payments: 'P' } }) };

    expect(resolveTarget({}, context(files))).toMatchObject({ kind: 'local', outboxTable: 'StackTablesOutboxTable1' });
    expect(resolveTarget({ outboxTable: 'mine', queueUrl: 'http://q' }, context(files))).toMatchObject({
      outboxTable: 'mine',
      paymentEventsQueueUrl: 'http://q',
    });
  });

  it('uses AWS when there is no endpoints.json, naming table and queue from the handlers\' variables', () => {
    const target = resolveTarget({}, context({}, { AWS_REGION: 'ap-northeast-2', OUTBOX_TABLE_NAME: 'Outbox-1', PAYMENT_EVENTS_QUEUE_URL: 'https://sqs/q.fifo' }));

    expect(target).toEqual({
      kind: 'aws',
      region: 'ap-northeast-2',
      outboxTable: 'Outbox-1',
      paymentEventsQueueUrl: 'https://sqs/q.fifo',
      queues: {},
      paymentGateway: { kind: 'sandbox', from: 'PAYMENT_GATEWAY unset (the default)' },
    });
  });

  it('lets --aws win over an existing endpoints.json and flags win over variables', () => {
    const target = resolveTarget(
      { mode: 'aws', region: 'eu-west-1', outboxTable: 'flag-table', queueUrl: 'https://flag' },
      context({ [FILE]: endpoints() }, { AWS_REGION: 'us-east-1', OUTBOX_TABLE_NAME: 'env-table' }),
    );

    expect(target).toMatchObject({ kind: 'aws', region: 'eu-west-1', outboxTable: 'flag-table', paymentEventsQueueUrl: 'https://flag' });
  });

  it('leaves the AWS region to the SDK chain when none is given', () => {
    expect(resolveTarget({ mode: 'aws' }, context({}))).toEqual({ kind: 'aws', queues: {}, paymentGateway: { kind: 'sandbox', from: 'PAYMENT_GATEWAY unset (the default)' } });
  });

  it('reads --endpoints and LOCAL_STATE_DIR instead of the default file', () => {
    const other = resolveTarget({ endpointsFile: '/tmp/e.json' }, context({ '/tmp/e.json': endpoints({ region: 'eu-central-1' }) }));
    const fromState = resolveTarget({}, { env: { LOCAL_STATE_DIR: '/state' }, readText: (p) => (p === '/state/endpoints.json' ? endpoints() : undefined) });

    expect(other).toMatchObject({ kind: 'local', source: '/tmp/e.json', region: 'eu-central-1' });
    expect(fromState).toMatchObject({ kind: 'local', source: '/state/endpoints.json' });
  });

  it('explains what to do when --local is asked for without a running local stack', () => {
    expect(() => resolveTarget({ mode: 'local' }, context({}))).toThrow(/does not exist. Start the local stack \(npm start\)/);
  });

  it('refuses a --region that differs from the local stack', () => {
    expect(() => resolveTarget({ region: 'eu-west-1' }, context({ [FILE]: endpoints() }))).toThrow(/runs in us-east-1/);
  });
});

describe('parseEndpointsFile', () => {
  it('names the missing or malformed field', () => {
    expect(() => parseEndpointsFile('{', FILE)).toThrow(`${FILE} is not JSON`);
    expect(() => parseEndpointsFile(JSON.stringify({ region: 'r', sqsEndpoint: 's' }), FILE)).toThrow('"dynamodbEndpoint" is missing');
    expect(() => parseEndpointsFile(endpoints({ queues: { a: 1 } }), FILE)).toThrow('"queues" must map names to strings');
  });
});

describe('pickOutboxTable', () => {
  it('finds the one table named after the OutboxTable logical id', () => {
    expect(pickOutboxTable(['TablesPaymentsTableA1', 'TablesOutboxTable9F2', 'TablesInboxTableX'])).toBe('TablesOutboxTable9F2');
  });

  it('gives up when no table or several tables match', () => {
    expect(pickOutboxTable(['Payments'])).toBeUndefined();
    expect(pickOutboxTable(['aOutboxTable1', 'bOutboxTable2'])).toBeUndefined();
  });
});

describe('requireStoreTables and requireReconcileSetup', () => {
  const localTables = {
    PaymentsTable: 'L-Payments',
    OutboxTable: 'L-Outbox',
    IdempotencyTable: 'L-Idempotency',
    PgAttemptsTable: 'L-Attempts',
    SandboxPgLedgerTable: 'L-Ledger',
    InboxTable: 'L-Inbox',
  };
  const awsEnv = {
    PAYMENTS_TABLE_NAME: 'E-Payments',
    OUTBOX_TABLE_NAME: 'E-Outbox',
    IDEMPOTENCY_TABLE_NAME: 'E-Idempotency',
    PG_ATTEMPTS_TABLE_NAME: 'E-Attempts',
    SANDBOX_PG_LEDGER_TABLE_NAME: 'E-Ledger',
  };

  it('takes the local tables from endpoints.json by logical id, and flags over them', () => {
    const files = { [FILE]: endpoints({ tables: localTables }) };

    expect(requireStoreTables(resolveTarget({}, context(files)))).toEqual({
      payments: 'L-Payments',
      outbox: 'L-Outbox',
      idempotency: 'L-Idempotency',
      pgAttempts: 'L-Attempts',
    });
    expect(requireReconcileSetup(resolveTarget({}, context(files)))).toEqual({
      tables: { payments: 'L-Payments', outbox: 'L-Outbox', idempotency: 'L-Idempotency', pgAttempts: 'L-Attempts' },
      pg: { kind: 'sandbox', from: `${FILE} (no "paymentGateway")`, ledgerTable: 'L-Ledger' },
    });
    expect(requireStoreTables(resolveTarget({ pgAttemptsTable: 'mine', outboxTable: 'O' }, context(files, awsEnv)))).toMatchObject({ pgAttempts: 'mine', outbox: 'O', payments: 'L-Payments' });
  });

  it('takes the AWS tables from the functions\' variables, and flags over them', () => {
    expect(requireStoreTables(resolveTarget({ mode: 'aws' }, context({}, awsEnv)))).toEqual({
      payments: 'E-Payments',
      outbox: 'E-Outbox',
      idempotency: 'E-Idempotency',
      pgAttempts: 'E-Attempts',
    });
    const flagged = resolveTarget({ mode: 'aws', paymentsTable: 'F-P', idempotencyTable: 'F-I', pgAttemptsTable: 'F-A', pgLedgerTable: 'F-L', outboxTable: 'F-O' }, context({}, awsEnv));
    expect(requireReconcileSetup(flagged)).toEqual({
      tables: { payments: 'F-P', outbox: 'F-O', idempotency: 'F-I', pgAttempts: 'F-A' },
      pg: { kind: 'sandbox', from: 'PAYMENT_GATEWAY unset (the default)', ledgerTable: 'F-L' },
    });
  });

  it('needs no ledger table to list attempts, nor to reconcile on Toss', () => {
    const { SANDBOX_PG_LEDGER_TABLE_NAME: _ledger, ...withoutLedger } = awsEnv;
    const aws = resolveTarget({ mode: 'aws' }, context({}, { ...withoutLedger, PAYMENT_GATEWAY: 'toss', TOSS_SECRET_KEY: 'test_sk_x' }));

    expect(requireStoreTables(aws)).toEqual({ payments: 'E-Payments', outbox: 'E-Outbox', idempotency: 'E-Idempotency', pgAttempts: 'E-Attempts' });
    expect(requireReconcileSetup(aws)).toMatchObject({ tables: { pgAttempts: 'E-Attempts' }, pg: { kind: 'toss', baseUrl: 'https://api.tosspayments.com' } });
    const local = resolveTarget(
      {},
      context({ [FILE]: endpoints({ tables: { ...localTables, SandboxPgLedgerTable: undefined }, paymentGateway: { kind: 'toss', baseUrl: 'http://127.0.0.1:4010', depositCallbackUrl: 'http://cb', local: { secretKey: 'test_sk_local_1', controlUrl: 'http://127.0.0.1:4010/_local' } } }) }),
    );
    expect(requireReconcileSetup(local)).toMatchObject({ tables: { payments: 'L-Payments' }, pg: { kind: 'toss', baseUrl: 'http://127.0.0.1:4010' } });
  });

  it('reports the PG\'s problem as a usage error when reconciling, and lets attempts list run without a PG', () => {
    const aws = resolveTarget({ mode: 'aws' }, context({}, { ...awsEnv, PAYMENT_GATEWAY: 'toss' }));

    expect(requireStoreTables(aws)).toMatchObject({ pgAttempts: 'E-Attempts' });
    expect(() => requireReconcileSetup(aws)).toThrow(UsageError);
    expect(() => requireReconcileSetup(aws)).toThrow(/^AWS mode on Toss \(PAYMENT_GATEWAY=toss\): the Toss secret key is missing: set TOSS_SECRET_KEY_ARN/);
  });

  it('names every missing table with its flag (and, on AWS, its variable) in a usage error', () => {
    const aws = resolveTarget({ mode: 'aws' }, context({}, { PAYMENTS_TABLE_NAME: 'P', OUTBOX_TABLE_NAME: 'O' }));
    expect(() => requireStoreTables(aws)).toThrow(UsageError);
    expect(() => requireStoreTables(aws)).toThrow(
      'AWS mode: table name(s) missing:\n' +
        '  IdempotencyTable: --idempotency-table <name> or IDEMPOTENCY_TABLE_NAME\n' +
        '  PgAttemptsTable: --pg-attempts-table <name> or PG_ATTEMPTS_TABLE_NAME',
    );
    expect(() => requireReconcileSetup(aws)).toThrow(
      'AWS mode: table name(s) missing:\n' +
        '  IdempotencyTable: --idempotency-table <name> or IDEMPOTENCY_TABLE_NAME\n' +
        '  PgAttemptsTable: --pg-attempts-table <name> or PG_ATTEMPTS_TABLE_NAME\n' +
        "  SandboxPgLedgerTable: --pg-ledger-table <name> or SANDBOX_PG_LEDGER_TABLE_NAME (the sandbox PG's; on a Toss stack set PAYMENT_GATEWAY=toss or pass --pg toss)",
    );
    const local = resolveTarget({}, context({ [FILE]: endpoints({ tables: { ...localTables, SandboxPgLedgerTable: undefined } }) }));
    expect(requireStoreTables(local)).toMatchObject({ payments: 'L-Payments' });
    expect(() => requireReconcileSetup(local)).toThrow(`local mode: table name(s) missing from the "tables" of ${FILE}:\n  SandboxPgLedgerTable: --pg-ledger-table <name>`);
  });

  it('rejects an OUTBOX_RETENTION_DAYS that is not a number of days', () => {
    expect(resolveTarget({ mode: 'aws' }, context({}, { OUTBOX_RETENTION_DAYS: '14' }))).toMatchObject({ outboxRetentionDays: 14 });
    expect(() => resolveTarget({ mode: 'aws' }, context({}, { OUTBOX_RETENTION_DAYS: 'two weeks' }))).toThrow(/OUTBOX_RETENTION_DAYS must be a whole number/);
  });
});
