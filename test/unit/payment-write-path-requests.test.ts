/**
 * The DynamoDB requests each payment command sends, in order, through the use cases and the DynamoDB
 * adapter (aws-sdk-client-mock): a new payment without a key is one TransactWriteItems and nothing
 * else; with a key one GetItem of its record first; a confirm one TransactGetItems of the payment,
 * its attempts and the record. A read that comes back fails here.
 */
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbPaymentRepository } from '../../lambdas/adapters/dynamodb-payment-repository';
import { createPayment } from '../../lambdas/domain/payment';
import { OPEN_SHARD, OPEN_SHARD_ATTRIBUTE } from '../../lambdas/domain/pg-attempt-keys';
import { ChangeReadConflictError } from '../../lambdas/domain/errors';
import { confirmPaymentUseCase, createPaymentUseCase, type PaymentCommandDeps } from '../../lambdas/use-cases/payment-commands';
import { InMemoryPaymentGateway } from '../support/in-memory-payment-gateway';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const tables = { payments: 'Payments', outbox: 'Outbox', idempotency: 'Idempotency', pgAttempts: 'PgAttempts' };
const repository = new DynamoDbPaymentRepository(documentClient, tables, { outboxDays: 30, idempotencyDays: 7 });
const clock = { now: () => new Date('2026-11-25T10:00:00.000Z') };
const card = { orderId: 'order-1', amount: 15000, currency: 'KRW', method: 'CARD' } as const;
const ready = createPayment({ paymentId: 'pay-1', ...card }, { now: '2026-11-25T09:00:00.000Z', eventId: 'evt-0' }).payment;

let deps: PaymentCommandDeps;

beforeEach(() => {
  dynamo.reset();
  dynamo.on(TransactWriteCommand).resolves({});
  dynamo.on(GetCommand).resolves({});
  dynamo.on(TransactGetCommand).resolves({ Responses: [{ Item: ready }, {}, {}] });
  let id = 0;
  deps = { repository, attempts: repository, clock, ids: { newId: () => `id-${++id}` }, gateway: new InMemoryPaymentGateway(clock) };
});

/** Each request sent, as `<Command> <tables>`. */
function requests(): string[] {
  return dynamo.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: Record<string, any> };
    const items = (command.input.TransactItems ?? []) as Record<string, { TableName: string }>[];
    const tableNames = command.input.TableName ? [command.input.TableName] : items.flatMap((item) => Object.values(item).map((body) => body.TableName));
    return `${command.constructor.name} ${tableNames.join(',')}`;
  });
}

describe('requests per payment command', () => {
  it('creates a payment without an Idempotency-Key in one TransactWriteItems and no read', async () => {
    await createPaymentUseCase(deps, card);
    expect(requests()).toEqual(['TransactWriteCommand Payments,Outbox']);
  });

  it('creates a payment with a key after one GetItem of its record', async () => {
    await createPaymentUseCase(deps, card, 'k1');
    expect(requests()).toEqual(['GetCommand Idempotency', 'TransactWriteCommand Payments,Outbox,Idempotency']);
  });

  it('confirms after one TransactGetItems of the payment and its attempts (and the record with a key), then opens and closes the attempt', async () => {
    await confirmPaymentUseCase(deps, 'pay-1', { cardToken: 'tok_visa' });
    expect(requests()).toEqual([
      'TransactGetCommand Payments,PgAttempts,PgAttempts',
      'TransactWriteCommand Payments,PgAttempts',
      'TransactWriteCommand Payments,Outbox,PgAttempts',
    ]);
    dynamo.resetHistory();
    dynamo.on(TransactGetCommand).resolves({ Responses: [{ Item: { ...ready, paymentId: 'pay-2' } }, {}, {}, {}] });
    await confirmPaymentUseCase(deps, 'pay-2', { cardToken: 'tok_visa' }, 'k2');
    expect(requests()).toEqual([
      'TransactGetCommand Payments,Idempotency,PgAttempts,PgAttempts',
      'TransactWriteCommand Payments,PgAttempts',
      'TransactWriteCommand Payments,Outbox,Idempotency,PgAttempts',
    ]);
  });

  it('reads again after a read that met a transaction in flight, and then confirms', async () => {
    dynamo
      .on(TransactGetCommand)
      .rejectsOnce(new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }, { Code: 'None' }] }))
      .resolves({ Responses: [{ Item: ready }, {}, {}] });
    const outcome = await confirmPaymentUseCase({ ...deps, retry: { maxAttempts: 3, baseDelayMs: 0 } }, 'pay-1', { cardToken: 'tok_visa' });
    expect(outcome.payment.status).toBe('APPROVED');
    expect(dynamo.commandCalls(TransactGetCommand)).toHaveLength(2);
  });
});

describe('DynamoDbPaymentRepository.readForChange', () => {
  it('reads the payment alone with one consistent GetItem', async () => {
    dynamo.on(GetCommand, { TableName: 'Payments' }).resolves({ Item: ready });
    await expect(repository.readForChange({ paymentId: 'pay-1' })).resolves.toEqual({ payment: ready, attempts: [] });
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input).toEqual({ TableName: 'Payments', Key: { paymentId: 'pay-1' }, ConsistentRead: true });
  });

  it('maps the TransactGetItems answers back to the payment, the record (without its TTL) and the attempts it found', async () => {
    const record = { key: 'api:k', requestHash: 'h', paymentId: 'pay-1', statusCode: 200, response: ready, createdAt: ready.createdAt };
    const attempt = { paymentId: 'pay-1', operation: 'authorize', generation: 1, status: 'open', [OPEN_SHARD_ATTRIBUTE]: OPEN_SHARD };
    dynamo.on(TransactGetCommand).resolves({ Responses: [{ Item: ready }, { Item: { ...record, expiresAt: 1 } }, { Item: attempt }, {}] });
    const read = await repository.readForChange({ paymentId: 'pay-1', idempotencyKey: 'api:k', withAttempts: true });
    expect(read).toEqual({ payment: ready, idempotencyRecord: record, attempts: [{ paymentId: 'pay-1', operation: 'authorize', generation: 1, status: 'open' }] });
    expect(dynamo.commandCalls(TransactGetCommand)[0]?.args[0].input.TransactItems).toEqual([
      { Get: { TableName: 'Payments', Key: { paymentId: 'pay-1' } } },
      { Get: { TableName: 'Idempotency', Key: { key: 'api:k' } } },
      { Get: { TableName: 'PgAttempts', Key: { paymentId: 'pay-1', operation: 'authorize' } } },
      { Get: { TableName: 'PgAttempts', Key: { paymentId: 'pay-1', operation: 'refund' } } },
    ]);
  });

  it('translates a read cancelled by a transaction in flight into ChangeReadConflictError', async () => {
    dynamo.on(TransactGetCommand).rejects(
      new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] }),
    );
    await expect(repository.readForChange({ paymentId: 'pay-1', idempotencyKey: 'api:k' })).rejects.toBeInstanceOf(ChangeReadConflictError);
  });
});
