/**
 * `dlq delete <queue>`: removes chosen messages from a DLQ on purpose (a message that can never
 * be delivered, a copy nobody needs). The chosen messages are received with a visibility hold
 * (as redrive holds messages), shown, and deleted by receipt handle once the operator confirms
 * on stdin (y/N) or passed `--yes`. Other messages it had to receive are handed back.
 *
 * Only a DLQ: a queue that another queue's RedrivePolicy names (found the way redrive finds its
 * source). A FIFO DLQ hides a group's later messages behind its head, so a chosen message behind
 * a chosen one is deleted when it appears, and one behind a message that stays is reported as
 * not found.
 */
import { createInterface } from 'node:readline';
import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import type { Command, DeleteSelection } from '../args';
import type { CommandContext } from '../context';
import { EXIT, QueueNotFoundError, RefusedError, type ExitCode } from '../errors';
import { HeldMessages } from '../held-messages';
import type { ReceivedMessage } from '../messages';
import { formatTable } from '../output';
import { deadLetterSources, describeQueue, sourceNameForDlq, type QueueInfo } from '../queues';
import { envelopeFields } from '../../lambdas/domain/event-envelope';
import { FIFO_VISIBILITY_NOTE } from './dlq-list';

type DlqDeleteCommand = Extract<Command, { name: 'dlq-delete' }>;

/** Asks the operator a yes/no question; true only for an explicit yes. */
export type Confirm = (question: string) => Promise<boolean>;

/** Reads one line from stdin (the question goes to stderr): `y` or `yes` confirms; anything else, or no input, does not. */
export const confirmOnStdin: Confirm = async (question) => {
  process.stderr.write(question);
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    const answer = await new Promise<string>((resolveAnswer) => {
      lines.once('line', resolveAnswer);
      lines.once('close', () => resolveAnswer(''));
    });
    // A piped answer is not echoed: end the question's line.
    if (!process.stdin.isTTY) process.stderr.write('\n');
    return isYes(answer);
  } finally {
    lines.close();
  }
};

export function isYes(answer: string): boolean {
  return /^y(es)?$/i.test(answer.trim());
}

/** Whether a received message is one of the chosen. */
export function isChosen(selection: DeleteSelection, message: ReceivedMessage): boolean {
  if (selection.kind === 'messages') return selection.messageIds.includes(message.messageId);
  if (message.groupId !== selection.groupId) return false;
  if (selection.sequences === undefined) return true;
  const { sequence } = envelopeFields(message.body);
  return sequence !== undefined && selection.sequences.includes(sequence);
}

/** The chosen messages not deleted, as lines for the output. */
export function notFound(selection: DeleteSelection, removed: readonly ReceivedMessage[]): string[] {
  if (selection.kind === 'messages') {
    const ids = new Set(removed.map((m) => m.messageId));
    return selection.messageIds.filter((id) => !ids.has(id)).map((id) => `message ${id}`);
  }
  if (selection.sequences === undefined) return removed.length === 0 ? [`any message of group ${selection.groupId}`] : [];
  const sequences = new Set(removed.map((m) => envelopeFields(m.body).sequence));
  return selection.sequences.filter((n) => !sequences.has(n)).map((n) => `group ${selection.groupId} sequence ${n}`);
}

export async function dlqDelete(command: DlqDeleteCommand, ctx: CommandContext, confirm: Confirm = confirmOnStdin): Promise<ExitCode> {
  const { out } = ctx;
  let dlq: QueueInfo;
  try {
    dlq = await describeQueue(command.queue, ctx.target, ctx.sqs);
  } catch (error) {
    if (error instanceof QueueNotFoundError) throw new RefusedError(`the queue ${command.queue} does not exist; nothing was deleted`);
    throw error;
  }
  const sources = await sourcesOf(dlq, ctx);
  if (sources.length === 0) {
    throw new RefusedError(`${dlq.name} is not a DLQ: no queue's RedrivePolicy names it, and dlq delete only deletes from DLQs; nothing was deleted`);
  }

  const held = new HeldMessages(ctx.sqs, dlq.url);
  const removed: ReceivedMessage[] = [];
  try {
    const visible = await held.receiveAll({ holdSeconds: command.holdSeconds, limit: command.max });
    let chosen = visible.filter((m) => isChosen(command.selection, m));
    out.line(`Delete from ${dlq.name} (the DLQ of ${sources.map((s) => s.name).join(', ')})`);
    out.line();
    if (chosen.length === 0) {
      out.line(`None of the chosen messages is among the ${visible.length} message(s) ${dlq.name} shows now.`);
      report(command.selection, removed, dlq, ctx);
      return EXIT.error;
    }
    for (const line of formatTable(['messageId', 'group', 'sequence', 'eventId', 'type', 'receives'], chosen.map(row))) out.line(`  ${line}`);
    const missing = notFound(command.selection, chosen);
    if (missing.length > 0) out.line(`  not visible now (deleted if they appear behind a deleted message): ${missing.join(', ')}`);
    out.line();

    const { selection } = command;
    const wholeGroup = selection.kind === 'group' && selection.sequences === undefined;
    const more = selection.kind === 'group' && wholeGroup ? `, and every later message of group ${selection.groupId} as it becomes visible` : '';
    if (!command.yes && !(await confirm(`Delete ${chosen.length} message(s) from ${dlq.name}${more}? This cannot be undone. [y/N] `))) {
      throw new RefusedError('not confirmed; nothing was deleted', ['Answer y to delete, or pass --yes.']);
    }

    // Delete what was confirmed; a deleted head uncovers the next message of its group, which is
    // deleted too when it is one of the chosen.
    while (chosen.length > 0 && removed.length < command.max) {
      chosen = await stillHeld(chosen, held, command.holdSeconds);
      for (const message of chosen) {
        await ctx.sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: message.receiptHandle }));
        held.forget(message);
        removed.push(message);
        out.line(`  removed ${describe(message)}`);
      }
      if (notFound(command.selection, removed).length === 0 && !wholeGroup) break;
      const arrived = await held.receiveAll({ holdSeconds: command.holdSeconds, limit: Math.max(1, command.max - removed.length) });
      const known = new Set(removed.map((m) => m.messageId));
      chosen = arrived.filter((m) => isChosen(command.selection, m) && !known.has(m.messageId));
    }
    out.line();
    return report(command.selection, removed, dlq, ctx);
  } finally {
    const stuck = await held.release();
    if (stuck.length > 0) out.warn(`${stuck.length} message(s) could not be made visible at once; they reappear when their ${command.holdSeconds}s hold ends.`);
  }
}

/** Queues whose RedrivePolicy names the DLQ: the one its name gives first (one lookup), else all of them. */
async function sourcesOf(dlq: QueueInfo, ctx: CommandContext): Promise<QueueInfo[]> {
  const derived = sourceNameForDlq(dlq.name);
  if (derived !== undefined) {
    try {
      const queue = await describeQueue(derived, ctx.target, ctx.sqs);
      if (queue.redrive?.deadLetterTargetArn === dlq.arn) return [queue];
    } catch (error) {
      if (!(error instanceof QueueNotFoundError)) throw error;
    }
  }
  return deadLetterSources(dlq.arn, ctx.target, ctx.sqs);
}

/**
 * Only a message this run still holds is deleted (the operator may have taken longer to answer
 * than the hold): renew each hold; messages whose hold ran out are received again and kept when
 * they come back.
 */
async function stillHeld(messages: readonly ReceivedMessage[], held: HeldMessages, holdSeconds: number): Promise<ReceivedMessage[]> {
  const kept: ReceivedMessage[] = [];
  const lost: ReceivedMessage[] = [];
  for (const message of messages) ((await held.renew(message, holdSeconds)) ? kept : lost).push(message);
  if (lost.length === 0) return kept;
  for (const message of lost) held.forget(message);
  const again = await held.receiveAll({ holdSeconds, limit: 10_000 });
  const ids = new Set(lost.map((m) => m.messageId));
  return [...kept, ...again.filter((m) => ids.has(m.messageId))];
}

function report(selection: DeleteSelection, removed: readonly ReceivedMessage[], dlq: QueueInfo, ctx: CommandContext): ExitCode {
  const { out } = ctx;
  out.line(`Removed ${removed.length} message(s) from ${dlq.name}.`);
  const missing = notFound(selection, removed);
  if (missing.length === 0) return EXIT.ok;
  out.warn(`Not found (nothing deleted for these): ${missing.join(', ')}.`);
  if (dlq.fifo) for (const line of FIFO_VISIBILITY_NOTE) out.warn(line);
  return EXIT.error;
}

function row(message: ReceivedMessage): string[] {
  const fields = envelopeFields(message.body);
  return [
    message.messageId,
    message.groupId ?? '-',
    fields.sequence === undefined ? '-' : String(fields.sequence),
    fields.eventId ?? '(not an envelope)',
    fields.type ?? '-',
    String(message.receiveCount),
  ];
}

function describe(message: ReceivedMessage): string {
  const fields = envelopeFields(message.body);
  return `message ${message.messageId} (group ${message.groupId ?? '-'}, sequence ${fields.sequence ?? '-'}, event ${fields.eventId ?? '(not an envelope)'})`;
}
