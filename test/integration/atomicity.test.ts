/**
 * One state change = one TransactWriteItems, checked on DynamoDB Local: when the outbox put or the
 * idempotency put fails its condition, the payment is not changed either, and vice versa.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbPaymentRepository } from '../../lambdas/adapters/dynamodb-payment-repository';
import { IdempotencyRecordExistsError, PaymentVersionConflictError } from '../../lambdas/domain/errors';
import { confirmPayment, createPayment as createPaymentChange, type Payment } from '../../lambdas/domain/payment';
import { startTestStack, type LocalStack } from '../support/local-stack-harness';
import { confirm, createPayment, events } from '../support/payment-api-client';

let stack: LocalStack;
let repository: DynamoDbPaymentRepository;
beforeAll(async () => {
  stack = await startTestStack({ consumers: false, startPaused: true });
  repository = new DynamoDbPaymentRepository(
    stack.clients.documents,
    { payments: stack.tableName('Payments'), outbox: stack.tableName('Outbox'), idempotency: stack.tableName('Idempotency') },
    { outboxDays: 30, idempotencyDays: 30 },
  );
});
afterAll(() => stack?.stop());

const storedPayment = async (paymentId: string) =>
  (await stack.clients.documents.send(new GetCommand({ TableName: stack.tableName('Payments'), Key: { paymentId }, ConsistentRead: true })))
    .Item as Payment | undefined;

const storedRecord = async (key: string) =>
  (await stack.clients.documents.send(new GetCommand({ TableName: stack.tableName('Idempotency'), Key: { key }, ConsistentRead: true }))).Item;

describe('TransactWriteItems on DynamoDB Local', () => {
  it('leaves the payment unchanged when the outbox put fails its condition (the event already exists)', async () => {
    const payment = await createPayment(stack, 'CARD');
    // An event already sits at sequence 2: the confirm's outbox put must fail, and with it the payment update.
    await stack.clients.documents.send(
      new PutCommand({
        TableName: stack.tableName('Outbox'),
        Item: { aggregateId: payment.paymentId, sequence: 2, eventId: 'planted', type: 'payment.approved', aggregateType: 'payment', occurredAt: new Date().toISOString(), schemaVersion: 1, data: {} },
      }),
    );
    const response = await confirm(stack, payment.paymentId);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ error: { code: 'CONCURRENT_MODIFICATION' } });
    expect(await storedPayment(payment.paymentId)).toMatchObject({ status: 'READY', version: 1 });
    expect((await events(stack, payment.paymentId)).map((e) => e.eventId)).toEqual([expect.any(String), 'planted']);
  });

  it('leaves payment and outbox unchanged when the idempotency put fails its condition', async () => {
    const created = createPaymentChange(
      { paymentId: `atomic-${Date.now()}`, orderId: 'o-1', amount: 100, currency: 'USD', method: 'CARD' },
      { now: new Date().toISOString(), eventId: crypto.randomUUID() },
    );
    const record = { key: `api:atomic-${Date.now()}`, requestHash: 'first', paymentId: 'someone-else', statusCode: 201, response: created.payment, createdAt: new Date().toISOString() };
    await stack.clients.documents.send(new PutCommand({ TableName: stack.tableName('Idempotency'), Item: record }));

    await expect(repository.commit(created, { ...record, requestHash: 'second', paymentId: created.payment.paymentId })).rejects.toBeInstanceOf(
      IdempotencyRecordExistsError,
    );
    expect(await storedPayment(created.payment.paymentId)).toBeUndefined();
    expect((await stack.scanTable('Outbox')).filter((i) => i.aggregateId === created.payment.paymentId)).toEqual([]);
    expect(await storedRecord(record.key)).toMatchObject({ requestHash: 'first' });
  });

  it('writes neither event nor idempotency record when the payment version moved on', async () => {
    const payment = await createPayment(stack, 'CARD');
    const stale = confirmPayment({ ...payment, version: 0 } as Payment, { approved: true, pgTransactionId: 'tx' }, { now: new Date().toISOString(), eventId: crypto.randomUUID() });
    const key = `api:stale-${Date.now()}`;
    await expect(
      repository.commit(stale, { key, requestHash: 'h', paymentId: payment.paymentId, statusCode: 200, response: stale.payment, createdAt: new Date().toISOString() }),
    ).rejects.toBeInstanceOf(PaymentVersionConflictError);
    expect(await storedPayment(payment.paymentId)).toMatchObject({ version: 1, status: 'READY' });
    expect(await storedRecord(key)).toBeUndefined();
    expect((await events(stack, payment.paymentId)).map((e) => e.sequence)).toEqual([1]);
  });

  it('commits all three items together when every condition holds', async () => {
    const payment = await createPayment(stack, 'CARD');
    const change = confirmPayment(payment, { approved: true, pgTransactionId: 'tx' }, { now: new Date().toISOString(), eventId: crypto.randomUUID() });
    const key = `api:ok-${Date.now()}`;
    await repository.commit(change, { key, requestHash: 'h', paymentId: payment.paymentId, statusCode: 200, response: change.payment, createdAt: new Date().toISOString() });
    expect(await storedPayment(payment.paymentId)).toMatchObject({ version: 2, status: 'APPROVED' });
    expect(await storedRecord(key)).toMatchObject({ paymentId: payment.paymentId });
    expect((await events(stack, payment.paymentId)).map((e) => e.type)).toEqual(['payment.created', 'payment.approved']);
  });
});
