/**
 * The local runner does not enforce IAM, so this test does it: every DynamoDB call each function makes on
 * the local stack is recorded (through the runner's per-function client hook) and turned into the IAM
 * actions AWS would authorize it by (a TransactWriteItems item by item: Put → PutItem, Update → UpdateItem,
 * Delete → DeleteItem, ConditionCheck → ConditionCheckItem). Then, against the synthesized template:
 * - every call of every function is granted to its role, on that table (or index) ARN;
 * - every DynamoDB action granted to an API route or the example consumer is used by some call of the
 *   scenario, which drives each of their code paths (so a grant wider than the code fails here too).
 * On the sandbox PG and on Toss (tools/toss-local).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../lambdas/domain/payment';
import type { AwsClients } from '../../lambdas/platform/aws-clients';
import type { TossLocalServer } from '../../tools/toss-local/server';
import { actionsOf, resourcesOf, statementsOfFunction } from '../support/cdk-stack';
import { callApi, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { createPayment, deposit, eventually, newOrderId } from '../support/payment-api-client';

/** One authorized DynamoDB action of a call: on a table (by physical name), or on one of its indexes. */
interface DynamoDbUse {
  readonly action: string;
  readonly tableName: string;
  readonly indexName?: string;
}

/** The IAM action of each single-item or single-table command (document client and low-level names). */
const SINGLE_ACTIONS: Readonly<Record<string, string>> = {
  GetCommand: 'GetItem',
  GetItemCommand: 'GetItem',
  PutCommand: 'PutItem',
  PutItemCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  UpdateItemCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  DeleteItemCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
};

/** The IAM action of each kind of transaction item ("Using IAM with DynamoDB transactions"). */
const TRANSACT_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/** What AWS authorizes a DynamoDB command by. */
function dynamoDbUsesOf(commandName: string, input: Record<string, any>): DynamoDbUse[] {
  const single = SINGLE_ACTIONS[commandName];
  if (single) return [{ action: single, tableName: input.TableName, ...(input.IndexName !== undefined && { indexName: input.IndexName }) }];
  if (commandName.startsWith('Transact')) {
    return (input.TransactItems as Record<string, { TableName: string }>[]).flatMap((item) =>
      Object.entries(item).map(([kind, body]) => ({ action: TRANSACT_ITEM_ACTIONS[kind] ?? `?${kind}`, tableName: body.TableName })),
    );
  }
  if (commandName.startsWith('BatchGet')) return Object.keys(input.RequestItems).map((tableName) => ({ action: 'BatchGetItem', tableName }));
  if (commandName.startsWith('BatchWrite')) return Object.keys(input.RequestItems).map((tableName) => ({ action: 'BatchWriteItem', tableName }));
  return [{ action: `?${commandName}`, tableName: String(input.TableName) }];
}

/** Records every DynamoDB call of every local function, by function logical id. */
function recordingClients() {
  const uses = new Map<string, DynamoDbUse[]>();
  const instrumented = new WeakSet<DynamoDBDocumentClient>();
  const hook = (fn: { readonly logicalId: string }, clients: AwsClients): AwsClients => {
    if (!instrumented.has(clients.documents)) {
      instrumented.add(clients.documents);
      clients.documents.middlewareStack.add(
        (next, context) => async (args) => {
          const list = uses.get(fn.logicalId) ?? [];
          list.push(...dynamoDbUsesOf(context.commandName ?? '', args.input as Record<string, any>));
          uses.set(fn.logicalId, list);
          return next(args);
        },
        { step: 'initialize', name: 'iamGrantsRecorder', priority: 'high' },
      );
    }
    return clients;
  };
  return { uses, hook };
}

/** `dynamodb:<action> on <table logical id>[/index/<name>]` for each use, deduplicated and sorted. */
function describeUses(stack: LocalStack, uses: readonly DynamoDbUse[]): string[] {
  const logicalIdOf = new Map([...stack.tables].map(([logicalId, table]) => [table.tableName, logicalId]));
  const lines = uses.map(
    (use) => `dynamodb:${use.action} on ${logicalIdOf.get(use.tableName) ?? `?${use.tableName}`}${use.indexName ? `/index/${use.indexName}` : ''}`,
  );
  return [...new Set(lines)].sort();
}

/** The same lines for what the template grants the function's role on the stack's tables. */
function describeGrants(stack: LocalStack, template: Template, functionId: string): string[] {
  const tableIds = [...stack.tables.keys()];
  const lines: string[] = [];
  for (const statement of statementsOfFunction(template, functionId)) {
    if (statement.Effect !== 'Allow') continue;
    for (const resource of resourcesOf(statement)) {
      const json = JSON.stringify(resource);
      const tableId = tableIds.find((id) => json.includes(`"${id}"`));
      if (!tableId) continue;
      const index = /\/index\/([^"]+)"/.exec(json)?.[1];
      const isStream = json.includes('StreamArn');
      if (isStream) continue;
      for (const action of actionsOf(statement).filter((candidate) => candidate.startsWith('dynamodb:'))) {
        lines.push(`${action} on ${tableId}${index ? `/index/${index}` : ''}`);
      }
    }
  }
  return [...new Set(lines)].sort();
}

/** The route functions and the example consumer, by entry: their grants must be exactly what the scenario used. */
const EXACT_ENTRIES = [
  'lambdas/functions/create-payment/entry.ts',
  'lambdas/functions/get-payment/entry.ts',
  'lambdas/functions/confirm-payment/entry.ts',
  'lambdas/functions/cancel-payment/entry.ts',
  'lambdas/functions/list-payment-events/entry.ts',
  'lambdas/functions/list-payment-deliveries/entry.ts',
  'lambdas/functions/example-consumer/entry.ts',
];

function functionIdsByEntry(template: Template): Map<string, string> {
  return new Map(
    Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, fn]) => [fn.Metadata?.['payment-outbox:entry'] as string, id]),
  );
}

function expectGrantsCoverUses(stack: LocalStack, uses: ReadonlyMap<string, DynamoDbUse[]>): void {
  const template = Template.fromJSON(stack.template as unknown as Record<string, unknown>);
  const missing = [...uses].flatMap(([functionId, list]) => {
    const granted = new Set(describeGrants(stack, template, functionId));
    return describeUses(stack, list)
      .filter((line) => !granted.has(line))
      .map((line) => `${functionId}: ${line}`);
  });
  expect(missing).toEqual([]);
  expect(uses.size).toBeGreaterThan(EXACT_ENTRIES.length);
}

function expectGrantsExactlyUsed(stack: LocalStack, uses: ReadonlyMap<string, DynamoDbUse[]>, entries: readonly string[]): void {
  const template = Template.fromJSON(stack.template as unknown as Record<string, unknown>);
  const ids = functionIdsByEntry(template);
  for (const entry of entries) {
    const id = ids.get(entry);
    expect(id, entry).toBeDefined();
    const used = describeUses(stack, uses.get(id!) ?? []);
    // The sandbox PG's ledger is the gateway's grant (SandboxPaymentGateway), not the route's.
    const granted = describeGrants(stack, template, id!).filter((line) => !line.endsWith(' on SandboxPgLedgerTable'));
    expect(used.filter((line) => !line.endsWith(' on SandboxPgLedgerTable')), entry).toEqual(granted);
  }
}

const withKey = (key: string) => ({ 'Idempotency-Key': key });
const uniqueKey = (what: string) => `${what}-${newOrderId()}`;

describe('DynamoDB grants against the calls the code makes, on the sandbox PG', () => {
  let stack: LocalStack;
  const recorder = recordingClients();

  beforeAll(async () => {
    stack = await startTestStack({ consumers: true, functionClients: recorder.hook });
  });
  afterAll(() => stack?.stop());

  it('drives every code path of the routes and the example consumer', async () => {
    // Card: create (with a key), confirm (opens and closes an attempt), cancel with a refund.
    const card = await createPayment(stack, 'CARD', { idempotencyKey: uniqueKey('create') });
    expect((await callApi(stack, 'POST', `/payments/${card.paymentId}/confirm`, { body: { cardToken: 'tok_visa' }, headers: withKey(uniqueKey('confirm')) })).status).toBe(200);
    expect((await callApi(stack, 'POST', `/payments/${card.paymentId}/cancel`, { body: { reason: 'refund' }, headers: withKey(uniqueKey('cancel')) })).status).toBe(200);
    // Virtual account: deposit callback; another cancelled before any deposit (no PG money, no open attempt allowed).
    const account = await createPayment(stack, 'VIRTUAL_ACCOUNT', { amount: 30_000 });
    expect((await deposit(stack, account)).status).toBe(200);
    const unpaid = await createPayment(stack, 'VIRTUAL_ACCOUNT', { amount: 10_000 });
    expect((await callApi(stack, 'POST', `/payments/${unpaid.paymentId}/cancel`, { body: { reason: 'changed mind' } })).status).toBe(200);
    // Reads.
    expect((await callApi(stack, 'GET', `/payments/${card.paymentId}`)).status).toBe(200);
    expect((await callApi(stack, 'GET', `/payments/${card.paymentId}/events`)).status).toBe(200);
    expect((await callApi(stack, 'GET', `/payments/${card.paymentId}/deliveries`)).status).toBe(200);
    // The consumer applies the events (its projection reaches the card's last sequence).
    await eventually(async () => {
      const items = await stack.scanTable('Inbox');
      return items.some((item) => item.pk === `payment#${card.paymentId}` && item.lastSequence === 3) ? true : undefined;
    }, 30_000, 'the consumer applied the card payment\'s three events');
  }, 90_000);

  it('grants every DynamoDB call of every function, on that table or index ARN', () => {
    expectGrantsCoverUses(stack, recorder.uses);
  });

  it('grants the routes and the example consumer no DynamoDB action their code did not use', () => {
    expectGrantsExactlyUsed(stack, recorder.uses, [...EXACT_ENTRIES, 'lambdas/functions/pg-deposit-callback/entry.ts']);
  });
});

describe('DynamoDB grants against the calls the code makes, on Toss', () => {
  let stack: LocalStack;
  let toss: TossLocalServer;
  const recorder = recordingClients();

  beforeAll(async () => {
    stack = await startTestStack({
      consumers: true,
      paymentGateway: { kind: 'toss-local', port: 0, webhookRetryDelaysMs: [100, 200, 400] },
      functionClients: recorder.hook,
    });
    toss = stack.tossLocal as TossLocalServer;
  });
  afterAll(() => stack?.stop());

  it('drives every code path of the routes and the example consumer', async () => {
    const card = await createPayment(stack, 'CARD', { idempotencyKey: uniqueKey('create') });
    const session = toss.createPaymentSession({ orderId: card.paymentId, amount: card.amount });
    const confirmed = await callApi(stack, 'POST', `/payments/${card.paymentId}/confirm`, {
      body: { paymentKey: session.paymentKey },
      headers: withKey(uniqueKey('confirm')),
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect((await callApi(stack, 'POST', `/payments/${card.paymentId}/cancel`, { body: { reason: 'refund' }, headers: withKey(uniqueKey('cancel')) })).status).toBe(200);
    // Virtual account: Toss's deposit callback (checked against the stored callback secret).
    const account = await createPayment(stack, 'VIRTUAL_ACCOUNT', { amount: 30_000 });
    const deposited = await toss.deposit(account.paymentId);
    expect(await deposited.delivery).toMatchObject({ outcome: 'delivered' });
    const unpaid: Payment = await createPayment(stack, 'VIRTUAL_ACCOUNT', { amount: 10_000 });
    expect((await callApi(stack, 'POST', `/payments/${unpaid.paymentId}/cancel`, { body: { reason: 'changed mind' } })).status).toBe(200);
    expect((await callApi(stack, 'GET', `/payments/${card.paymentId}`)).status).toBe(200);
    expect((await callApi(stack, 'GET', `/payments/${card.paymentId}/events`)).status).toBe(200);
    expect((await callApi(stack, 'GET', `/payments/${card.paymentId}/deliveries`)).status).toBe(200);
    await eventually(async () => {
      const items = await stack.scanTable('Inbox');
      return items.some((item) => item.pk === `payment#${card.paymentId}` && item.lastSequence === 3) ? true : undefined;
    }, 30_000, 'the consumer applied the card payment\'s three events');
  }, 90_000);

  it('grants every DynamoDB call of every function, on that table or index ARN', () => {
    expectGrantsCoverUses(stack, recorder.uses);
  });

  it('grants the routes and the example consumer no DynamoDB action their code did not use', () => {
    expectGrantsExactlyUsed(stack, recorder.uses, [...EXACT_ENTRIES, 'lambdas/functions/toss-deposit-callback/entry.ts']);
  });
});
