/**
 * The relay's stream filter as the synthesized template sets it, played by the local stream poller
 * on DynamoDB Local: it filters on the `dynamodb` key only (the pending marker in the new image), so
 * events still flow, the MODIFY that marks an event published never reaches the relay, and a MODIFY
 * that keeps the marker reaches it and is acknowledged without a publish.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { RELAY_STREAM_FILTER } from '../../lib/constructs/outbox-relay';
import { drainQueue, PAYMENT_EVENTS_QUEUE, receiveMessages, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { confirm, createPayment, decodeMessage, eventually, newOrderId } from '../support/payment-api-client';

let stack: LocalStack;
/** Every record the relay was invoked with, and what it answered. */
let seen: DynamoDBRecord[];
let answers: unknown[];

beforeAll(async () => {
  stack = await startTestStack({ consumers: false });
});
beforeEach(async () => {
  await stack.pollers.stream('outbox-relay').waitForIdle();
  await drainQueue(stack, PAYMENT_EVENTS_QUEUE);
  seen = [];
  answers = [];
  stack.pollers.stream('outbox-relay').invokeWrapper = async (event, invoke) => {
    seen.push(...event.Records);
    const answer = await invoke(event);
    answers.push(answer);
    return answer;
  };
});
afterEach(() => {
  stack.pollers.stream('outbox-relay').invokeWrapper = undefined;
});
afterAll(() => stack?.stop());

const outboxKeyOf = (record: DynamoDBRecord) => `${record.dynamodb?.Keys?.aggregateId?.S}#${record.dynamodb?.Keys?.sequence?.N}`;

async function outboxItem(paymentId: string, sequence: number): Promise<Record<string, unknown> | undefined> {
  const { Item } = await stack.clients.documents.send(
    new GetCommand({ TableName: stack.tableName('Outbox'), Key: { aggregateId: paymentId, sequence }, ConsistentRead: true }),
  );
  return Item;
}

it('plays the template’s filter: on the dynamodb key only, the pending marker in the new image', () => {
  const relayMapping = Object.values(stack.template.Resources).find(
    (resource) => resource.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(resource.Properties?.EventSourceArn).includes('Outbox'),
  );
  expect(relayMapping?.Properties?.FilterCriteria).toEqual({ Filters: [{ Pattern: RELAY_STREAM_FILTER.pattern }] });
  expect(JSON.parse(RELAY_STREAM_FILTER.pattern as string)).toEqual({ dynamodb: { NewImage: { pendingShard: { S: [{ exists: true }] } } } });
});

it('delivers a payment’s events, and the MODIFYs that mark them published never reach the relay', async () => {
  const relay = stack.pollers.stream('outbox-relay');
  const filteredBefore = relay.stats.filteredOut;
  const payment = await createPayment(stack, 'CARD', { orderId: newOrderId() });
  expect((await confirm(stack, payment.paymentId)).status).toBe(200);

  const delivered = (await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 2 })).map(decodeMessage);
  expect(delivered.map((m) => [m.envelope.aggregateId, m.envelope.sequence])).toEqual([
    [payment.paymentId, 1],
    [payment.paymentId, 2],
  ]);
  await eventually(async () => ((await outboxItem(payment.paymentId, 2))?.pendingShard === undefined ? true : undefined), 5_000, 'both marked');
  await relay.waitForIdle();

  const ofPayment = seen.filter((record) => record.dynamodb?.Keys?.aggregateId?.S === payment.paymentId);
  expect(ofPayment.map((record) => [record.eventName, outboxKeyOf(record)])).toEqual([
    ['INSERT', `${payment.paymentId}#1`],
    ['INSERT', `${payment.paymentId}#2`],
  ]);
  // The two publication marks (REMOVE pendingShard) were read from the stream and dropped by the filter.
  expect(relay.stats.filteredOut - filteredBefore).toBeGreaterThanOrEqual(2);
});

it('acknowledges a MODIFY that keeps the pending marker without publishing or marking it', async () => {
  const relay = stack.pollers.stream('outbox-relay');
  const payment = await createPayment(stack, 'CARD', { orderId: newOrderId() });
  expect(await receiveMessages(stack, PAYMENT_EVENTS_QUEUE, { count: 1 })).toHaveLength(1);
  await eventually(async () => ((await outboxItem(payment.paymentId, 1))?.pendingShard === undefined ? true : undefined), 5_000, 'marked');
  await relay.waitForIdle();
  seen = [];
  answers = [];

  // An update of the outbox item that leaves it carrying the marker (here: the marker put back).
  await stack.clients.documents.send(
    new UpdateCommand({
      TableName: stack.tableName('Outbox'),
      Key: { aggregateId: payment.paymentId, sequence: 1 },
      UpdateExpression: 'SET pendingShard = :shard, touchedAt = :at',
      ExpressionAttributeValues: { ':shard': 'p00', ':at': new Date().toISOString() },
    }),
  );
  await eventually(async () => (seen.length > 0 ? true : undefined), 5_000, 'the MODIFY reached the relay');
  await relay.waitForIdle();

  expect(seen.map((record) => [record.eventName, outboxKeyOf(record)])).toEqual([['MODIFY', `${payment.paymentId}#1`]]);
  expect(answers).toEqual([{ batchItemFailures: [] } satisfies DynamoDBBatchResponse]);
  // Had the relay taken it for an event, it would have published and then marked it, removing the marker.
  expect((await outboxItem(payment.paymentId, 1))?.pendingShard).toBe('p00');
});
