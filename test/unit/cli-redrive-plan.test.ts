import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../cli/messages';
import { sourceNameForDlq } from '../../cli/queues';
import { checkNext, planRedrive, type QueueFacts, type RedriveInput } from '../../cli/redrive-plan';
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

const plannedGroups = (plan: ReturnType<typeof planRedrive>) =>
  plan.kind === 'plan' ? plan.groups.map((g) => [g.groupId, g.messages.map((m) => m.envelope.sequence)]) : plan;

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

  it('refuses a group whose messages are not in ascending sequence', () => {
    const plan = planRedrive(input([dlqMessage('pay_a', 3), dlqMessage('pay_a', 2)]));

    expect(plan.kind === 'refused' && plan.details[0]).toMatch(/group pay_a\): sequence 2 follows sequence 3: the group is not in ascending sequence order/);
  });

  it('refuses a repeated sequence in a group', () => {
    const plan = planRedrive(input([dlqMessage('pay_a', 2), dlqMessage('pay_a', 2)]));

    expect(plan.kind).toBe('refused');
  });

  it('accepts a gap within a group (the missing event may be replayed from the Outbox)', () => {
    expect(plannedGroups(planRedrive(input([dlqMessage('pay_a', 2), dlqMessage('pay_a', 4)])))).toEqual([['pay_a', [2, 4]]]);
  });

  it('plans nothing for an empty DLQ', () => {
    expect(planRedrive(input([]))).toEqual({ kind: 'plan', source: SOURCE, groups: [], notSelected: [] });
  });
});

describe('checkNext', () => {
  it('accepts the first message of a group and any higher sequence after', () => {
    expect(checkNext(dlqMessage('pay_a', 7), undefined)).toMatchObject({ ok: true, envelope: { sequence: 7 } });
    expect(checkNext(dlqMessage('pay_a', 8), 7)).toMatchObject({ ok: true });
  });

  it('rejects a sequence at or below the last one moved', () => {
    expect(checkNext(dlqMessage('pay_a', 7), 7)).toEqual({ ok: false, problem: expect.stringMatching(/sequence 7 follows sequence 7/) });
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
