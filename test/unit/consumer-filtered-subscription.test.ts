/**
 * A consumer whose subscription filters event types (the subscriber's `eventTypes`, an SNS filter
 * policy) never receives the sequences of the other types. The guard, told the types, applies any
 * sequence above the last one applied (the queue still keeps each payment's order) instead of
 * waiting for sequences that will never come, and commits on the sequence it read.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { guardedFifoConsumer, type InboxCommitResult, type InboxStore } from '../../lambdas/consumer-guard';
import { decideSequence } from '../../lambdas/domain/consumer-rules';
import type { EventEnvelope, PaymentEventType } from '../../lambdas/domain/event-envelope';
import { lambdaContext } from '../support/api-events';
import { sqsEvent, sqsRecord } from '../support/sqs-events';
import { envelope } from '../support/stream-events';

/** An inbox in memory that enforces what a real one does: a new event id, the aggregate still at `previousSequence`. */
class MemoryInbox implements InboxStore<string> {
  readonly lastSequence = new Map<string, number>();
  readonly eventIds = new Set<string>();
  readonly effects: string[] = [];
  readonly previousSequences: number[] = [];

  async lastAppliedSequence(aggregateId: string): Promise<number> {
    return this.lastSequence.get(aggregateId) ?? 0;
  }

  async commit(event: EventEnvelope, effect: string, previousSequence: number): Promise<InboxCommitResult> {
    this.previousSequences.push(previousSequence);
    if (this.eventIds.has(event.eventId)) return 'duplicate-event';
    if ((this.lastSequence.get(event.aggregateId) ?? 0) !== previousSequence) return 'sequence-moved';
    this.eventIds.add(event.eventId);
    this.lastSequence.set(event.aggregateId, event.sequence);
    this.effects.push(effect);
    return 'applied';
  }
}

const silent = new Logger({ serviceName: 'filtered-test', logLevel: 'SILENT' });
const label = (event: EventEnvelope) => `${event.aggregateId}-${event.sequence}`;
const failedIds = (response: SQSBatchResponse) => response.batchItemFailures.map((f) => f.itemIdentifier);

function consumer(inbox: MemoryInbox, eventTypes?: readonly PaymentEventType[]) {
  const handler = guardedFifoConsumer({ store: inbox, apply: label, logger: silent, ...(eventTypes && { eventTypes }) });
  return (records: SQSRecord[]) => handler(sqsEvent(records), lambdaContext as unknown as Context);
}

/** A payment's life as the topic publishes it: created 1, approved 2, cancelled 3. */
const created = envelope('A', 1, { type: 'payment.created' });
const approved = envelope('A', 2, { type: 'payment.approved' });
const cancelled = envelope('A', 3, { type: 'payment.cancelled' });

describe('decideSequence', () => {
  it('contiguous: only lastApplied + 1 is next; beyond is a gap', () => {
    expect(decideSequence(3, 1)).toEqual({ action: 'gap', expectedSequence: 2 });
    expect(decideSequence(2, 1)).toEqual({ action: 'apply' });
    expect(decideSequence(1, 1)).toEqual({ action: 'skip' });
  });

  it('increasing: any sequence above lastApplied is next; equal or lower is old', () => {
    expect(decideSequence(3, 1, 'increasing')).toEqual({ action: 'apply' });
    expect(decideSequence(2, 1, 'increasing')).toEqual({ action: 'apply' });
    expect(decideSequence(1, 1, 'increasing')).toEqual({ action: 'skip' });
    expect(decideSequence(1, 3, 'increasing')).toEqual({ action: 'skip' });
  });
});

describe('guardedFifoConsumer over a filtered subscription', () => {
  it('without eventTypes, a subscription that only delivers cancellations waits forever: sequence 3 after nothing is a gap', async () => {
    const inbox = new MemoryInbox();
    const response = await consumer(inbox)([sqsRecord(cancelled)]);
    expect(failedIds(response)).toHaveLength(1);
    expect(inbox.effects).toEqual([]);
  });

  it('with eventTypes, applies the subscribed events in order across the sequences it never receives', async () => {
    const inbox = new MemoryInbox();
    const consume = consumer(inbox, ['payment.approved', 'payment.cancelled']);

    expect(failedIds(await consume([sqsRecord(approved)]))).toEqual([]);
    expect(failedIds(await consume([sqsRecord(cancelled)]))).toEqual([]);

    expect(inbox.effects).toEqual(['A-2', 'A-3']);
    // Each commit is conditioned on where the guard read the payment: nothing, then 2.
    expect(inbox.previousSequences).toEqual([0, 2]);
  });

  it('acknowledges an older or repeated event without effect', async () => {
    const inbox = new MemoryInbox();
    const consume = consumer(inbox, ['payment.approved', 'payment.cancelled']);
    await consume([sqsRecord(cancelled)]);

    // A redrive of the approval after the cancellation was applied: old, never applied over it.
    expect(failedIds(await consume([sqsRecord(approved)]))).toEqual([]);
    expect(failedIds(await consume([sqsRecord(cancelled)]))).toEqual([]);

    expect(inbox.effects).toEqual(['A-3']);
  });

  it('acknowledges without effect an event of a type it does not subscribe to, and keeps its place', async () => {
    const inbox = new MemoryInbox();
    const consume = consumer(inbox, ['payment.cancelled']);

    expect(failedIds(await consume([sqsRecord(created), sqsRecord(approved)]))).toEqual([]);
    expect(inbox.effects).toEqual([]);
    expect(inbox.lastSequence.get('A')).toBeUndefined();

    expect(failedIds(await consume([sqsRecord(cancelled)]))).toEqual([]);
    expect(inbox.effects).toEqual(['A-3']);
  });

  it('listing every type is the unfiltered guard: a gap still waits', async () => {
    const inbox = new MemoryInbox();
    const consume = consumer(inbox, ['payment.created', 'payment.approved', 'payment.failed', 'payment.cancelled']);
    expect(failedIds(await consume([sqsRecord(approved)]))).toHaveLength(1);
    expect(inbox.effects).toEqual([]);
  });
});
