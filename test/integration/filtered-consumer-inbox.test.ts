/**
 * The DynamoDB inbox of @payment-outbox/consumer on DynamoDB Local, for a consumer whose subscription
 * filters event types: it commits on the sequence the guard read (`previousSequence`), so sequence 4
 * follows 2 when 3 is of a type it never receives, and a commit whose read went stale is refused.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lambdas/adapters/system-clock';
import { DynamoDbPaymentInbox, projectionKey } from '../../lambdas/adapters/dynamodb-inbox';
import { startTestStack, type LocalStack } from '../support/local-stack-harness';
import { envelope } from '../support/stream-events';

let stack: LocalStack;
let inbox: DynamoDbPaymentInbox;
beforeAll(async () => {
  stack = await startTestStack({ consumers: false, startPaused: true });
  inbox = new DynamoDbPaymentInbox(stack.clients.documents, { tableName: stack.tableName('Inbox'), retentionDays: 1 }, systemClock);
});
afterAll(() => stack?.stop());

const projection = async (paymentId: string) =>
  (await stack.clients.documents.send(new GetCommand({ TableName: stack.tableName('Inbox'), Key: { pk: projectionKey(paymentId) }, ConsistentRead: true }))).Item;

describe('DynamoDbPaymentInbox with previousSequence', () => {
  it('applies 2 on nothing, then 4 on 2, and refuses 5 on a stale 2', async () => {
    const paymentId = `filtered-${Date.now()}`;
    expect(await inbox.commit(envelope(paymentId, 2, { type: 'payment.approved' }), { status: 'APPROVED' }, 0)).toBe('applied');
    expect(await inbox.commit(envelope(paymentId, 4, { type: 'payment.cancelled' }), { status: 'CANCELLED' }, 2)).toBe('applied');
    expect(await inbox.commit(envelope(paymentId, 5, { type: 'payment.cancelled' }), { status: 'CANCELLED' }, 2)).toBe('sequence-moved');
    expect(await inbox.lastAppliedSequence(paymentId)).toBe(4);
    expect(await projection(paymentId)).toMatchObject({ lastSequence: 4, status: 'CANCELLED', appliedSequences: [2, 4], appliedCount: 2 });
  });

  it('without previousSequence, keeps the contiguous rule: 3 needs 2', async () => {
    const paymentId = `contiguous-${Date.now()}`;
    expect(await inbox.commit(envelope(paymentId, 1, { type: 'payment.created' }), { status: 'READY' })).toBe('applied');
    expect(await inbox.commit(envelope(paymentId, 3, { type: 'payment.cancelled' }), { status: 'CANCELLED' })).toBe('sequence-moved');
    expect(await inbox.commit(envelope(paymentId, 2, { type: 'payment.approved' }), { status: 'APPROVED' })).toBe('applied');
    expect(await inbox.lastAppliedSequence(paymentId)).toBe(2);
  });
});
