/**
 * The public API of @payment-outbox/consumer (packages/consumer/src), as a consuming service uses it:
 * parse an event, consume a FIFO batch through the guard with its own inbox, verify a webhook.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  childTraceContext,
  formatTraceparent,
  guardedFifoConsumer,
  InvalidEnvelopeError,
  messageTraceContext,
  parseEvent,
  parseTraceparent,
  PAYMENT_EVENT_TYPES,
  TRACEPARENT,
  verifyWebhook,
  type ApplyContext,
  type EventEnvelope,
  type InboxCommitResult,
  type InboxStore,
  type TraceContext,
} from '../../packages/consumer/src';
import { DynamoDbPaymentInbox, projectionKey } from '../../packages/consumer/src/dynamodb';
import { lambdaContext } from '../support/api-events';
import { sqsEvent, sqsRecord } from '../support/sqs-events';
import { envelope } from '../support/stream-events';

class MemoryInbox implements InboxStore<string> {
  readonly last = new Map<string, number>();
  readonly seen = new Set<string>();
  readonly applied: string[] = [];
  async lastAppliedSequence(aggregateId: string): Promise<number> {
    return this.last.get(aggregateId) ?? 0;
  }
  async commit(event: EventEnvelope, effect: string): Promise<InboxCommitResult> {
    if (this.seen.has(event.eventId)) return 'duplicate-event';
    if ((this.last.get(event.aggregateId) ?? 0) !== event.sequence - 1) return 'sequence-moved';
    this.seen.add(event.eventId);
    this.last.set(event.aggregateId, event.sequence);
    this.applied.push(effect);
    return 'applied';
  }
}

describe('@payment-outbox/consumer', () => {
  it('parseEvent returns the envelope of a published event and names the offending field of anything else', () => {
    const event = envelope('pay-1', 2);
    expect(parseEvent(JSON.stringify(event))).toEqual(event);
    expect(PAYMENT_EVENT_TYPES).toContain(event.type);
    expect(() => parseEvent('not json')).toThrow(InvalidEnvelopeError);
    expect(() => parseEvent(JSON.stringify({ ...event, sequence: 0 }))).toThrow(/sequence/);
  });

  it('the guarded consumer applies in order, skips a duplicate, and fails a gap with the rest of its group only', async () => {
    const inbox = new MemoryInbox();
    const handler = guardedFifoConsumer({
      store: inbox,
      apply: (event) => `${event.aggregateId}#${event.sequence} ${event.type}`,
      logger: new Logger({ serviceName: 'orders', logLevel: 'SILENT' }),
    });
    const records = [
      sqsRecord(envelope('pay-a', 1), { messageId: 'a1' }),
      sqsRecord(envelope('pay-a', 1), { messageId: 'a1-again' }),
      sqsRecord(envelope('pay-b', 2), { messageId: 'b2' }),
      sqsRecord(envelope('pay-b', 3), { messageId: 'b3' }),
      sqsRecord(envelope('pay-a', 2), { messageId: 'a2' }),
    ];

    const response = await handler(sqsEvent(records), lambdaContext as unknown as Context);

    expect(inbox.applied).toEqual(['pay-a#1 payment.created', 'pay-a#2 payment.approved']);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['b2', 'b3']);
  });

  it('verifyWebhook accepts a request signed by the stock Standard Webhooks library and refuses a changed body', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const event = envelope('pay-w', 1);
    const body = JSON.stringify(event);
    const now = new Date('2026-12-02T05:00:00Z');
    const signature = new Webhook(secret).sign(event.eventId, now, body);
    const headers = { 'webhook-id': event.eventId, 'webhook-timestamp': String(now.getTime() / 1000), 'webhook-signature': signature };

    const verified = verifyWebhook({ rawBody: body, headers, secret, now });
    expect(verified).toMatchObject({ ok: true, event: { eventId: event.eventId, aggregateId: 'pay-w', sequence: 1 } });
    expect(verifyWebhook({ rawBody: body.replace('15000', '15001'), headers, secret, now })).toMatchObject({ ok: false, reason: 'signature-mismatch' });
  });

  it('the DynamoDB inbox of the dynamodb entry sends its reads through the caller’s document client', async () => {
    const sent: unknown[] = [];
    const client = { send: async (command: { input: unknown }) => (sent.push(command.input), { Item: { lastSequence: 4 } }) };
    const inbox = new DynamoDbPaymentInbox(client as never, { tableName: 'OrdersInbox', retentionDays: 7 }, { now: () => new Date() });

    expect(await inbox.lastAppliedSequence('pay-d')).toBe(4);
    expect(sent).toEqual([expect.objectContaining({ TableName: 'OrdersInbox', Key: { pk: projectionKey('pay-d') } })]);
  });
});

describe('@payment-outbox/consumer: the trace context', () => {
  const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
  const TRACEPARENT_VALUE = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
  const tracedRecord = (event: EventEnvelope) => ({
    ...sqsRecord(event),
    messageAttributes: { [TRACEPARENT]: { dataType: 'String', stringValue: TRACEPARENT_VALUE } },
  });

  it('exports the traceparent name and the functions to read, continue and write a context', () => {
    expect(TRACEPARENT).toBe('traceparent');
    const context: TraceContext | undefined = messageTraceContext(tracedRecord(envelope('pay-t', 1)));
    expect(context).toEqual(parseTraceparent(TRACEPARENT_VALUE));
    expect(context).toEqual({ traceId: TRACE_ID, parentId: '00f067aa0ba902b7', sampled: true });

    const outgoing = context && formatTraceparent(childTraceContext(context, 'b7ad6b7169203331'));
    expect(outgoing).toBe(`00-${TRACE_ID}-b7ad6b7169203331-01`);
  });

  it('the guarded consumer gives apply the message’s trace', async () => {
    const inbox = new MemoryInbox();
    const traces: Array<ApplyContext['trace']> = [];
    const handler = guardedFifoConsumer({
      store: inbox,
      apply: (event, { trace }) => {
        traces.push(trace);
        return event.eventId;
      },
      logger: new Logger({ serviceName: 'orders', logLevel: 'SILENT' }),
    });

    await handler(sqsEvent([tracedRecord(envelope('pay-t', 1)), sqsRecord(envelope('pay-u', 1))]), lambdaContext as unknown as Context);

    expect(traces).toEqual([{ traceId: TRACE_ID, parentId: '00f067aa0ba902b7', sampled: true }, undefined]);
  });
});
