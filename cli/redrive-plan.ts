/**
 * Redrive rules, pure: given the DLQ, its source queue and the DLQ messages that could be seen,
 * either a plan (groups to move, each in sequence order) or a refusal with every reason.
 * Nothing moves unless every visible message passes.
 */
import type { EventEnvelope } from '../lambdas/domain/event-envelope';
import { inspectMessage, type ReceivedMessage } from './messages';

/** What the planner needs to know about a queue. */
export interface QueueFacts {
  readonly name: string;
  readonly url: string;
  readonly fifo: boolean;
}

export interface RedriveInput {
  readonly dlq: QueueFacts;
  /** The queue to move messages to, or why there is none. */
  readonly source: { readonly found: true; readonly queue: QueueFacts } | { readonly found: false; readonly reason: string };
  /** The DLQ messages received, in receive order. */
  readonly messages: readonly ReceivedMessage[];
  /** Redrive only this message group. */
  readonly group?: string;
}

export interface PlannedMessage {
  readonly message: ReceivedMessage;
  readonly envelope: EventEnvelope;
}

export interface GroupPlan {
  readonly groupId: string;
  /** The group's messages seen so far, in sequence order (the order SQS returned them). */
  readonly messages: readonly PlannedMessage[];
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

  const problems: string[] = [];
  const groups = new Map<string, PlannedMessage[]>();
  for (const message of selected) {
    const groupId = message.groupId ?? '(none)';
    const planned = groups.get(groupId) ?? [];
    const last = planned.at(-1);
    const problem = checkNext(message, last?.envelope.sequence);
    if (problem.ok) {
      planned.push({ message, envelope: problem.envelope });
    } else {
      problems.push(`message ${message.messageId} (group ${groupId}): ${problem.problem}`);
    }
    groups.set(groupId, planned);
  }
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 message cannot' : `${problems.length} messages cannot`;
    return refused(`${count} be redriven; nothing was moved`, [
      ...problems,
      'Inspect with `dlq show <messageId>`; fix or remove the offending message, then run the redrive again.',
    ]);
  }
  return {
    kind: 'plan',
    source: target,
    groups: [...groups].map(([groupId, messages]) => ({ groupId, messages })),
    notSelected,
  };
}

/**
 * Checks one message against what was already planned or moved for its group: a valid envelope
 * of the group's aggregate, with a sequence above the last one (`undefined` = first of the group).
 */
export function checkNext(
  message: ReceivedMessage,
  lastSequence: number | undefined,
): { readonly ok: true; readonly envelope: EventEnvelope } | { readonly ok: false; readonly problem: string } {
  const inspection = inspectMessage(message);
  if (!inspection.ok) return { ok: false, problem: `not a valid event envelope: ${inspection.problem}` };
  const { sequence } = inspection.envelope;
  if (lastSequence !== undefined && sequence <= lastSequence) {
    return { ok: false, problem: `sequence ${sequence} follows sequence ${lastSequence}: the group is not in ascending sequence order` };
  }
  return inspection;
}

function refused(reason: string, details: readonly string[] = []): RedrivePlan {
  return { kind: 'refused', reason, details };
}
