/**
 * Redrive rules, pure: given the DLQ, its source queue and the DLQ messages that could be seen,
 * either a plan (groups to move, each in sequence order, with the copies to drop) or a refusal
 * with every reason. Nothing moves unless every visible message passes.
 *
 * What "the subscriber already has" means here: the CLI sees the DLQ, the source queue and,
 * when it is told the subscriber's Inbox table (the example consumer's), the payment projection
 * the consumer guard keeps there. So a message is dropped (deleted from the DLQ, not sent) when
 * - its eventId was already moved by this run (in its group, at the same sequence): a copy;
 * - its payment's sequence was already moved by this run under another eventId, or it is older
 *   than a sequence this run has moved: the consumers' sequence guard skips it behind that one;
 * - the Inbox says the consumer has applied its payment up to its sequence or beyond.
 * A copy is only dropped once the message it copies has reached the source queue; a message that
 * is not a valid envelope, or an eventId that shows up under two payments, refuses (or halts).
 */
import type { EventEnvelope } from '../lambdas/domain/event-envelope';
import { inspectMessage, type ReceivedMessage } from './messages';

/** What the planner needs to know about a queue. */
export interface QueueFacts {
  readonly name: string;
  readonly url: string;
  readonly fifo: boolean;
}

/** What the subscriber is known to have applied: payment id -> last applied sequence (the Inbox's projection). */
export interface DeliveredState {
  /** Where it was read, for the output (`Inbox table <name>`). */
  readonly source: string;
  readonly lastSequence: ReadonlyMap<string, number>;
}

export interface RedriveInput {
  readonly dlq: QueueFacts;
  /** The queue to move messages to, or why there is none. */
  readonly source: { readonly found: true; readonly queue: QueueFacts } | { readonly found: false; readonly reason: string };
  /** The DLQ messages received, in receive order. */
  readonly messages: readonly ReceivedMessage[];
  /** Redrive only this message group. */
  readonly group?: string;
  /** What the subscriber already applied, when the CLI can read it. */
  readonly delivered?: DeliveredState;
}

/** What happens to a message when its turn comes. */
export type Decision =
  | { readonly kind: 'move' }
  | { readonly kind: 'drop'; readonly reason: string }
  | { readonly kind: 'refuse'; readonly problem: string };

export interface PlannedMessage {
  readonly message: ReceivedMessage;
  readonly envelope: EventEnvelope;
}

/** A planned message and what the plan expects to do with it (decided again, on what really moved, when its turn comes). */
export interface PlannedStep extends PlannedMessage {
  readonly decision: Exclude<Decision, { kind: 'refuse' }>;
}

export interface GroupPlan {
  readonly groupId: string;
  /** The group's messages seen so far, in the order SQS returned them (its order in the DLQ). */
  readonly messages: readonly PlannedStep[];
}

export type RedrivePlan =
  | { readonly kind: 'refused'; readonly reason: string; readonly details: readonly string[] }
  | {
      readonly kind: 'plan';
      readonly source: QueueFacts;
      readonly groups: readonly GroupPlan[];
      /** Messages of other groups than `--group`: left where they are. */
      readonly notSelected: readonly ReceivedMessage[];
    };

/**
 * What one redrive run has moved, and what it decides for the next message of a group: move it,
 * drop it as something the subscriber already has, or refuse it.
 */
export class RedriveLedger {
  /** eventId -> where it was moved. */
  private readonly events = new Map<string, { readonly group: string; readonly sequence: number }>();
  /** group -> sequence -> eventId moved at that sequence. */
  private readonly sequences = new Map<string, Map<number, string>>();
  /** group -> highest sequence moved. */
  private readonly highest = new Map<string, number>();

  constructor(private readonly delivered?: DeliveredState) {}

  decide(envelope: EventEnvelope): Decision {
    const { eventId, aggregateId: group, sequence } = envelope;
    const earlier = this.events.get(eventId);
    if (earlier !== undefined) {
      if (earlier.group !== group || earlier.sequence !== sequence) {
        return {
          kind: 'refuse',
          problem: `event ${eventId} was already moved as ${earlier.group} #${earlier.sequence}, and this message says ${group} #${sequence}: one eventId for two events`,
        };
      }
      return { kind: 'drop', reason: `a copy of event ${eventId}, already moved` };
    }
    const applied = this.delivered?.lastSequence.get(group);
    if (applied !== undefined && sequence <= applied) {
      return { kind: 'drop', reason: `event ${eventId} already delivered: ${this.delivered?.source} shows ${group} applied up to sequence ${applied}` };
    }
    const sameSequence = this.sequences.get(group)?.get(sequence);
    if (sameSequence !== undefined) {
      return {
        kind: 'drop',
        reason: `sequence ${sequence} of ${group} was already moved as event ${sameSequence}; the consumers' sequence guard skips a repeated sequence`,
      };
    }
    const highest = this.highest.get(group);
    if (highest !== undefined && sequence < highest) {
      return {
        kind: 'drop',
        reason: `older than sequence ${highest}, already moved: the consumers' sequence guard skips it (the Outbox still has event ${eventId}: replay --payment ${group})`,
      };
    }
    return { kind: 'move' };
  }

  /** The message reached the source queue. */
  moved(envelope: EventEnvelope): void {
    const { eventId, aggregateId: group, sequence } = envelope;
    this.events.set(eventId, { group, sequence });
    const bySequence = this.sequences.get(group) ?? new Map<number, string>();
    bySequence.set(sequence, eventId);
    this.sequences.set(group, bySequence);
    this.highest.set(group, Math.max(sequence, this.highest.get(group) ?? sequence));
  }
}

export function planRedrive(input: RedriveInput): RedrivePlan {
  const { dlq, source } = input;
  if (!dlq.fifo) {
    return refused(`${dlq.name} is not a FIFO queue: this tool redrives FIFO message groups in sequence order`);
  }
  if (!source.found) return refused(source.reason);
  const target = source.queue;
  if (target.url === dlq.url) return refused(`the target queue is the DLQ itself (${dlq.name})`);
  if (!target.fifo) {
    return refused(`the target queue ${target.name} is not a FIFO queue: it would not keep a payment's events in order`);
  }

  const selected = input.group === undefined ? input.messages : input.messages.filter((m) => m.groupId === input.group);
  const notSelected = input.group === undefined ? [] : input.messages.filter((m) => m.groupId !== input.group);

  // The plan plays the run as if every move succeeds: a later copy of a visible message is
  // dropped after that message moved.
  const ledger = new RedriveLedger(input.delivered);
  const problems: string[] = [];
  const groups = new Map<string, PlannedStep[]>();
  for (const message of selected) {
    const groupId = message.groupId ?? '(none)';
    const planned = groups.get(groupId) ?? [];
    groups.set(groupId, planned);
    const inspection = inspectMessage(message);
    if (!inspection.ok) {
      problems.push(`message ${message.messageId} (group ${groupId}): not a valid event envelope: ${inspection.problem}`);
      continue;
    }
    const decision = ledger.decide(inspection.envelope);
    if (decision.kind === 'refuse') {
      problems.push(`message ${message.messageId} (group ${groupId}): ${decision.problem}`);
      continue;
    }
    if (decision.kind === 'move') ledger.moved(inspection.envelope);
    planned.push({ message, envelope: inspection.envelope, decision });
  }
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 message cannot' : `${problems.length} messages cannot`;
    return refused(`${count} be redriven; nothing was moved`, [
      ...problems,
      'Inspect with `dlq show <messageId>`; fix or remove the offending message (`dlq delete`), then run the redrive again.',
    ]);
  }
  return {
    kind: 'plan',
    source: target,
    groups: [...groups].map(([groupId, messages]) => ({ groupId, messages })),
    notSelected,
  };
}

function refused(reason: string, details: readonly string[] = []): RedrivePlan {
  return { kind: 'refused', reason, details };
}
