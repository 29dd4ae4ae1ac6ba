/**
 * The recovery paths for an event whose stream record never reaches the relay (24 h retention,
 * a record sent to the on-failure destination, a disabled stream): each has its own test that
 * fails if that path is removed.
 * - gap fill: the relay publishes a lost pending predecessor before the event that follows it;
 * - sweeper: a lost event with no successor is republished from the PendingEvents index.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { DynamoDbPublicationLedger } from '../../lambdas/adapters/dynamodb-publication-ledger';
import { SnsEventPublisher } from '../../lambdas/adapters/sns-event-publisher';
import { sweepPending } from '../../lambdas/use-cases/sweep-pending';
import { PAYMENT_EVENTS_QUEUE, PAYMENT_EVENTS_TOPIC, receiveMessages, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { confirm, createPayment, decodeMessage, eventually, events, newOrderId } from '../support/payment-api-client';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ consumers: false });
});
afterEach(() => {
  stack.pollers.stream('outbox-relay').invokeWrapper = undefined;
});
afterAll(() => stack?.stop());

/** Makes the relay never see the stream records `lose` picks, as if they had expired. */
function loseStreamRecords(lose: (record: DynamoDBRecord) => boolean): { lost: number } {
  const counter = { lost: 0 };
  stack.pollers.stream('outbox-relay').invokeWrapper = async (event: DynamoDBStreamEvent, invoke) => {
    const kept = event.Records.filter((record) => !lose(record));
    counter.lost += event.Records.length - kept.length;
    return kept.length > 0 ? invoke({ ...event, Records: kept }) : { batchItemFailures: [] };
  };
  return counter;
}

const isEventOf = (orderId: string, sequence: number) => (record: DynamoDBRecord) =>
  record.eventName === 'INSERT' &&
  record.dynamodb?.NewImage?.data?.M?.orderId?.S === orderId &&
  record.dynamodb?.NewImage?.sequence?.N === String(sequence);

async function messagesOf(paymentId: string, count?: number, timeoutMs = 6_000) {
  const all = await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { ...(count !== undefined && { count }), timeoutMs });
  return all.map(decodeMessage).filter((m) => m.envelope.aggregateId === paymentId);
}

async function stillPending(paymentId: string, sequence: number): Promise<boolean> {
  const { Item } = await stack.clients.documents.send(
    new GetCommand({ TableName: stack.tableName('Outbox'), Key: { aggregateId: paymentId, sequence }, ConsistentRead: true }),
  );
  return Item?.pendingShard !== undefined;
}

it('gap fill: the relay publishes a lost payment.created before the payment.approved that follows it', async () => {
  const orderId = newOrderId();
  const lost = loseStreamRecords(isEventOf(orderId, 1));
  const payment = await createPayment(stack, 'CARD', { orderId });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(lost.lost).toBe(1);
  expect(await messagesOf(payment.paymentId, undefined, 2_000)).toEqual([]);
  expect(await stillPending(payment.paymentId, 1)).toBe(true);

  expect((await confirm(stack, payment.paymentId)).status).toBe(200);

  const stored = await events(stack, payment.paymentId);
  const delivered = await messagesOf(payment.paymentId, 2);
  expect(delivered.map((m) => [m.envelope.sequence, m.envelope.eventId, m.deduplicationId])).toEqual(
    stored.map((e) => [e.sequence, e.eventId, e.eventId]),
  );
  // The relay marks what SQS accepted right after the send, gap-filled predecessors included.
  await eventually(async () => ((await stillPending(payment.paymentId, 1)) ? undefined : true), 5_000, 'sequence 1 marked published');
});

it('sweeper: a lost last event is republished from the PendingEvents index with its own dedup id', async () => {
  const orderId = newOrderId();
  loseStreamRecords(isEventOf(orderId, 2));
  const payment = await createPayment(stack, 'CARD', { orderId });
  expect((await confirm(stack, payment.paymentId)).status).toBe(200);

  const first = await messagesOf(payment.paymentId, 1);
  expect(first.map((m) => m.envelope.sequence)).toEqual([1]);
  expect(await messagesOf(payment.paymentId, undefined, 2_000)).toEqual([]);
  expect(await stillPending(payment.paymentId, 2)).toBe(true);

  // The deployed sweeper's grace period is 120 s: run the same use case as if that much time had passed.
  const ledger = new DynamoDbPublicationLedger(stack.clients.documents, { tableName: stack.tableName('Outbox') }, { now: () => new Date() });
  // Through the topic, as the deployed sweeper publishes (the handlers' SNS client, pointed at the emulator).
  const publisher = new SnsEventPublisher(stack.clients.sns, stack.topicArn(PAYMENT_EVENTS_TOPIC));
  const report = await sweepPending({ now: new Date(Date.now() + 121_000), graceSeconds: 120, limit: 1000 }, { ledger, publisher });

  expect(report.republishedEvents.map((e) => [e.aggregateId, e.sequence])).toContainEqual([payment.paymentId, 2]);
  const [approved] = await messagesOf(payment.paymentId, 1);
  const stored = await events(stack, payment.paymentId);
  expect(approved?.envelope).toEqual(stored[1]);
  expect(approved?.deduplicationId).toBe(stored[1]?.eventId);
  expect(await stillPending(payment.paymentId, 2)).toBe(false);
});
