/**
 * The end of a chaos run, after injection stopped: let the relay finish, sweep with grace 0 until
 * nothing is pending, then wait for the consumer while redriving the DLQ with the outbox CLI's own
 * code (`npm run outbox -- dlq redrive`), until every payment's projection reached its version and
 * both queues are empty, or the time is up. A message that keeps coming back is not redriven
 * forever: once a group was redriven `maxRedrivesPerGroup` times, redriving stops and what is left
 * in the DLQ is listed (with `dlq list`) and reported.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { parseCommandLine } from '../cli/args';
import { newRunId } from '../cli/messages';
import { BufferedOutput } from '../cli/output';
import { runCommand } from '../cli/run';
import { createClients, resolveTarget } from '../cli/target';
import type { LocalStack } from '../local/stack';
import { join } from 'node:path';
import { installPublishFaults } from './faults/publish-faults';
import {
  PAYMENT_EVENTS_DLQ,
  PAYMENT_EVENTS_QUEUE,
  RELAY_POLLER,
  sweepUntilNothingPending,
  type FinalSweepReport,
  type SweeperDependencies,
} from './sweeper';

export interface OutboxCommandResult {
  readonly exitCode: number;
  readonly output: BufferedOutput;
}

/**
 * Runs one `npm run outbox -- <args>` command in this process against the local stack's
 * endpoints.json, on clients made for it here with the publish fault middlewares: its SQS
 * SendMessageBatch calls meet the publish faults while they are injected (the recovery below runs
 * it after injection stopped, so everything passes through).
 */
export async function runOutboxCommand(stateDir: string, args: readonly string[]): Promise<OutboxCommandResult> {
  const command = parseCommandLine([...args, '--local', '--endpoints', join(stateDir, 'endpoints.json')]);
  if (command.name === 'help') throw new Error(`not a command: ${args.join(' ')}`);
  const target = resolveTarget(command.target);
  const clients = installPublishFaults(createClients(target));
  const output = new BufferedOutput();
  try {
    const exitCode = await runCommand(command, { target, ...clients, out: output, now: () => new Date(), newRunId: () => newRunId() });
    return { exitCode, output };
  } finally {
    clients.destroy();
  }
}

/** Messages in a queue: visible + in flight + delayed (approximate, as SQS counts). */
export async function queueDepth(stack: LocalStack, queueName: string): Promise<number> {
  const { Attributes = {} } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queueUrl(queueName),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** The payments (of `expected`) whose projection has not reached the expected version yet. */
export async function unappliedPayments(stack: LocalStack, expected: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const table = stack.tableName('Inbox');
  const ids = [...expected.keys()];
  const reached = new Set<string>();
  for (let i = 0; i < ids.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + 100).map((id) => ({ pk: `payment#${id}` }));
    while (keys && keys.length > 0) {
      const page = await stack.clients.documents.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'paymentId, lastSequence' } } }),
      );
      for (const item of page.Responses?.[table] ?? []) {
        const id = String(item.paymentId);
        if (typeof item.lastSequence === 'number' && item.lastSequence >= (expected.get(id) ?? Infinity)) reached.add(id);
      }
      keys = page.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return new Map([...expected].filter(([id]) => !reached.has(id)));
}

export interface RedriveRound {
  readonly exitCode: number;
  readonly moved: number;
  /** The command's warnings (refusals, errors), if any. */
  readonly warnings: readonly string[];
}

export interface SettleReport {
  readonly relayIdle: boolean;
  readonly finalSweep: FinalSweepReport;
  readonly redrives: readonly RedriveRound[];
  /** Every projection complete, both queues empty. */
  readonly settled: boolean;
  readonly unapplied: number;
  readonly mainQueueDepth: number;
  /** Messages left in the DLQ at the end, and `dlq list`'s output when there are some. */
  readonly leftInDlq: number;
  readonly dlqListing: readonly string[];
  readonly durationMs: number;
}

export interface SettleOptions {
  readonly stateDir: string;
  /** Payment id -> the version its projection must reach. */
  readonly expected: ReadonlyMap<string, number>;
  readonly sweeper: SweeperDependencies;
  readonly timeoutMs: number;
  /**
   * A payment (message group) redriven this many times keeps failing for a real reason: redriving
   * stops, and what is left in the DLQ is reported. @default 3
   */
  readonly maxRedrivesPerGroup?: number;
  /**
   * Give up early when nothing can move any more: both queues empty and the unapplied count
   * unchanged for this long (nothing is pending either, so those events are lost). @default 20_000
   */
  readonly stallMs?: number;
  readonly log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function settle(stack: LocalStack, options: SettleOptions): Promise<SettleReport> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const maxPerGroup = options.maxRedrivesPerGroup ?? 3;
  const redrivenGroups = new Map<string, number>();
  let redriveStopped: string | undefined;
  const relayIdle = await stack.pollers
    .stream(RELAY_POLLER)
    .waitForIdle(Math.min(options.timeoutMs, 120_000))
    .then(
      () => true,
      () => false,
    );
  const finalSweep = await sweepUntilNothingPending(options.sweeper);
  options.log(`settle: relay ${relayIdle ? 'idle' : 'NOT idle'}; final sweep: ${finalSweep.republished} event(s) republished in ${finalSweep.rounds} round(s), ${finalSweep.remaining} pending left`);

  const redrives: RedriveRound[] = [];
  let unapplied = new Map(options.expected);
  let dlq = 0;
  let main = 0;
  let lastRedriveAt = 0;
  let lastLogAt = Date.now();
  let settled = false;
  let stalledSince: { at: number; unapplied: number } | undefined;
  while (Date.now() < deadline) {
    unapplied = await unappliedPayments(stack, unapplied);
    [dlq, main] = await Promise.all([queueDepth(stack, PAYMENT_EVENTS_DLQ), queueDepth(stack, PAYMENT_EVENTS_QUEUE)]);
    if (unapplied.size === 0 && dlq === 0 && main === 0) {
      settled = true;
      break;
    }
    if (main === 0 && (dlq === 0 || redriveStopped !== undefined)) {
      if (stalledSince?.unapplied !== unapplied.size) stalledSince = { at: Date.now(), unapplied: unapplied.size };
      else if (Date.now() - stalledSince.at > (options.stallMs ?? 20_000)) {
        options.log(`settle: giving up: ${unapplied.size} payment(s) not fully applied, no message left in either queue and nothing pending`);
        break;
      }
    } else stalledSince = undefined;
    if (Date.now() - lastLogAt > 5_000) {
      options.log(`settle: ${unapplied.size} payment(s) not fully applied, ${main} message(s) in ${PAYMENT_EVENTS_QUEUE}, ${dlq} in ${PAYMENT_EVENTS_DLQ}`);
      lastLogAt = Date.now();
    }
    // Redrive when the DLQ holds something, not more than every 3 s: messages of one payment
    // reach the DLQ one after another (each after maxReceiveCount receives).
    if (dlq > 0 && redriveStopped === undefined && Date.now() - lastRedriveAt > 3_000) {
      const { exitCode, output } = await runOutboxCommand(options.stateDir, ['dlq', 'redrive', '--hold-seconds', '60']);
      const text = [...output.lines, ...output.warnings].join('\n');
      let moved = 0;
      for (const [, group, count] of text.matchAll(/moved group (\S+?)(?: in part)?: (\d+) message/g)) {
        moved += Number(count);
        const times = (redrivenGroups.get(group as string) ?? 0) + 1;
        redrivenGroups.set(group as string, times);
        if (times >= maxPerGroup) redriveStopped ??= `group ${group as string} was redriven ${times} times and came back`;
      }
      redrives.push({ exitCode, moved, warnings: output.warnings.filter((line) => !line.startsWith('target:')) });
      options.log(`settle: dlq redrive #${redrives.length}: exit ${exitCode}, moved ${moved}${output.warnings.length ? `; ${output.warnings.join(' / ')}` : ''}`);
      lastRedriveAt = Date.now();
      if (redriveStopped) options.log(`settle: no more redrives: ${redriveStopped}`);
    }
    await sleep(1_000);
  }
  let dlqListing: string[] = [];
  if (dlq > 0) dlqListing = (await runOutboxCommand(options.stateDir, ['dlq', 'list', '--max', '50', '--hold-seconds', '1'])).output.lines;
  return {
    relayIdle,
    finalSweep,
    redrives,
    settled,
    unapplied: unapplied.size,
    mainQueueDepth: main,
    leftInDlq: dlq,
    dlqListing,
    durationMs: Date.now() - started,
  };
}
