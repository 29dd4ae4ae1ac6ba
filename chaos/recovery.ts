/**
 * The end of a chaos run, after injection stopped: run the PG reconciler until no PG attempt is
 * open (what a lost answer or a killed function left open is committed with its event, or closed
 * as never seen by the PG), then let the relay finish, sweep with grace 0 until
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

/** What the settle phase's reconciler runs did. */
export interface ReconcilerReport {
  /** False when the stack has no scheduled `pg-reconciler` (nothing was run). */
  readonly available: boolean;
  readonly graceSeconds: number;
  /** Attempts open when injection stopped. */
  readonly openAtStart: number;
  readonly runs: number;
  /** Attempts the runs closed (their summaries' `reconciled`), and how those of `openAtStart` ended. */
  readonly closed: number;
  readonly outcomes: Readonly<Record<string, number>>;
  /** Results the runs reported failed (retried by the next run), and runs that threw. */
  readonly failedResults: number;
  readonly failedRuns: number;
  readonly leftOpen: number;
  /** What the reconciler's scheduled runs did before (during the drive and the drain). */
  readonly scheduled: ReconcilerTally;
  readonly durationMs: number;
}

export const PG_RECONCILER = 'pg-reconciler';

/** The reconciler's runs as their summaries report them. */
export interface ReconcilerTally {
  runs: number;
  /** Attempts closed (the summaries' `reconciled`). */
  closed: number;
  failed: number;
}

/**
 * Counts every run of the stack's `pg-reconciler` (scheduled or `runNow`) from here on, by
 * wrapping its local function's `invoke`, which the scheduler calls.
 */
export function tallyReconcilerRuns(stack: LocalStack): ReconcilerTally {
  const tally: ReconcilerTally = { runs: 0, closed: 0, failed: 0 };
  const fn = [...stack.functions.values()].find((candidate) => candidate.spec.shortName === PG_RECONCILER);
  if (!fn) return tally;
  const invoke = fn.invoke.bind(fn);
  fn.invoke = async (event: unknown) => {
    try {
      const summary = (await invoke(event)) as { reconciled?: unknown; failed?: unknown } | undefined;
      tally.closed += Number(summary?.reconciled ?? 0);
      tally.failed += Number(summary?.failed ?? 0);
      return summary;
    } finally {
      tally.runs += 1;
    }
  };
  return tally;
}

const NO_RECONCILER: ReconcilerReport = {
  available: false,
  graceSeconds: 0,
  openAtStart: 0,
  runs: 0,
  closed: 0,
  outcomes: {},
  failedResults: 0,
  failedRuns: 0,
  leftOpen: 0,
  scheduled: { runs: 0, closed: 0, failed: 0 },
  durationMs: 0,
};

export interface ReconcileOptions {
  /** The reconciler function's grace period (RECONCILER_GRACE_SECONDS): younger attempts are not taken. */
  readonly graceSeconds: number;
  /** Longest time to wait for every attempt to be closed. */
  readonly timeoutMs: number;
  /** The runs counted so far (`tallyReconcilerRuns`): reported as the scheduled ones. */
  readonly tally?: ReconcilerTally;
  readonly log: (line: string) => void;
}

type Item = Record<string, unknown>;

/**
 * Runs the stack's own `pg-reconciler` (`scheduler.runNow`, as its schedule would) until no PG
 * attempt is open, waiting for the youngest to pass the grace period, within `timeoutMs`.
 */
export async function reconcileOpenAttempts(stack: LocalStack, options: ReconcileOptions): Promise<ReconcilerReport> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const available = PG_RECONCILER in stack.scheduler.stats;
  let attemptsTable = true;
  try {
    stack.tableName('PgAttempts');
  } catch {
    attemptsTable = false;
  }
  const scheduled = { ...(options.tally ?? NO_RECONCILER.scheduled) };
  if (!available || !attemptsTable) return { ...NO_RECONCILER, graceSeconds: options.graceSeconds, scheduled };
  const keyOf = (item: Item) => `${String(item.paymentId)}|${String(item.operation)}|${String(item.generation)}`;
  const openNow = async () => ((await stack.scanTable('PgAttempts')) as Item[]).filter((item) => item.status === 'open');

  const initial = await openNow();
  let open = initial;
  let runs = 0;
  let closed = 0;
  let failedResults = 0;
  let failedRuns = 0;
  while (open.length > 0 && Date.now() < deadline) {
    const oldest = Math.min(...open.map((item) => Date.parse(String(item.startedAt))));
    const waitMs = Math.min(oldest + options.graceSeconds * 1000 + 250 - Date.now(), deadline - Date.now());
    if (waitMs > 0) await sleep(waitMs);
    try {
      const summary = (await stack.scheduler.runNow(PG_RECONCILER)) as { reconciled?: unknown; failed?: unknown } | undefined;
      closed += Number(summary?.reconciled ?? 0);
      failedResults += Number(summary?.failed ?? 0);
      if (Number(summary?.reconciled ?? 0) === 0) await sleep(1_000);
    } catch (error) {
      failedRuns += 1;
      options.log(`settle: ${PG_RECONCILER} run failed: ${error instanceof Error ? error.message : String(error)}`);
      await sleep(1_000);
    }
    runs += 1;
    open = await openNow();
  }
  const after = new Map(((await stack.scanTable('PgAttempts')) as Item[]).map((item) => [keyOf(item), item]));
  const outcomes: Record<string, number> = {};
  for (const attempt of initial) {
    const now = after.get(keyOf(attempt));
    const outcome = now?.status === 'closed' ? String(now.outcome) : 'still open';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  const report = {
    available,
    graceSeconds: options.graceSeconds,
    openAtStart: initial.length,
    runs,
    closed,
    outcomes,
    failedResults,
    failedRuns,
    leftOpen: open.length,
    scheduled,
    durationMs: Date.now() - started,
  };
  options.log(
    `settle: PG reconciler: its ${scheduled.runs} scheduled run(s) closed ${scheduled.closed} attempt(s); ${initial.length} open at the start, ${closed} closed in ${runs} run(s)` +
      `${Object.keys(outcomes).length ? ` (${Object.entries(outcomes).map(([o, n]) => `${n} ${o}`).join(', ')})` : ''}, ${open.length} left open`,
  );
  return report;
}

export interface SettleReport {
  /** The PG reconciler runs, first of all (their commits are events the rest must deliver). */
  readonly reconciler: ReconcilerReport;
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
  /**
   * Payment id -> the version its projection must reach; a function is called once the reconciler
   * is done (what it committed moves some payments on).
   */
  readonly expected: ReadonlyMap<string, number> | (() => Promise<ReadonlyMap<string, number>>);
  /** The reconciler function's grace period; the reconciler is run first when given. */
  readonly reconcilerGraceSeconds?: number;
  /** Its runs counted since the stack started (see `tallyReconcilerRuns`). */
  readonly reconcilerTally?: ReconcilerTally;
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
  const grace = options.reconcilerGraceSeconds;
  const reconciler =
    grace === undefined
      ? NO_RECONCILER
      : await reconcileOpenAttempts(stack, {
          graceSeconds: grace,
          timeoutMs: Math.min(options.timeoutMs, (grace + 60) * 1000),
          ...(options.reconcilerTally && { tally: options.reconcilerTally }),
          log: options.log,
        });
  const expected = typeof options.expected === 'function' ? await options.expected() : options.expected;
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
  let unapplied = new Map(expected);
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
    reconciler,
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
