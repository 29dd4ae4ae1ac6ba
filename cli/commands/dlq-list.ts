/**
 * `dlq list`: a DLQ's approximate counts and the messages it will show now (the head of each
 * message group), held briefly and then made visible again.
 */
import type { Command } from '../args';
import type { CommandContext } from '../context';
import { EXIT, type ExitCode } from '../errors';
import { HeldMessages } from '../held-messages';
import { formatAge, formatTable } from '../output';
import { describeQueue } from '../queues';
import { envelopeFields } from '../../lambdas/domain/event-envelope';

type DlqListCommand = Extract<Command, { name: 'dlq-list' }>;

/** Printed under every FIFO listing: why a listing is not the whole queue. */
export const FIFO_VISIBILITY_NOTE = [
  'FIFO queues show only the head of each message group: while a group\'s first message is received,',
  'SQS hides the rest of that group. AWS may return a few messages of a group together; the local',
  'emulator (fauxqs) returns at most one message per group per receive. `dlq redrive` moves a group',
  'head first, and each later message becomes visible once the one before it has moved.',
];

export async function dlqList(command: DlqListCommand, ctx: CommandContext): Promise<ExitCode> {
  const { out } = ctx;
  const dlq = await describeQueue(command.queue, ctx.target, ctx.sqs);
  const { visible, inFlight, delayed } = dlq.counts;
  out.line(`${dlq.name} (${dlq.url})`);
  out.line(`  ${visible} visible, ${inFlight} in flight, ${delayed} delayed (approximate counts)`);

  const held = new HeldMessages(ctx.sqs, dlq.url);
  try {
    const messages = await held.receiveAll({ holdSeconds: command.holdSeconds, limit: command.max });
    const now = ctx.now().getTime();
    out.line();
    if (messages.length === 0) {
      out.line(inFlight > 0 ? 'No message is visible now (the in-flight ones are held by another receiver).' : 'No messages.');
      return EXIT.ok;
    }
    const groups = new Set(messages.map((m) => m.groupId ?? '(none)'));
    const rows = messages.map((message) => {
      const summary = envelopeFields(message.body);
      return [
        message.messageId,
        message.groupId ?? '-',
        summary.eventId ?? '(not an envelope)',
        summary.type ?? '-',
        summary.sequence === undefined ? '-' : String(summary.sequence),
        String(message.receiveCount),
        message.sentAt === undefined ? '-' : formatAge(now - message.sentAt),
      ];
    });
    for (const line of formatTable(['messageId', 'group', 'eventId', 'type', 'sequence', 'receives', 'age'], rows)) out.line(line);
    out.line();
    const behind = Math.max(0, visible + inFlight - messages.length);
    out.line(`Shown ${messages.length} message(s) of ${groups.size} group(s)${dlq.fifo && behind > 0 ? `; about ${behind} more wait behind these` : ''}.`);
    out.line('"receives" counts this listing too; "age" is the time since SentTimestamp (AWS resets it when moving a message to a FIFO DLQ).');
    if (dlq.fifo) for (const line of FIFO_VISIBILITY_NOTE) out.line(line);
    return EXIT.ok;
  } finally {
    const stuck = await held.release();
    if (stuck.length > 0) out.warn(`${stuck.length} message(s) could not be made visible at once; they reappear when their ${command.holdSeconds}s hold ends.`);
  }
}
