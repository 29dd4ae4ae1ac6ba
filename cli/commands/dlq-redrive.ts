/**
 * `dlq redrive`: moves DLQ messages back to their source queue, a message group at a time, in
 * sequence order: send to the source (same group, body and attributes, a new deduplication id
 * `<eventId>:redrive:<runId>`), then delete from the DLQ, then the next message of the group.
 *
 * Before anything moves, every message the DLQ shows is checked (valid envelope of its group's
 * payment, no eventId under two payments), and so are the queues (the source exists and is
 * FIFO); any failure refuses the whole redrive (exit 2, nothing moved). A FIFO queue hides a
 * group's later messages until its head is gone, so those are checked as they appear; if one
 * fails, the redrive halts there (exit 2): the messages already moved are the group's leading,
 * in-order part, and the offending message and everything after it stay in the DLQ.
 *
 * Copies of events the subscriber already has (redrive-plan.ts `RedriveLedger`: an event this
 * run moved, a sequence at or below one it moved, a sequence the Inbox shows applied) are
 * deleted from the DLQ when their turn comes, instead of halting: a group moves in one round,
 * and the output names each dropped message and why.
 */
import { DeleteMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { projectionKey } from '../../lambdas/adapters/dynamodb-inbox';
import type { Command } from '../args';
import type { CommandContext } from '../context';
import { EXIT, QueueNotFoundError, RefusedError, type ExitCode } from '../errors';
import { HeldMessages } from '../held-messages';
import { inspectMessage, redriveRequest, type ReceivedMessage } from '../messages';
import { formatTable } from '../output';
import { deadLetterSources, describeQueue, sourceNameForDlq, type QueueInfo } from '../queues';
import {
  planRedrive,
  RedriveLedger,
  type DeliveredState,
  type GroupPlan,
  type PlannedMessage,
  type PlannedStep,
  type RedriveInput,
} from '../redrive-plan';
import { FIFO_VISIBILITY_NOTE } from './dlq-list';

type DlqRedriveCommand = Extract<Command, { name: 'dlq-redrive' }>;

/** Most messages the pre-check holds at once (SQS allows 120,000 in flight per FIFO queue). */
const MAX_INSPECTED = 10_000;

export async function dlqRedrive(command: DlqRedriveCommand, ctx: CommandContext): Promise<ExitCode> {
  const { out } = ctx;
  let dlq: QueueInfo;
  try {
    dlq = await describeQueue(command.queue, ctx.target, ctx.sqs);
  } catch (error) {
    if (error instanceof QueueNotFoundError) throw new RefusedError(`the DLQ ${command.queue} does not exist; nothing was moved`);
    throw error;
  }
  const source = await findSource(command, dlq, ctx);
  const runId = command.runId ?? ctx.newRunId();

  const held = new HeldMessages(ctx.sqs, dlq.url);
  try {
    const seen = await held.receiveAll({ holdSeconds: command.holdSeconds, limit: MAX_INSPECTED });
    const delivered = command.inboxTable === undefined ? undefined : await readDelivered(command.inboxTable, seen, command.group, ctx);
    const plan = planRedrive({
      dlq,
      source,
      messages: seen,
      ...(command.group !== undefined && { group: command.group }),
      ...(delivered !== undefined && { delivered }),
    });
    if (plan.kind === 'refused') throw new RefusedError(plan.reason, plan.details);

    out.line(`Redrive ${dlq.name} -> ${plan.source.name}${command.group !== undefined ? ` (group ${command.group} only)` : ''}`);
    out.line(`  run id ${runId} (MessageDeduplicationId = <eventId>:redrive:${runId})`);
    if (delivered !== undefined) out.line(`  already delivered: read from ${delivered.source} (the consumer's payment projections)`);
    const selected = plan.groups.reduce((sum, g) => sum + g.messages.length, 0);
    const total = dlq.counts.visible + dlq.counts.inFlight;
    out.line(`  the DLQ holds about ${total} message(s); ${seen.length} visible now, ${selected} of them in ${plan.groups.length} group(s) selected`);
    if (plan.groups.length === 0) {
      out.line('Nothing to redrive.');
      return EXIT.ok;
    }
    out.line();
    for (const line of formatTable(['group', 'seen', 'sequences', 'to drop', 'first messageId'], plan.groups.map(groupRow))) out.line(`  ${line}`);
    const drops = plan.groups.flatMap((g) => g.messages).filter((step) => step.decision.kind === 'drop');
    if (drops.length > 0) {
      out.line();
      out.line('  To drop (deleted from the DLQ, not sent), each once the messages ahead of it have moved:');
      for (const step of drops) out.line(`    ${describe(step)}: ${step.decision.kind === 'drop' ? step.decision.reason : ''}`);
    }
    out.line();
    for (const line of FIFO_VISIBILITY_NOTE) out.line(line);

    if (command.dryRun) {
      out.line();
      out.line('Dry run: nothing was moved or dropped. Each group would move in this order, then any messages that appear behind it (copies of what moved are dropped).');
      return EXIT.ok;
    }

    // Other groups' heads stay held while a group moves: a receive then only returns the
    // moving group's next message (or messages that arrived since).
    const pending = new Map<string, PlannedMessage[]>(plan.groups.map((g) => [g.groupId, g.messages.map(({ message, envelope }) => ({ message, envelope }))]));
    const leftAlone: ReceivedMessage[] = [...plan.notSelected];
    const ledger = new RedriveLedger(delivered);
    const moved: Array<{ group: string; sequences: number[]; dropped: number }> = [];
    let holdsRenewedAt = ctx.now().getTime();
    out.line();
    for (const { groupId } of plan.groups) {
      const queue = pending.get(groupId) ?? [];
      pending.delete(groupId);
      const result = { group: groupId, sequences: [] as number[], dropped: 0 };
      moved.push(result);
      const progress = () => {
        if (result.sequences.length > 0) out.line(`  moved group ${groupId} in part: ${result.sequences.length} message(s), sequences ${formatSequences(result.sequences)}`);
      };
      /**
       * Takes in newly visible messages; throws the refusal when one of them fails its check.
       * `done`: nothing of this group came back, from a receive that was not full either.
       */
      const takeArrivals = async (): Promise<{ done: boolean }> => {
        const { arrived, full } = await receiveMore(held, groupId, command.holdSeconds);
        const fresh = arrived.filter((message) => !renewStale(message, held, [queue, ...pending.values()], leftAlone));
        const halt = sortArrivals(fresh, { groupId, queue }, pending, leftAlone, command.group);
        if (halt !== undefined) haltAt(halt);
        return { done: queue.length === 0 && !full };
      };
      const haltAt = (halt: { message: ReceivedMessage; group: string; problem: string }): never => {
        progress();
        throw new RefusedError(`redrive halted at message ${halt.message.messageId} (group ${halt.group}): ${halt.problem}`, [
          `Group ${groupId}: ${result.sequences.length} message(s) were moved (sequences ${formatSequences(result.sequences)}), in order; the rest of it stays in the DLQ.`,
          `The offending message and every later message of group ${halt.group} stay in the DLQ; groups after ${groupId} were not touched.`,
          'Inspect it with `dlq show <messageId>`, fix or remove it (`dlq delete`), then run the redrive again.',
        ]);
      };
      for (;;) {
        // Renew every hold once half of it has passed: other groups' heads must stay hidden (and
        // their receipt handles valid) until their turn, however long the groups before them take.
        if (ctx.now().getTime() - holdsRenewedAt > (command.holdSeconds * 1000) / 2) {
          await held.extend(held.all(), command.holdSeconds);
          holdsRenewedAt = ctx.now().getTime();
        }
        const next = queue[0];
        if (next === undefined) {
          if ((await takeArrivals()).done) break;
          continue;
        }
        // Only a message this run still holds is moved: its receipt handle is valid and no one
        // else can be working on it. When its hold ran out, it is received again first.
        if (!(await held.renew(next.message, command.holdSeconds))) {
          await takeArrivals();
          if (queue[0]?.message.receiptHandle === next.message.receiptHandle) {
            progress();
            throw new Error(
              `lost hold of message ${next.message.messageId} (group ${groupId}): its hold ran out and it was not received again (does another receiver read the DLQ?); it stays in the DLQ. Use a longer --hold-seconds.`,
            );
          }
          continue;
        }
        // Decided on what this run really moved: a copy is only dropped behind the message it copies.
        const decision = ledger.decide(next.envelope);
        if (decision.kind === 'refuse') haltAt({ message: next.message, group: groupId, problem: decision.problem });
        queue.shift();
        if (decision.kind === 'drop') {
          await dropOne(next, held, ctx, progress);
          out.line(`  dropped ${describe(next)}: ${decision.reason}`);
          result.dropped += 1;
          continue;
        }
        await moveOne(next, plan.source.url, runId, held, ctx, progress);
        ledger.moved(next.envelope);
        result.sequences.push(next.envelope.sequence);
      }
      const dropped = result.dropped > 0 ? `; dropped ${result.dropped} message(s) the subscriber already has` : '';
      out.line(`  moved group ${groupId}: ${result.sequences.length} message(s), sequences ${formatSequences(result.sequences)}${dropped}`);
    }
    const count = moved.reduce((sum, m) => sum + m.sequences.length, 0);
    const droppedCount = moved.reduce((sum, m) => sum + m.dropped, 0);
    out.line();
    out.line(`Moved ${count} message(s) of ${moved.length} group(s) to ${plan.source.name}.`);
    if (droppedCount > 0) out.line(`Dropped ${droppedCount} message(s) from ${dlq.name}: copies of events the subscriber already has (each is named above).`);
    if (leftAlone.length > 0) out.line(`${leftAlone.length} message(s) were left in the DLQ (other groups, or messages that arrived during the redrive): run it again for them.`);
    const after = await describeQueue(dlq.url, ctx.target, ctx.sqs);
    out.line(`${dlq.name} now holds about ${after.counts.visible + after.counts.inFlight + after.counts.delayed} message(s) (${leftAlone.length} of them held by this run until it ends).`);
    return EXIT.ok;
  } finally {
    await held.release();
  }
}

/** The target: `--to`, else the DLQ's name without "-dlq", else the queue whose RedrivePolicy names the DLQ. */
async function findSource(command: DlqRedriveCommand, dlq: QueueInfo, ctx: CommandContext): Promise<RedriveInput['source']> {
  const tryQueue = async (ref: string): Promise<QueueInfo | undefined> => {
    try {
      return await describeQueue(ref, ctx.target, ctx.sqs);
    } catch (error) {
      if (error instanceof QueueNotFoundError) return undefined;
      throw error;
    }
  };
  if (command.to !== undefined) {
    const queue = await tryQueue(command.to);
    return queue ? { found: true, queue } : { found: false, reason: `the source queue ${command.to} does not exist; nothing was moved` };
  }
  const derived = sourceNameForDlq(dlq.name);
  if (derived !== undefined) {
    const queue = await tryQueue(derived);
    if (queue) return { found: true, queue };
  }
  const sources = await deadLetterSources(dlq.arn, ctx.target, ctx.sqs);
  const [only] = sources;
  if (sources.length === 1 && only) return { found: true, queue: only };
  if (sources.length > 1) {
    return { found: false, reason: `several queues use ${dlq.name} as their DLQ (${sources.map((s) => s.name).join(', ')}): choose one with --to` };
  }
  return {
    found: false,
    reason: `the source queue does not exist: ${derived !== undefined ? `${derived} was not found and ` : ''}no queue's RedrivePolicy names ${dlq.name}; pass --to <queue>`,
  };
}

/**
 * The next messages the DLQ shows: at once if the moving group has one, else also after a
 * 1-second long poll (which asks every SQS server). Other groups' messages may come along: new
 * arrivals, or heads whose hold ran out. `full`: a receive returned as many as it could.
 */
async function receiveMore(held: HeldMessages, groupId: string, holdSeconds: number): Promise<{ arrived: ReceivedMessage[]; full: boolean }> {
  const now = await held.receive({ holdSeconds, waitSeconds: 0 });
  if (now.some((m) => m.groupId === groupId)) return { arrived: now, full: false };
  const later = await held.receive({ holdSeconds, waitSeconds: 1 });
  return { arrived: [...now, ...later], full: later.length === 10 };
}

/**
 * Files newly visible messages: the moving group's and a pending group's join their group's
 * queue once they are valid envelopes (the first that is not halts the redrive; whether one is a
 * copy is decided when its turn comes); messages of groups that were not selected, or have moved
 * already (they failed again meanwhile), are left in the DLQ.
 */
function sortArrivals(
  arrived: readonly ReceivedMessage[],
  moving: { readonly groupId: string; readonly queue: PlannedMessage[] },
  pending: ReadonlyMap<string, PlannedMessage[]>,
  leftAlone: ReceivedMessage[],
  onlyGroup: string | undefined,
): { message: ReceivedMessage; group: string; problem: string } | undefined {
  for (const message of arrived) {
    const group = message.groupId ?? '(none)';
    const selected = onlyGroup === undefined || onlyGroup === group;
    const queue = group === moving.groupId ? moving.queue : selected ? pending.get(group) : undefined;
    if (queue === undefined) {
      leftAlone.push(message);
      continue;
    }
    const inspection = inspectMessage(message);
    if (!inspection.ok) return { message, group, problem: `not a valid event envelope: ${inspection.problem}` };
    queue.push({ message, envelope: inspection.envelope });
  }
  return undefined;
}

/**
 * A message this run already holds came back (its hold ran out before the renewal): keep one
 * copy, with the new receipt handle, where the old one was. Returns true when it was such a message.
 */
function renewStale(message: ReceivedMessage, held: HeldMessages, queues: PlannedMessage[][], leftAlone: ReceivedMessage[]): boolean {
  const stale = held.replaceStale(message);
  if (stale === undefined) return false;
  for (const queue of queues) {
    const index = queue.findIndex((planned) => planned.message.messageId === message.messageId);
    const planned = queue[index];
    if (planned) queue[index] = { message, envelope: planned.envelope };
  }
  const index = leftAlone.findIndex((m) => m.messageId === message.messageId);
  if (index >= 0) leftAlone[index] = message;
  return true;
}

/** Send, then delete: the message is never only in flight between the two queues. */
async function moveOne(
  next: PlannedMessage,
  sourceUrl: string,
  runId: string,
  held: HeldMessages,
  ctx: CommandContext,
  reportSoFar: () => void,
): Promise<void> {
  const { message, envelope } = next;
  try {
    await ctx.sqs.send(new SendMessageCommand(redriveRequest(sourceUrl, message, envelope, runId)));
  } catch (error) {
    reportSoFar();
    throw new Error(
      `sending message ${message.messageId} (${envelope.aggregateId} #${envelope.sequence}) failed, so it and the rest of its group stay in the DLQ: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    await ctx.sqs.send(new DeleteMessageCommand({ QueueUrl: held.queueUrl, ReceiptHandle: message.receiptHandle }));
  } catch (error) {
    reportSoFar();
    throw new Error(
      `message ${message.messageId} (${envelope.aggregateId} #${envelope.sequence}) was sent to the source queue but could not be deleted from the DLQ (${(error as Error).message}); ` +
        'it is in both queues now: consumers skip the second copy by eventId, and a later redrive would send it again.',
      { cause: error },
    );
  }
  held.forget(message);
}

/** Deletes a message this run holds, without sending it: the subscriber already has its event. */
async function dropOne(next: PlannedMessage, held: HeldMessages, ctx: CommandContext, reportSoFar: () => void): Promise<void> {
  try {
    await ctx.sqs.send(new DeleteMessageCommand({ QueueUrl: held.queueUrl, ReceiptHandle: next.message.receiptHandle }));
  } catch (error) {
    reportSoFar();
    throw new Error(`deleting ${describe(next)} from the DLQ failed, so it and the rest of its group stay there: ${(error as Error).message}`, { cause: error });
  }
  held.forget(next.message);
}

/**
 * The consumer's payment projections (`payment#<id>`, `lastSequence`) for the selected groups
 * the DLQ shows: what the example consumer has applied. Consistent reads; a payment without a
 * projection has applied nothing.
 */
async function readDelivered(name: string, seen: readonly ReceivedMessage[], onlyGroup: string | undefined, ctx: CommandContext): Promise<DeliveredState> {
  // Locally the table may be named by its logical id (endpoints.json `tables`: `InboxTable`).
  const table = (ctx.target.kind === 'local' ? ctx.target.tables[name] : undefined) ?? name;
  const groups = new Set(seen.map((m) => m.groupId).filter((g): g is string => g !== undefined && (onlyGroup === undefined || g === onlyGroup)));
  const lastSequence = new Map<string, number>();
  for (const group of groups) {
    const { Item } = await ctx.documents.send(
      new GetCommand({ TableName: table, Key: { pk: projectionKey(group) }, ConsistentRead: true, ProjectionExpression: 'lastSequence' }),
    );
    if (typeof Item?.lastSequence === 'number') lastSequence.set(group, Item.lastSequence);
  }
  return { source: `Inbox table ${table}`, lastSequence };
}

function describe(planned: PlannedMessage): string {
  return `message ${planned.message.messageId} (${planned.envelope.aggregateId} #${planned.envelope.sequence}, event ${planned.envelope.eventId})`;
}

function groupRow(group: GroupPlan): string[] {
  const moving = group.messages.filter((m: PlannedStep) => m.decision.kind === 'move').map((m) => m.envelope.sequence);
  const drops = group.messages.length - moving.length;
  return [group.groupId, String(group.messages.length), formatSequences(moving), String(drops), group.messages[0]?.message.messageId ?? '-'];
}

function formatSequences(sequences: readonly number[]): string {
  if (sequences.length === 0) return '-';
  const first = sequences[0] as number;
  const last = sequences.at(-1) as number;
  return first === last ? String(first) : `${first}..${last}`;
}
