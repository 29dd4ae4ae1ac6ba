/** `dlq show <messageId>`: one DLQ message in full (body, system and message attributes, envelope check). */
import type { Command } from '../args';
import type { CommandContext } from '../context';
import { EXIT, type ExitCode } from '../errors';
import { HeldMessages } from '../held-messages';
import { inspectMessage, type ReceivedMessage } from '../messages';
import { formatAge } from '../output';
import { describeQueue } from '../queues';
import { FIFO_VISIBILITY_NOTE } from './dlq-list';

type DlqShowCommand = Extract<Command, { name: 'dlq-show' }>;

export async function dlqShow(command: DlqShowCommand, ctx: CommandContext): Promise<ExitCode> {
  const { out } = ctx;
  const dlq = await describeQueue(command.queue, ctx.target, ctx.sqs);
  const held = new HeldMessages(ctx.sqs, dlq.url);
  try {
    let found: ReceivedMessage | undefined;
    let seen = 0;
    while (found === undefined && seen < command.max) {
      const options = { holdSeconds: command.holdSeconds, max: command.max - seen };
      let batch = await held.receive({ ...options, waitSeconds: 0 });
      if (batch.length === 0) batch = await held.receive({ ...options, waitSeconds: 1 });
      if (batch.length === 0) break;
      seen += batch.length;
      found = batch.find((m) => m.messageId === command.messageId);
    }
    if (found === undefined) {
      out.warn(`Message ${command.messageId} is not among the ${seen} message(s) ${dlq.name} shows now.`);
      if (dlq.fifo) for (const line of FIFO_VISIBILITY_NOTE) out.warn(line);
      return EXIT.error;
    }
    printMessage(found, dlq.name, ctx);
    return EXIT.ok;
  } finally {
    await held.release();
  }
}

function printMessage(message: ReceivedMessage, queueName: string, ctx: CommandContext): void {
  const { out } = ctx;
  out.line(`Message ${message.messageId} in ${queueName}`);
  out.line(`  group            ${message.groupId ?? '-'}`);
  out.line(`  deduplication id ${message.deduplicationId ?? '-'}`);
  out.line(`  receives         ${message.receiveCount} (this one included)`);
  if (message.sentAt !== undefined) {
    out.line(`  sent             ${new Date(message.sentAt).toISOString()} (${formatAge(ctx.now().getTime() - message.sentAt)} ago)`);
  }
  out.line('System attributes');
  for (const [name, value] of Object.entries(message.attributes).sort(([a], [b]) => a.localeCompare(b))) out.line(`  ${name} = ${value}`);
  out.line('Message attributes');
  const attributes = Object.entries(message.messageAttributes).sort(([a], [b]) => a.localeCompare(b));
  if (attributes.length === 0) out.line('  (none)');
  for (const [name, value] of attributes) {
    const shown = value.StringValue ?? (value.BinaryValue ? `<${value.BinaryValue.byteLength} bytes>` : '');
    out.line(`  ${name} (${value.DataType ?? '?'}) = ${shown}`);
  }
  const inspection = inspectMessage(message);
  out.line(`Envelope: ${inspection.ok ? `valid (${inspection.envelope.type}, sequence ${inspection.envelope.sequence}, eventId ${inspection.envelope.eventId})` : `INVALID: ${inspection.problem}`}`);
  out.line('Body');
  let pretty = message.body;
  try {
    pretty = JSON.stringify(JSON.parse(message.body), null, 2);
  } catch {
    // Not JSON: shown as is.
  }
  for (const line of pretty.split('\n')) out.line(`  ${line}`);
}
