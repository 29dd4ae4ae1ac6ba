import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../cli/messages';
import { sourceNameForDlq } from '../../cli/queues';
import { planRedrive, RedriveLedger, type QueueFacts, type RedriveInput } from '../../cli/redrive-plan';
import { envelope } from '../support/stream-events';

const DLQ: QueueFacts = { name: 'payment-events-dlq.fifo', url: 'http://sqs/000/payment-events-dlq.fifo', fifo: true };
const SOURCE: QueueFacts = { name: 'payment-events.fifo', url: 'http://sqs/000/payment-events.fifo', fifo: true };

let next = 0;
/** A DLQ message holding event `sequence` of `group` (or the given raw body). */
function dlqMessage(group: string, sequence: number, body?: string): ReceivedMessage {
  next += 1;
  return {
    messageId: `m-${group}-${sequence}-${next}`,
    receiptHandle: `rh-${next}`,
    body: body ?? JSON.stringify(envelope(group, sequence)),
    groupId: group,
    receiveCount: 6,
    attributes: { MessageGroupId: group },
    messageAttributes: {},
  };
}

const input = (messages: ReceivedMessage[], extra: Partial<RedriveInput> = {}): RedriveInput => ({
  dlq: DLQ,
  source: { found: true, queue: SOURCE },
  messages,
  ...extra,
});

/** A DLQ message holding event `sequence` of `group` under its own eventId (not a copy of the default one). */
const otherEvent = (group: string, sequence: number, eventId: string): ReceivedMessage =>
  dlqMessage(group, sequence, JSON.stringify(envelope(group, sequence, { eventId })));

/** The sequences each group moves (drops left out). */
const plannedGroups = (plan: ReturnType<typeof planRedrive>) =>
  plan.kind === 'plan' ? plan.groups.map((g) => [g.groupId, g.messages.filter((m) => m.decision.kind === 'move').map((m) => m.envelope.sequence)]) : plan;

/** Each planned message as `<sequence>:<move|drop reason>`. */
const steps = (plan: ReturnType<typeof planRedrive>) =>
  plan.kind === 'plan' ? plan.groups.flatMap((g) => g.messages.map((m) => `${m.envelope.sequence}:${m.decision.kind === 'drop' ? `drop ${m.decision.reason}` : 'move'}`)) : plan;

describe('planRedrive', () => {
  it('plans every group in first-seen order, each in the order SQS returned it', () => {
    const plan = planRedrive(input([dlqMessage('pay_b', 4), dlqMessage('pay_a', 2), dlqMessage('pay_b', 5), dlqMessage('pay_a', 3)]));

    expect(plannedGroups(plan)).toEqual([
      ['pay_b', [4, 5]],
      ['pay_a', [2, 3]],
    ]);
    expect(plan).toMatchObject({ kind: 'plan', source: SOURCE, notSelected: [] });
  });

  it('with --group, plans only that group and leaves the others where they are', () => {
    const other = dlqMessage('pay_b', 1);
    const plan = planRedrive(input([dlqMessage('pay_a', 1), other], { group: 'pay_a' }));

    expect(plannedGroups(plan)).toEqual([['pay_a', [1]]]);
    expect(plan.kind === 'plan' && plan.notSelected).toEqual([other]);
  });

  it('does not let an invalid message of an unselected group block a --group redrive', () => {
    const plan = planRedrive(input([dlqMessage('pay_a', 1), dlqMessage('pay_b', 1, 'not json')], { group: 'pay_a' }));

    expect(plan.kind).toBe('plan');
  });

  it('refuses when the source queue is missing, with the reason it was given', () => {
    const plan = planRedrive(input([dlqMessage('pay_a', 1)], { source: { found: false, reason: 'the source queue x.fifo does not exist' } }));

    expect(plan).toEqual({ kind: 'refused', reason: 'the source queue x.fifo does not exist', details: [] });
  });

  it('refuses a target that is not FIFO, or is the DLQ itself', () => {
    const standard = planRedrive(input([dlqMessage('pay_a', 1)], { source: { found: true, queue: { ...SOURCE, fifo: false } } }));
    const itself = planRedrive(input([dlqMessage('pay_a', 1)], { source: { found: true, queue: DLQ } }));

    expect(standard).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/payment-events.fifo is not a FIFO queue/) });
    expect(itself).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/is the DLQ itself/) });
  });

  it('refuses a DLQ that is not FIFO', () => {
    expect(planRedrive(input([], { dlq: { ...DLQ, fifo: false } }))).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/not a FIFO queue/) });
  });

  it('refuses the whole redrive when one message is not an envelope, naming it and why', () => {
    const bad = dlqMessage('pay_b', 1, '{"hello":"world"}');
    const plan = planRedrive(input([dlqMessage('pay_a', 1), bad]));

    expect(plan.kind).toBe('refused');
    if (plan.kind !== 'refused') return;
    expect(plan.reason).toBe('1 message cannot be redriven; nothing was moved');
    expect(plan.details[0]).toMatch(new RegExp(`^message ${bad.messageId} \\(group pay_b\\): not a valid event envelope: message body is not an event envelope: eventId`));
  });

  it('refuses a body that is not JSON and an envelope filed under another payment\'s group', () => {
    const plan = planRedrive(input([dlqMessage('pay_a', 1, 'garbage'), { ...dlqMessage('pay_b', 1), groupId: 'pay_c' }]));

    expect(plan.kind === 'refused' && plan.details.slice(0, 2)).toEqual([
      expect.stringMatching(/group pay_a\): not a valid event envelope: message body is not JSON$/),
      expect.stringMatching(/group pay_c\): not a valid event envelope: message group pay_c differs from the envelope's aggregateId pay_b$/),
    ]);
  });

  it('plans to drop a later copy of an event (same eventId) instead of refusing the group, and moves the rest in order', () => {
    // A replay's copies behind the originals: 1, 2, 3, 1, 2, 3.
    const plan = planRedrive(input([1, 2, 3, 1, 2, 3].map((n) => dlqMessage('pay_a', n))));

    expect(plannedGroups(plan)).toEqual([['pay_a', [1, 2, 3]]]);
    expect(steps(plan)).toEqual([
      '1:move',
      '2:move',
      '3:move',
      '1:drop a copy of event evt-pay_a-1, already moved',
      '2:drop a copy of event evt-pay_a-2, already moved',
      '3:drop a copy of event evt-pay_a-3, already moved',
    ]);
  });

  it('plans to drop an older sequence behind a later one, and a repeated sequence under another eventId', () => {
    const plan = planRedrive(input([dlqMessage('pay_a', 3), otherEvent('pay_a', 2, 'e-two'), otherEvent('pay_a', 3, 'e-three-again')]));

    expect(plannedGroups(plan)).toEqual([['pay_a', [3]]]);
    expect(steps(plan)).toEqual([
      '3:move',
      "2:drop older than sequence 3, already moved: the consumers' sequence guard skips it (the Outbox still has event e-two: replay --payment pay_a)",
      "3:drop sequence 3 of pay_a was already moved as event evt-pay_a-3; the consumers' sequence guard skips a repeated sequence",
    ]);
  });

  it('plans to drop what the Inbox shows as applied, and moves what follows', () => {
    const plan = planRedrive(
      input([dlqMessage('pay_a', 2), dlqMessage('pay_a', 3), dlqMessage('pay_b', 1)], {
        delivered: { source: 'Inbox table inbox-1', lastSequence: new Map([['pay_a', 2]]) },
      }),
    );

    expect(plannedGroups(plan)).toEqual([
      ['pay_a', [3]],
      ['pay_b', [1]],
    ]);
    expect((steps(plan) as string[])[0]).toBe('2:drop event evt-pay_a-2 already delivered: Inbox table inbox-1 shows pay_a applied up to sequence 2');
  });

  it('refuses an eventId that shows up under two payments or two sequences, moving nothing', () => {
    const plan = planRedrive(input([dlqMessage('pay_a', 1), otherEvent('pay_b', 1, 'evt-pay_a-1'), otherEvent('pay_a', 2, 'evt-pay_a-1')]));

    expect(plan.kind).toBe('refused');
    expect(plan.kind === 'refused' && plan.reason).toBe('2 messages cannot be redriven; nothing was moved');
    expect(plan.kind === 'refused' && plan.details.slice(0, 2)).toEqual([
      expect.stringMatching(/\(group pay_b\): event evt-pay_a-1 was already moved as pay_a #1, and this message says pay_b #1: one eventId for two events$/),
      expect.stringMatching(/\(group pay_a\): event evt-pay_a-1 was already moved as pay_a #1, and this message says pay_a #2/),
    ]);
  });

  it('still refuses the whole redrive for an invalid envelope, whatever copies it could drop', () => {
    const plan = planRedrive(input([dlqMessage('pay_a', 1), dlqMessage('pay_a', 1), dlqMessage('pay_b', 1, 'garbage')]));

    expect(plan).toMatchObject({ kind: 'refused', reason: '1 message cannot be redriven; nothing was moved' });
  });

  it('accepts a gap within a group (the missing event may be replayed from the Outbox)', () => {
    expect(plannedGroups(planRedrive(input([dlqMessage('pay_a', 2), dlqMessage('pay_a', 4)])))).toEqual([['pay_a', [2, 4]]]);
  });

  it('plans nothing for an empty DLQ', () => {
    expect(planRedrive(input([]))).toEqual({ kind: 'plan', source: SOURCE, groups: [], notSelected: [] });
  });
});

describe('RedriveLedger', () => {
  it('moves a message whose event was not moved yet: a copy is only dropped once the message it copies reached the source', () => {
    const ledger = new RedriveLedger();
    const first = envelope('pay_a', 1);

    expect(ledger.decide(first)).toEqual({ kind: 'move' });
    expect(ledger.decide(first)).toEqual({ kind: 'move' });
    ledger.moved(first);
    expect(ledger.decide(first)).toEqual({ kind: 'drop', reason: 'a copy of event evt-pay_a-1, already moved' });
  });

  it('keeps groups apart: a sequence moved in one payment does not drop another payment\'s', () => {
    const ledger = new RedriveLedger();
    ledger.moved(envelope('pay_a', 5));

    expect(ledger.decide(envelope('pay_b', 1))).toEqual({ kind: 'move' });
    expect(ledger.decide(envelope('pay_a', 6))).toEqual({ kind: 'move' });
    expect(ledger.decide(envelope('pay_a', 4, { eventId: 'e-4' }))).toMatchObject({ kind: 'drop', reason: expect.stringMatching(/^older than sequence 5, already moved/) });
  });

  it('accepts a gap (the missing event may be replayed from the Outbox)', () => {
    const ledger = new RedriveLedger();
    ledger.moved(envelope('pay_a', 2));

    expect(ledger.decide(envelope('pay_a', 4))).toEqual({ kind: 'move' });
  });
});

describe('sourceNameForDlq', () => {
  it('drops the DLQ suffix and keeps .fifo', () => {
    expect(sourceNameForDlq('payment-events-dlq.fifo')).toBe('payment-events.fifo');
    expect(sourceNameForDlq('orders_dlq')).toBe('orders');
    expect(sourceNameForDlq('billing-deadletter.fifo')).toBe('billing.fifo');
  });

  it('has no answer for a name without a DLQ suffix', () => {
    expect(sourceNameForDlq('payment-events.fifo')).toBeUndefined();
    expect(sourceNameForDlq('dlq.fifo')).toBeUndefined();
  });
});
