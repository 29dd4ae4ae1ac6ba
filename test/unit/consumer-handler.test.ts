import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type GetCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { exampleConsumer } from '../../lambdas/functions/example-consumer/example-consumer';
import { lambdaContext } from '../support/api-events';
import { testRuntime } from '../support/function-runtime';
import { messageIdsOf, sqsEvent, sqsRecord } from '../support/sqs-events';
import { envelope } from '../support/stream-events';

const NOW = new Date('2026-11-25T01:00:00.000Z');
/** The consumer's configuration, read the way its Lambda entry reads it. */
const config = exampleConsumer.configFromEnv({ INBOX_TABLE_NAME: 'Inbox', INBOX_RETENTION_DAYS: '7' });
const dynamo = mockClient(DynamoDBDocumentClient);

function cancelled(inbox: string, projection: string): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: [{ Code: inbox }, { Code: projection }],
  });
}

/**
 * A stand-in for the Inbox table that evaluates the two conditions the adapter writes
 * (inbox item must not exist; projection must not exist for sequence 1, else be at sequence - 1).
 * The real expressions run against DynamoDB Local in the integration tests.
 */
class InboxTable {
  readonly lastSequence = new Map<string, number>();
  readonly inbox = new Set<string>();

  get(input: GetCommandInput) {
    const last = this.lastSequence.get(String(input.Key?.pk));
    return { Item: last === undefined ? undefined : { lastSequence: last } };
  }

  transact(input: TransactWriteCommandInput) {
    const put = input.TransactItems?.[0]?.Put;
    const update = input.TransactItems?.[1]?.Update;
    if (!put || !update) throw new Error('expected Put + Update');
    const inboxPk = String(put.Item?.pk);
    const projectionPk = String(update.Key?.pk);
    const values = update.ExpressionAttributeValues ?? {};
    const last = this.lastSequence.get(projectionPk);
    const projectionOk =
      update.ConditionExpression === 'attribute_not_exists(pk)' ? last === undefined : last === values[':previous'];
    const inboxOk = !this.inbox.has(inboxPk);
    if (!inboxOk || !projectionOk) {
      throw cancelled(inboxOk ? 'None' : 'ConditionalCheckFailed', projectionOk ? 'None' : 'ConditionalCheckFailed');
    }
    this.inbox.add(inboxPk);
    this.lastSequence.set(projectionPk, values[':sequence'] as number);
    return {};
  }
}

let table: InboxTable;
let handler: ReturnType<typeof exampleConsumer.createHandler>;

beforeEach(() => {
  handler = exampleConsumer.createHandler(config, testRuntime());
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  dynamo.reset();
  table = new InboxTable();
  dynamo.on(GetCommand).callsFake((input: GetCommandInput) => table.get(input));
  dynamo.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => table.transact(input));
});
afterEach(() => {
  vi.useRealTimers();
});

async function consume(records: SQSRecord[]): Promise<SQSBatchResponse> {
  return handler(sqsEvent(records), lambdaContext as unknown as Context);
}

const transactions = () => dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);
/** The projection updates committed, as `<pk>@<sequence>`. */
const appliedSequences = () =>
  transactions().map((t) => {
    const update = t.TransactItems?.[1]?.Update;
    return `${String(update?.Key?.pk)}@${String(update?.ExpressionAttributeValues?.[':sequence'])}`;
  });

describe('example consumer', () => {
  it('applies a payment’s events in order, each in one transaction with its inbox item', async () => {
    const records = [
      sqsRecord(envelope('A', 1)),
      sqsRecord(envelope('B', 1)),
      sqsRecord(envelope('A', 2, { type: 'payment.approved' })),
      sqsRecord(envelope('A', 3, { type: 'payment.cancelled' })),
    ];

    const response = await consume(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(appliedSequences()).toEqual(['payment#A@1', 'payment#B@1', 'payment#A@2', 'payment#A@3']);
    expect(table.lastSequence).toEqual(new Map([['payment#A', 3], ['payment#B', 1]]));
    const reads = dynamo.commandCalls(GetCommand).map((call) => call.args[0].input);
    expect(reads.every((read) => read.ConsistentRead === true && read.TableName === 'Inbox')).toBe(true);
  });

  it('writes the inbox item with a TTL and updates the projection on condition of the previous sequence', async () => {
    table.lastSequence.set('payment#A', 1);

    await consume([sqsRecord(envelope('A', 2, { type: 'payment.approved' }))]);

    const [transaction] = transactions();
    expect(transaction?.TransactItems).toEqual([
      {
        Put: {
          TableName: 'Inbox',
          Item: {
            pk: 'event#evt-A-2',
            eventId: 'evt-A-2',
            type: 'payment.approved',
            aggregateId: 'A',
            sequence: 2,
            processedAt: NOW.toISOString(),
            expiresAt: NOW.getTime() / 1000 + 7 * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Update: {
          TableName: 'Inbox',
          Key: { pk: 'payment#A' },
          UpdateExpression:
            'SET #status = :status, paymentId = :paymentId, lastSequence = :sequence, lastEventId = :eventId, ' +
            'updatedAt = :now, appliedSequences = list_append(if_not_exists(appliedSequences, :none), :applied) ' +
            'ADD appliedCount :one',
          ConditionExpression: 'lastSequence = :previous',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': 'APPROVED',
            ':paymentId': 'A',
            ':sequence': 2,
            ':eventId': 'evt-A-2',
            ':now': NOW.toISOString(),
            ':none': [],
            ':applied': [2],
            ':one': 1,
            ':previous': 1,
          },
        },
      },
    ]);
  });

  it('conditions the first event of a payment on the projection not existing', async () => {
    await consume([sqsRecord(envelope('A', 1))]);

    const update = transactions()[0]?.TransactItems?.[1]?.Update;
    expect(update?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(update?.ExpressionAttributeValues).not.toHaveProperty(':previous');
  });

  it('acknowledges a duplicate event id without effect when the inbox already holds it', async () => {
    // Another delivery committed event A-2 between this one's read and its write.
    dynamo.on(GetCommand).resolves({ Item: { lastSequence: 1 } });
    dynamo.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed'));

    const response = await consume([sqsRecord(envelope('A', 2))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('skips a redelivered or older sequence without writing', async () => {
    table.lastSequence.set('payment#A', 5);

    const response = await consume([sqsRecord(envelope('A', 3)), sqsRecord(envelope('A', 5))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('fails a message after a gap and the rest of its group, while another group succeeds', async () => {
    table.lastSequence.set('payment#A', 1);
    const gap = sqsRecord(envelope('A', 3));
    const other = sqsRecord(envelope('B', 1));
    const afterGap = sqsRecord(envelope('A', 4));

    const response = await consume([gap, other, afterGap]);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(messageIdsOf([gap, afterGap]));
    expect(appliedSequences()).toEqual(['payment#B@1']);
    expect(table.lastSequence.get('payment#A')).toBe(1);
  });

  it('fails a malformed body and the rest of its group, but not other groups', async () => {
    const garbage = sqsRecord('{"eventId": ', { groupId: 'A' });
    const sameGroup = sqsRecord(envelope('A', 1));
    const otherGroup = sqsRecord(envelope('B', 1));

    const response = await consume([garbage, sameGroup, otherGroup]);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(messageIdsOf([garbage, sameGroup]));
    expect(appliedSequences()).toEqual(['payment#B@1']);
  });

  it('fails a JSON body that is not an envelope', async () => {
    const notEnvelope = sqsRecord(JSON.stringify({ hello: 'world' }));

    const response = await consume([notEnvelope]);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(messageIdsOf([notEnvelope]));
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('re-reads after losing the projection condition and acknowledges what another delivery applied', async () => {
    dynamo.on(GetCommand).resolvesOnce({ Item: { lastSequence: 1 } }).resolves({ Item: { lastSequence: 2 } });
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));

    const response = await consume([sqsRecord(envelope('A', 2))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(2);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('fails the message after a bounded number of lost races', async () => {
    dynamo.on(GetCommand).resolves({ Item: { lastSequence: 1 } });
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict'));
    const record = sqsRecord(envelope('A', 2));

    const response = await consume([record]);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(messageIdsOf([record]));
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('fails the message, and only its group, when DynamoDB errors', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }))
      .callsFake((input: TransactWriteCommandInput) => table.transact(input));
    const failing = sqsRecord(envelope('A', 1));
    const sameGroup = sqsRecord(envelope('A', 2));
    const otherGroup = sqsRecord(envelope('B', 1));

    const response = await consume([failing, otherGroup, sameGroup]);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(messageIdsOf([failing, sameGroup]));
    expect(table.lastSequence).toEqual(new Map([['payment#B', 1]]));
  });
});
