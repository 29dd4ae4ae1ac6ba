import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { guardedFifoConsumer, messageTraceContext, type ApplyContext, type InboxCommitResult, type InboxStore } from '../../lambdas/consumer-guard';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { lambdaContext } from '../support/api-events';
import { captureLogLines } from '../support/log-capture';
import { messageIdsOf, sqsEvent, sqsRecord } from '../support/sqs-events';
import { envelope } from '../support/stream-events';

/** An inbox in memory with the conditions a real one enforces: new event id, aggregate at sequence - 1. */
class MemoryInbox implements InboxStore<string> {
  readonly lastSequence = new Map<string, number>();
  readonly eventIds = new Set<string>();
  readonly effects: string[] = [];

  async lastAppliedSequence(aggregateId: string): Promise<number> {
    return this.lastSequence.get(aggregateId) ?? 0;
  }

  async commit(event: EventEnvelope, effect: string): Promise<InboxCommitResult> {
    if (this.eventIds.has(event.eventId)) return 'duplicate-event';
    if ((this.lastSequence.get(event.aggregateId) ?? 0) !== event.sequence - 1) return 'sequence-moved';
    this.eventIds.add(event.eventId);
    this.lastSequence.set(event.aggregateId, event.sequence);
    this.effects.push(effect);
    return 'applied';
  }
}

let inbox: MemoryInbox;
let lines: Array<Record<string, unknown>>;
let logger: Logger;

beforeEach(() => {
  inbox = new MemoryInbox();
  lines = captureLogLines();
  logger = new Logger({ serviceName: 'guard-test', logLevel: 'DEBUG' });
});
afterEach(() => vi.restoreAllMocks());

const label = (event: EventEnvelope) => `${event.aggregateId}-${event.sequence}`;

function consumer(apply: (event: EventEnvelope, ctx: { logger: Logger }) => string | Promise<string> = label, metrics?: Metrics) {
  const handler = guardedFifoConsumer({ store: inbox, apply, logger, ...(metrics && { metrics }) });
  return (records: SQSRecord[]): Promise<SQSBatchResponse> => handler(sqsEvent(records), lambdaContext as unknown as Context);
}
const failedIds = (response: SQSBatchResponse) => response.batchItemFailures.map((f) => f.itemIdentifier);

describe('guardedFifoConsumer', () => {
  it('applies each payment’s events in sequence order, committing the effect with the inbox record', async () => {
    const consume = consumer();

    const response = await consume([
      sqsRecord(envelope('A', 1)),
      sqsRecord(envelope('B', 1)),
      sqsRecord(envelope('A', 2)),
    ]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(inbox.effects).toEqual(['A-1', 'B-1', 'A-2']);
  });

  it('acknowledges a redelivered event id without computing or committing its effect again', async () => {
    const apply = vi.fn(label);
    const consume = consumer(apply);
    const event = envelope('A', 1);

    await consume([sqsRecord(event)]);
    const response = await consume([sqsRecord(event)]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(apply).toHaveBeenCalledTimes(1);
    expect(inbox.effects).toEqual(['A-1']);
  });

  it('skips a sequence the payment is already past, even under a new event id', async () => {
    const apply = vi.fn(label);
    inbox.lastSequence.set('A', 3);

    const response = await consumer(apply)([sqsRecord(envelope('A', 2, { eventId: 'another-id' }))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(apply).not.toHaveBeenCalled();
  });

  it('refuses a sequence beyond the next one: the message and the rest of its group fail, other groups go on', async () => {
    inbox.lastSequence.set('A', 1);
    const gap = sqsRecord(envelope('A', 3));
    const behindGap = sqsRecord(envelope('A', 4));
    const other = sqsRecord(envelope('B', 1));

    const response = await consumer()([gap, other, behindGap]);

    expect(failedIds(response)).toEqual(messageIdsOf([gap, behindGap]));
    expect(inbox.effects).toEqual(['B-1']);
    expect(inbox.lastSequence.get('A')).toBe(1);
  });

  it('applies the refused event on a later delivery, once the missing one was applied', async () => {
    const consume = consumer();
    inbox.lastSequence.set('A', 1);

    await consume([sqsRecord(envelope('A', 3))]);
    await consume([sqsRecord(envelope('A', 2))]);
    const retry = await consume([sqsRecord(envelope('A', 3))]);

    expect(retry).toEqual({ batchItemFailures: [] });
    expect(inbox.effects).toEqual(['A-2', 'A-3']);
  });

  it('fails a body that is not an envelope, and the rest of its group', async () => {
    const garbage = sqsRecord('not json', { groupId: 'A' });
    const sameGroup = sqsRecord(envelope('A', 1));
    const otherGroup = sqsRecord(envelope('B', 1));

    const response = await consumer()([garbage, sameGroup, otherGroup]);

    expect(failedIds(response)).toEqual(messageIdsOf([garbage, sameGroup]));
    expect(inbox.effects).toEqual(['B-1']);
  });

  it('fails the message when the effect cannot be computed, and commits nothing for it', async () => {
    const consume = consumer((event) => {
      if (event.aggregateId === 'A') throw new Error('downstream unavailable');
      return label(event);
    });
    const failing = sqsRecord(envelope('A', 1));

    const response = await consume([failing, sqsRecord(envelope('B', 1))]);

    expect(failedIds(response)).toEqual(messageIdsOf([failing]));
    expect(inbox.lastSequence.has('A')).toBe(false);
  });

  it('puts eventId, paymentId and sequence on every line about an event, including the effect’s own lines', async () => {
    inbox.lastSequence.set('C', 1);
    const consume = consumer((event, { logger: eventLogger }) => {
      eventLogger.info('computing the projection');
      return label(event);
    });

    await consume([sqsRecord(envelope('A', 1)), sqsRecord(envelope('B', 1)), sqsRecord(envelope('C', 3))]);

    const aboutEvents = lines.filter((line) => line.message !== undefined);
    expect(aboutEvents.map((line) => [line.message, line.eventId, line.paymentId, line.sequence])).toEqual([
      ['computing the projection', 'evt-A-1', 'A', 1],
      ['Event applied', 'evt-A-1', 'A', 1],
      ['computing the projection', 'evt-B-1', 'B', 1],
      ['Event applied', 'evt-B-1', 'B', 1],
      ['Earlier events are missing; message left for retry', 'evt-C-3', 'C', 3],
    ]);
    expect(aboutEvents.every((line) => typeof line.messageId === 'string' && line.messageGroupId === line.paymentId)).toBe(true);
  });

  it('removes the event keys once a message is handled', async () => {
    await consumer()([sqsRecord(envelope('A', 1))]);
    logger.info('after the batch');

    const last = lines.at(-1);
    expect(last?.message).toBe('after the batch');
    expect(last).not.toHaveProperty('eventId');
    expect(last).not.toHaveProperty('sequence');
  });

  it('counts applied, skipped, gap, failed and invalid messages when given metrics', async () => {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'guard-test' });
    const addMetric = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    inbox.lastSequence.set('S', 5);
    const consume = consumer((event) => {
      if (event.aggregateId === 'F') throw new Error('boom');
      return label(event);
    }, metrics);

    await consume([
      sqsRecord(envelope('A', 1)),
      sqsRecord(envelope('S', 2)),
      sqsRecord(envelope('G', 2)),
      sqsRecord(envelope('F', 1)),
      sqsRecord('{}', { groupId: 'X' }),
    ]);

    expect(addMetric.mock.calls.map(([name]) => name)).toEqual([
      'EventsApplied',
      'EventsSkipped',
      'SequenceGaps',
      'ApplyFailures',
      'InvalidMessages',
    ]);
  });
});

describe('guardedFifoConsumer: the trace context a message carries', () => {
  const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
  const TRACEPARENT_VALUE = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

  /** A message with the `traceparent` attribute the relay sets (raw SNS delivery keeps it). */
  function tracedRecord(event: EventEnvelope, traceparent: string): SQSRecord {
    return { ...sqsRecord(event), messageAttributes: { traceparent: { dataType: 'String', stringValue: traceparent } } };
  }

  function tracingConsumer() {
    const contexts: ApplyContext[] = [];
    const handler = guardedFifoConsumer({
      store: inbox,
      apply: (event, context) => {
        contexts.push(context);
        context.logger.info('computing the projection');
        return label(event);
      },
      logger,
    });
    const consume = (records: SQSRecord[]) => handler(sqsEvent(records), lambdaContext as unknown as Context);
    return { consume, contexts };
  }

  it('reads the traceparent message attribute, and nothing from a message without one or with a malformed one', () => {
    expect(messageTraceContext(tracedRecord(envelope('A', 1), TRACEPARENT_VALUE))).toEqual({
      traceId: TRACE_ID,
      parentId: '00f067aa0ba902b7',
      sampled: true,
    });
    expect(messageTraceContext(sqsRecord(envelope('A', 1)))).toBeUndefined();
    expect(messageTraceContext(tracedRecord(envelope('A', 1), 'not-a-traceparent'))).toBeUndefined();
  });

  it('gives apply the message’s trace context to continue', async () => {
    const { consume, contexts } = tracingConsumer();

    await consume([tracedRecord(envelope('A', 1), TRACEPARENT_VALUE)]);

    expect(contexts.map((context) => context.trace)).toEqual([{ traceId: TRACE_ID, parentId: '00f067aa0ba902b7', sampled: true }]);
  });

  it('puts the trace id on every line about the event, apply’s own included', async () => {
    const { consume } = tracingConsumer();

    await consume([tracedRecord(envelope('A', 1), TRACEPARENT_VALUE)]);

    const aboutEvent = lines.filter((line) => line.eventId === 'evt-A-1');
    expect(aboutEvent.map((line) => [line.message, line.traceId])).toEqual([
      ['computing the projection', TRACE_ID],
      ['Event applied', TRACE_ID],
    ]);
  });

  it('logs the trace id on the line of a message that is not an event, too', async () => {
    await tracingConsumer().consume([{ ...tracedRecord(envelope('A', 1), TRACEPARENT_VALUE), body: 'not json' }]);

    expect(lines.filter((line) => line.level === 'ERROR').map((line) => line.traceId)).toEqual([TRACE_ID]);
  });

  it('gives apply no trace and logs no traceId key for a message without the attribute (or with a malformed one)', async () => {
    const { consume, contexts } = tracingConsumer();

    await consume([sqsRecord(envelope('A', 1)), tracedRecord(envelope('B', 1), 'garbage')]);

    expect(inbox.effects).toEqual(['A-1', 'B-1']);
    expect(contexts).toHaveLength(2);
    for (const context of contexts) expect(context).not.toHaveProperty('trace');
    const aboutEvents = lines.filter((line) => line.eventId !== undefined);
    expect(aboutEvents).toHaveLength(4);
    for (const line of aboutEvents) expect(line).not.toHaveProperty('traceId');
  });

  it('keeps a message’s trace id off the lines of the next message of the batch and off the shared logger', async () => {
    const { consume, contexts } = tracingConsumer();

    await consume([tracedRecord(envelope('A', 1), TRACEPARENT_VALUE), sqsRecord(envelope('B', 1))]);
    logger.info('after the batch');

    expect(contexts.map((context) => context.trace?.traceId)).toEqual([TRACE_ID, undefined]);
    expect(lines.filter((line) => line.eventId === 'evt-B-1').map((line) => line.traceId)).toEqual([undefined, undefined]);
    expect(lines.at(-1)).not.toHaveProperty('traceId');
  });

  it('creates the per-message logger with the trace id among its persistent keys', async () => {
    const createChild = vi.spyOn(logger, 'createChild');

    await tracingConsumer().consume([tracedRecord(envelope('A', 1), TRACEPARENT_VALUE), sqsRecord(envelope('B', 1))]);

    const keys = createChild.mock.calls.map(([options]) => options?.persistentKeys);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatchObject({ traceId: TRACE_ID });
    expect(keys[1]).not.toHaveProperty('traceId');
  });
});
