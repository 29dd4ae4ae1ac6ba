import { RequestThrottled, SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const QUEUE_URL = vi.hoisted(() => {
  const url = 'https://sqs.us-east-1.amazonaws.com/000000000000/payment-events.fifo';
  process.env.PAYMENT_EVENTS_QUEUE_URL = url;
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return url;
});

import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { handler } from '../../lambdas/handlers/relay';
import { logger, metrics } from '../../lambdas/observability';
import { lambdaContext } from '../helpers/api-events';
import {
  envelope,
  insertRecord,
  positionsOf,
  streamEvent,
  ttlRemoveRecord,
  unknownRecord,
} from '../helpers/stream-events';

const sqs = mockClient(SQSClient);

/** SQS accepting every entry. */
function acceptAll(input: SendMessageBatchCommandInput) {
  return {
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: 'md5' })),
    Failed: [],
  };
}

/** SQS rejecting the entries with the given ids and accepting the others. */
function rejectIds(...ids: string[]) {
  return (input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? [])
      .filter((entry) => !ids.includes(entry.Id ?? ''))
      .map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: 'md5' })),
    Failed: ids.map((Id) => ({ Id, SenderFault: false, Code: 'InternalError', Message: 'try again' })),
  });
}

async function relay(records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
  return handler(streamEvent(records), lambdaContext as unknown as Context);
}

const sentBatches = () => sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
const sentEvents = () =>
  sentBatches().map((batch) => (batch.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? '') as EventEnvelope));
const labels = () => sentEvents().map((batch) => batch.map((e) => `${e.aggregateId}-${e.sequence}`));

/** `count` INSERTs, each of its own payment, so they can share a batch. */
const distinctPayments = (count: number) => Array.from({ length: count }, (_, i) => insertRecord(envelope(`pay-${i}`, 1)));

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
});
afterEach(() => vi.restoreAllMocks());

describe('relay handler', () => {
  it('publishes every INSERT and reports no failures when SQS accepts everything', async () => {
    const info = vi.spyOn(logger, 'info');
    const records = distinctPayments(12);

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sentBatches().map((b) => b.Entries?.length)).toEqual([10, 2]);
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]?.[1]).toEqual({ records: 12, published: 12, failed: 0, skipped: 0 });
  });

  it('sends FIFO messages grouped by payment, deduplicated by event id, with the envelope as body', async () => {
    const event = envelope('pay-1', 2, { type: 'payment.approved' });

    await relay([insertRecord(event, { pendingShard: 4 })]);

    const [batch] = sentBatches();
    expect(batch?.QueueUrl).toBe(QUEUE_URL);
    expect(batch?.Entries).toEqual([
      {
        Id: '0',
        MessageGroupId: 'pay-1',
        MessageDeduplicationId: 'evt-pay-1-2',
        MessageBody: JSON.stringify(event),
        MessageAttributes: {
          eventType: { DataType: 'String', StringValue: 'payment.approved' },
          sequence: { DataType: 'Number', StringValue: '2' },
          aggregateId: { DataType: 'String', StringValue: 'pay-1' },
        },
      },
    ]);
    const body = JSON.parse(batch?.Entries?.[0]?.MessageBody ?? '{}') as Record<string, unknown>;
    expect(body).not.toHaveProperty('expiresAt');
    expect(body).not.toHaveProperty('pendingShard');
  });

  it('reports exactly the first rejected entry of batch 1 and every later record, and sends nothing more', async () => {
    const records = distinctPayments(14);
    sqs.on(SendMessageBatchCommand).callsFakeOnce(rejectIds('3', '6'));

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(3)));
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('reports all of batch 2 onward when the second call throws, and never sends batch 3', async () => {
    const records = distinctPayments(25);
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce(acceptAll)
      .rejectsOnce(new Error('socket hang up'))
      .callsFake(acceptAll);

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(10)));
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('reports every record when SQS throttles the first call', async () => {
    const records = distinctPayments(3);
    sqs.on(SendMessageBatchCommand).rejects(new RequestThrottled({ message: 'Rate exceeded', $metadata: {} }));

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records));
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('acknowledges TTL removals and unknown record types without sending them', async () => {
    const a = envelope('pay-a', 1);
    const b = envelope('pay-b', 1);
    const records = [ttlRemoveRecord(envelope('old', 1)), insertRecord(a), unknownRecord(envelope('old', 2)), insertRecord(b)];

    const response = await relay(records);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(labels()).toEqual([['pay-a-1', 'pay-b-1']]);
  });

  it('sends nothing and reports nothing for an invocation with no INSERT', async () => {
    const response = await relay([ttlRemoveRecord(envelope('old', 1))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('sends a payment’s events in sequence order, never two of them in one call', async () => {
    const records = [
      insertRecord(envelope('A', 1)),
      insertRecord(envelope('A', 2)),
      insertRecord(envelope('B', 1)),
      insertRecord(envelope('A', 3)),
      insertRecord(envelope('B', 2)),
    ];

    await relay(records);

    expect(labels()).toEqual([['A-1'], ['A-2', 'B-1'], ['A-3', 'B-2']]);
    for (const batch of sentBatches()) {
      const groups = (batch.Entries ?? []).map((entry) => entry.MessageGroupId);
      expect(new Set(groups).size).toBe(groups.length);
    }
  });

  it('never sends a later event of a payment whose earlier event was rejected', async () => {
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1)), insertRecord(envelope('A', 2))];
    sqs.on(SendMessageBatchCommand).callsFakeOnce(rejectIds('0'));

    const response = await relay(records);

    expect(labels()).toEqual([['A-1', 'B-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records));
  });

  it('also reports skipped records that come after the failure', async () => {
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1)), ttlRemoveRecord(envelope('old', 1))];
    sqs.on(SendMessageBatchCommand).callsFakeOnce(rejectIds('1'));

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
  });

  it('treats an entry missing from the SQS response as failed', async () => {
    const records = distinctPayments(3);
    sqs.on(SendMessageBatchCommand).resolvesOnce({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }], Failed: [] });

    const response = await relay(records);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
  });

  it('sends the events before an unreadable INSERT and reports it and everything after', async () => {
    const broken = insertRecord(envelope('B', 1));
    delete broken.dynamodb?.NewImage?.eventId;
    const records = [insertRecord(envelope('A', 1)), broken, insertRecord(envelope('C', 1))];

    const response = await relay(records);

    expect(labels()).toEqual([['A-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
  });

  it('fails an event too large for SQS instead of sending it', async () => {
    const huge = envelope('H', 1, { data: { note: 'x'.repeat(300 * 1024) } });
    const records = [insertRecord(envelope('A', 1)), insertRecord(huge), insertRecord(envelope('C', 1))];

    const response = await relay(records);

    expect(labels()).toEqual([['A-1']]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(positionsOf(records.slice(1)));
  });

  it('records published, failed and lag metrics and logs one line with the counts', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-25T00:00:01.500Z'));
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn');
    const info = vi.spyOn(logger, 'info');
    const records = [insertRecord(envelope('A', 1)), insertRecord(envelope('B', 1)), ttlRemoveRecord(envelope('old', 1)), insertRecord(envelope('A', 2))];
    sqs.on(SendMessageBatchCommand).callsFakeOnce(acceptAll).rejectsOnce(new Error('boom'));

    try {
      await relay(records);
    } finally {
      vi.useRealTimers();
    }

    const recorded = addMetric.mock.calls.map(([name, , value]) => [name, value]);
    expect(recorded).toEqual([
      ['EventsPublished', 2],
      ['PublishFailures', 1],
      ['RelayLagMs', 1_500],
      ['RelayLagMs', 1_500],
    ]);
    expect(info).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({
      records: 4,
      published: 2,
      failed: 1,
      skipped: 1,
      firstFailedPosition: positionsOf(records)[3],
    });
  });
});
