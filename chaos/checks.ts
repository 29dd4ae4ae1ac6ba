/**
 * What a chaos run must prove, read from the tables after the pipeline settled: every committed
 * event applied exactly once, in order, per payment; nothing from a failed transaction; nothing
 * left pending or in the DLQ; money at the PG agreeing with the payments (the sandbox's ledger
 * table, or toss-local's ledger of the money it moved: every charge approved or refunded, none
 * twice, no approved payment cancelled without its refund, no PG attempt left open); every caller
 * whose answer was lost after the commit answered the committed payment on its retry, with nothing
 * written twice; every record the relay gave up on (relay-failures) recovered; and every fault
 * kind actually injected.
 */
import { PENDING_SHARD_ATTRIBUTE } from '../lambdas/domain/pending-shards';
import type { LocalStack } from '../local/stack';
import type { TossLedgerEntry } from '../tools/toss-local/server';
import { EVENT_OF_STEP, STATUS_OF_STEP, type DrivenPayment, type DriveResult, type FailedWrite, type LostAnswer, type RaceStats } from './driver';
import type { FaultCounts, InjectedPgFailure, InjectedTransactionFailure } from './faults/chaos-faults';
import { totalOf, VIRTUAL_ACCOUNT_ISSUE, type TossFaultTally } from './faults/toss-pg-faults';
import type { SettleReport } from './recovery';
import type { SweeperRaceStats } from './sweeper';

export interface Check {
  readonly name: string;
  readonly expected: string;
  readonly actual: string;
  readonly ok: boolean;
  /** A few examples when it failed. */
  readonly details: readonly string[];
}

type Item = Record<string, unknown>;

export interface TableSnapshot {
  readonly payments: Item[];
  readonly outbox: Item[];
  readonly inbox: Item[];
  readonly idempotency: Item[];
  /** PgAttempts: one item per (payment, operation), `status` open or closed. */
  readonly attempts: Item[];
  /** The sandbox PG's ledger (`payment#<id>` money items, `key#<key>` answers); undefined without a sandbox PG. */
  readonly ledger?: Item[];
  /** toss-local's ledger, one entry per order it knows (our payment ids); undefined without toss-local. */
  readonly tossLedger?: TossLedgerItem[];
}

/** toss-local's ledger entry of an order, with the transaction keys of its payment's cancels. */
export interface TossLedgerItem extends TossLedgerEntry {
  /** Transaction keys of the payment's cancels (a refund, or the closing of a virtual account before its deposit). */
  readonly cancelKeys: readonly string[];
}

/** Every item of the table, or undefined when the stack has no such table. */
async function scanIfPresent(stack: LocalStack, fragment: string): Promise<Item[] | undefined> {
  try {
    stack.tableName(fragment);
  } catch {
    return undefined;
  }
  return (await stack.scanTable(fragment)) as Item[];
}

export async function snapshotTables(stack: LocalStack): Promise<TableSnapshot> {
  const [payments, outbox, inbox, idempotency, attempts, ledger] = await Promise.all([
    ...['Payments', 'Outbox', 'Inbox', 'Idempotency'].map((fragment) => stack.scanTable(fragment) as Promise<Item[]>),
    scanIfPresent(stack, 'PgAttempts'),
    scanIfPresent(stack, 'SandboxPgLedger'),
  ]);
  const toss = stack.tossLocal;
  const tossLedger = toss?.ledgers().map((entry) => ({ ...entry, cancelKeys: (toss.payment(entry.orderId)?.cancels ?? []).map((c) => c.transactionKey) }));
  return {
    payments: payments as Item[],
    outbox: outbox as Item[],
    inbox: inbox as Item[],
    idempotency: idempotency as Item[],
    attempts: attempts ?? [],
    ...(ledger && { ledger }),
    ...(tossLedger && { tossLedger }),
  };
}

/**
 * The version each created payment must end at: the one its last answer reported, or, for a
 * payment whose money-moving step was left unresolved (5xx after the last retry, its PG attempt
 * left to the reconciler), the stored one when it is that version or the next in the step's
 * status (the reconciler, or a retry the driver never heard of, committed it). Anything else
 * keeps the answered version, so the checks report it.
 */
export function settledVersions(payments: ReadonlyMap<string, DrivenPayment>, stored: readonly Item[]): Map<string, number> {
  const storedById = new Map(stored.map((item) => [String(item.paymentId), item]));
  const versions = new Map<string, number>();
  for (const [id, driven] of payments) {
    const item = storedById.get(id);
    const committedLater = driven.unresolved !== undefined && item?.version === driven.version + 1 && item.status === STATUS_OF_STEP[driven.unresolved];
    versions.set(id, committedLater ? driven.version + 1 : driven.version);
  }
  return versions;
}

/** How a payment's applied sequences deviate from 1, 2, 3, ... */
export interface OrderStats {
  inversions: number;
  gaps: number;
  repeats: number;
}

export function orderStats(applied: readonly number[]): OrderStats {
  const stats: OrderStats = { inversions: 0, gaps: 0, repeats: 0 };
  let previous = 0;
  const seen = new Set<number>();
  for (const sequence of applied) {
    if (seen.has(sequence)) stats.repeats += 1;
    else if (sequence < previous) stats.inversions += 1;
    else if (sequence > previous + 1) stats.gaps += 1;
    seen.add(sequence);
    previous = Math.max(previous, sequence);
  }
  return stats;
}

export interface FaultKindRow {
  readonly fault: string;
  readonly injected: number;
  readonly note: string;
}

/** `3 confirm, 1 cancel` for the callers a fault hit. */
function byCaller(row: TossFaultTally['outages']): string {
  return Object.entries(row)
    .filter(([, n]) => n > 0)
    .map(([caller, n]) => `${n} ${caller}`)
    .join(', ');
}

/**
 * The PG boundary's fault kinds (each must be > 0): numbered after the webhook's. With `toss` (a
 * toss-local run), the lost answers and the outages are the server's, counted from its request log.
 */
export function pgFaultRows(counts: FaultCounts, races: RaceStats, toss?: TossFaultTally): FaultKindRow[] {
  const outcomes = Object.entries(races.outcomes)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${n} ${outcome}`)
    .join(', ');
  const [lost, down] = toss
    ? [
        {
          injected: totalOf(toss.answersLost),
          note: `toss-local executed the /v1 POST, then dropped the connection (503 PG_UNAVAILABLE, attempt left open; rate ${toss.answerLostRate} per POST): ${byCaller(toss.answersLost) || 'none'}`,
        },
        {
          injected: totalOf(toss.outages),
          note: `toss-local answered 500 without executing (503 PG_UNAVAILABLE; rate ${toss.downRate} per /v1 request, ${toss.requests} requests): ${byCaller(toss.outages) || 'none'}`,
        },
      ]
    : [
        { injected: counts.pgAnswersLost, note: 'ledger transaction committed, then TimeoutError (503 PG_UNAVAILABLE, attempt left open)' },
        { injected: counts.pgDownCalls, note: 'ledger call failed before anything was written (503 PG_UNAVAILABLE)' },
      ];
  return [
    { fault: '10 PG answer lost after charging', ...lost },
    { fault: '11 PG down', ...down },
    { fault: '12 function killed between the PG answer and the commit', injected: counts.pgKilledCommits, note: 'commit closing the attempt thrown before DynamoDB (500)' },
    { fault: '13 confirm/cancel races', injected: races.total, note: `cancel sent with the confirm${outcomes ? `: ${outcomes}` : ''}` },
  ];
}

/** One row per fault kind the run must inject (each must be > 0). */
export function faultRows(counts: FaultCounts, race: SweeperRaceStats, failedCreates: number, failures: readonly InjectedTransactionFailure[]): FaultKindRow[] {
  return [
    { fault: '1 relay killed mid-batch', injected: counts.relayCrashes, note: 'crash before a PublishBatch after part of the batch was sent' },
    { fault: '2 publish entry errors', injected: counts.publishFailedEntries, note: 'Failed entries in SNS PublishBatch (relay and sweeper)' },
    { fault: '3 publish throttling', injected: counts.publishThrottledCalls, note: 'ThrottledException for the whole PublishBatch call' },
    { fault: '4a consumer: messages failed', injected: counts.consumerFailedMessages, note: 'batchItemFailures without invoking' },
    { fault: '4b consumer: invocations failed', injected: counts.consumerErrors, note: 'thrown before invoking' },
    { fault: '4c consumer: crashes', injected: counts.consumerCrashes, note: 'invoked, then thrown (applied, not acknowledged)' },
    {
      fault: '4d consumer: events poisoned to DLQ',
      injected: counts.poisonedEvents,
      note: `every delivery failed until dead-lettered (${counts.poisonedDeliveries} deliveries)`,
    },
    { fault: '5a duplicate invocations', injected: counts.duplicateInvocations, note: 'same event handed to the consumer twice' },
    {
      fault: '5b duplicate messages',
      injected: counts.duplicateMessagesSent,
      note: `re-sent with a fresh dedup id${counts.duplicateMessageSendErrors ? ` (${counts.duplicateMessageSendErrors} sends failed)` : ''}`,
    },
    { fault: '6 stream records lost', injected: counts.skippedStreamRecords, note: 'removed before the relay saw them' },
    {
      fault: '6b relay poison records',
      injected: counts.poisonedStreamRecords,
      note: `every relay invocation holding one failed (${counts.poisonedRelayInvocations} invocations): bisected, retried, given up to relay-failures`,
    },
    {
      fault: '7 sweeper racing the relay',
      injected: race.republished,
      note: `events republished by ${race.runs} racing runs (grace ~1 s)${race.errors ? `, ${race.errors} runs threw` : ''}`,
    },
    {
      fault: '8 transactions failed',
      injected: failures.length,
      note: `${failedCreates} creates, ${failures.length - failedCreates} later changes`,
    },
  ];
}

/** The driver's lost answers as a fault row (numbered after the PG boundary's). */
export function lostAnswerRow(lost: readonly LostAnswer[]): FaultKindRow {
  const bySteps = Object.entries(
    lost.reduce<Record<string, number>>((counts, answer) => ({ ...counts, [answer.step]: (counts[answer.step] ?? 0) + 1 }), {}),
  )
    .map(([step, n]) => `${n} ${step}`)
    .join(', ');
  return {
    fault: '14 commit succeeded, answer lost',
    injected: lost.length,
    note: `2xx dropped by the caller's HTTP client after the commit, sent again with the same Idempotency-Key and body${bySteps ? `: ${bySteps}` : ''}`,
  };
}

/** What reached the relay's on-failure destination, and what the run knows of those records. */
export interface RelayFailureObservation {
  /** Messages read from relay-failures (one per batch given up). */
  readonly messages: number;
  /** Event keys (`<orderId>#<sequence>`) of the records given up, once each. */
  readonly sent: readonly string[];
  /** Messages whose records the run could not name, or whose body was no invocation record. */
  readonly unnamed: readonly string[];
  /** Event keys of the poison records chosen (each one must have been given up). */
  readonly poisoned: readonly string[];
  /** Who first got an event accepted by the topic: the relay (an invocation's gap fill or its own attempt) or a sweeper. */
  readonly firstPublisher: ReadonlyMap<string, 'relay' | 'sweeper'>;
}

/** The relay-failures figures the report prints. */
export interface RelayFailureSummary {
  readonly messages: number;
  readonly sent: number;
  readonly poisoned: number;
  readonly recovered: number;
  readonly byRelay: number;
  readonly bySweeper: number;
}

export interface VerifyInput {
  readonly drive: DriveResult;
  readonly faultCounts: FaultCounts;
  readonly transactionFailures: readonly InjectedTransactionFailure[];
  /** Confirm/cancel requests made to fail at the PG boundary (lost answer, PG down, killed before the commit). */
  readonly pgFailures: readonly InjectedPgFailure[];
  readonly race: SweeperRaceStats;
  readonly settle: SettleReport;
  /** Fewest committed events the run must reach (the issue asks for 10,000 in the default run). @default 0 */
  readonly minEvents?: number;
  /** What the run saw of an event (`<orderId>#<sequence>`), to explain one that was never applied. */
  readonly explain?: (eventKey: string) => string | undefined;
  /** What the webhook subscriber's receiver took in, when the stack has one (see WebhookObservation). */
  readonly webhook?: WebhookObservation;
  /** toss-local's injected faults, when the run's PG is toss-local (their failures are in `pgFailures`). */
  readonly tossFaults?: TossFaultTally;
  /** What reached relay-failures (a chaos run always reads it; without it nothing of it is checked). */
  readonly relayFailures?: RelayFailureObservation;
}

/** A webhook subscriber as its receiver saw the run: events taken in (deduplicated by event id) and injected failures. */
export interface WebhookObservation {
  readonly subscriber: string;
  /** In the order the receiver took them in, once per event id. */
  readonly received: ReadonlyArray<{ readonly eventId: string; readonly aggregateId: string; readonly sequence: number }>;
  /** Events the receiver took in out of sequence order for their payment. */
  readonly orderViolations: number;
  /** Requests answered 503 on purpose. */
  readonly injectedFailures: number;
  /** Messages left in the subscriber's DLQ. */
  readonly leftInDlq: number;
}

export interface Verification {
  readonly checks: Check[];
  /** Worth reading, not violations: e.g. a redrive round the tool refused that a later round completed. */
  readonly notes: string[];
  readonly faults: FaultKindRow[];
  readonly eventsCommitted: number;
  readonly eventsApplied: number;
  readonly order: OrderStats;
  /** Lost answers injected, and how many of their retries were answered the committed payment. */
  readonly lostAnswers: { readonly injected: number; readonly answeredCommitted: number };
  readonly relayFailures?: RelayFailureSummary;
}

const sample = (values: readonly string[], max = 5): string[] =>
  values.length > max ? [...values.slice(0, max), `... and ${values.length - max} more`] : [...values];

function check(name: string, expected: string | number, actual: string | number, ok: boolean, details: readonly string[] = []): Check {
  return { name, expected: String(expected), actual: String(actual), ok, details: ok ? [] : sample(details) };
}

export function verify(tables: TableSnapshot, input: VerifyInput): Verification {
  const { drive } = input;
  const checks: Check[] = [];
  // The answered versions; a step left to the reconciler may have moved its payment one version on.
  const expected = settledVersions(drive.payments, tables.payments);
  const expectedEvents = [...expected.values()].reduce((sum, v) => sum + v, 0);

  // Payments table: exactly the created payments, each at the version its last answer reported
  // (or the one the reconciler committed for a step answered 5xx after its last retry).
  const paymentById = new Map(tables.payments.map((item) => [String(item.paymentId), item]));
  const paymentProblems: string[] = [];
  for (const [id, version] of expected) {
    const stored = paymentById.get(id);
    const driven = drive.payments.get(id);
    const unresolved = driven?.unresolved ? ` (its ${driven.unresolved} was left to the reconciler: ${driven.version} or ${driven.version + 1} ${STATUS_OF_STEP[driven.unresolved]} accepted)` : '';
    if (!stored) paymentProblems.push(`${id}: missing`);
    else if (stored.version !== version) paymentProblems.push(`${id}: version ${String(stored.version)} ${String(stored.status)}, the API answered ${version}${unresolved}`);
  }
  for (const id of paymentById.keys()) if (!expected.has(id)) paymentProblems.push(`${id}: stored but never created successfully`);
  checks.push(check('payments stored = payments created (at their answered version)', expected.size, tables.payments.length, paymentProblems.length === 0, paymentProblems));

  // Outbox: per payment exactly sequences 1..version, one item each.
  const outboxByPayment = new Map<string, number[]>();
  for (const item of tables.outbox) {
    const list = outboxByPayment.get(String(item.aggregateId)) ?? [];
    list.push(Number(item.sequence));
    outboxByPayment.set(String(item.aggregateId), list);
  }
  const outboxProblems: string[] = [];
  for (const [id, version] of expected) {
    const sequences = (outboxByPayment.get(id) ?? []).sort((a, b) => a - b);
    if (sequences.length !== version || sequences.some((s, i) => s !== i + 1)) outboxProblems.push(`${id}: outbox holds ${JSON.stringify(sequences)}, expected 1..${version}`);
  }
  for (const id of outboxByPayment.keys()) if (!expected.has(id)) outboxProblems.push(`${id}: outbox events for a payment that was never created`);
  checks.push(check('events committed (Outbox) = sum of payment versions', expectedEvents, tables.outbox.length, outboxProblems.length === 0 && tables.outbox.length === expectedEvents, outboxProblems));

  const pending = tables.outbox.filter((item) => item[PENDING_SHARD_ATTRIBUTE] !== undefined);
  checks.push(check('events still pending after the final sweep', 0, pending.length, pending.length === 0, pending.map((i) => `${String(i.aggregateId)} #${String(i.sequence)}`)));

  // Consumer: inbox ids = outbox ids, projections = 1..version in order, once each.
  const inboxEvents = tables.inbox.filter((item) => String(item.pk).startsWith('event#'));
  const projections = new Map(tables.inbox.filter((item) => String(item.pk).startsWith('payment#')).map((item) => [String(item.paymentId), item]));
  const appliedCount = [...projections.values()].reduce((sum, p) => sum + Number(p.appliedCount ?? 0), 0);
  checks.push(check('events applied (sum of appliedCount) = events committed', tables.outbox.length, appliedCount, appliedCount === tables.outbox.length));

  const outboxIds = new Set(tables.outbox.map((item) => String(item.eventId)));
  const inboxIds = inboxEvents.map((item) => String(item.eventId));
  const inboxIdSet = new Set(inboxIds);
  const notApplied = [...outboxIds].filter((id) => !inboxIdSet.has(id));
  const keyOfEvent = new Map(tables.outbox.map((item) => [String(item.eventId), `${String((item.data as Item | undefined)?.orderId)}#${String(item.sequence)}`]));
  const describeLost = (id: string) => {
    const key = keyOfEvent.get(id) ?? '?';
    const seen = input.explain?.(key);
    return `committed, never applied: ${id} (${key})${seen ? `: ${seen}` : ''}`;
  };
  const appliedNotCommitted = inboxIds.filter((id) => !outboxIds.has(id));
  checks.push(
    check('committed event ids = applied event ids (inbox)', outboxIds.size, `${inboxIdSet.size} (${notApplied.length} missing, ${appliedNotCommitted.length} unknown)`, notApplied.length === 0 && appliedNotCommitted.length === 0 && inboxIds.length === inboxIdSet.size, [
      ...notApplied.map(describeLost),
      ...appliedNotCommitted.map((id) => `applied, never committed: ${id}`),
    ]),
  );

  const order: OrderStats = { inversions: 0, gaps: 0, repeats: 0 };
  const projectionProblems: string[] = [];
  for (const [id, version] of expected) {
    const projection = projections.get(id);
    const applied = Array.isArray(projection?.appliedSequences) ? (projection.appliedSequences as unknown[]).map(Number) : [];
    const stats = orderStats(applied);
    order.inversions += stats.inversions;
    order.gaps += stats.gaps + (applied.length < version && stats.gaps === 0 ? 1 : 0);
    order.repeats += stats.repeats;
    const exact = applied.length === version && applied.every((s, i) => s === i + 1) && Number(projection?.appliedCount) === version;
    if (!exact) projectionProblems.push(`${id}: applied ${JSON.stringify(applied)} (count ${String(projection?.appliedCount ?? 0)}), expected 1..${version}`);
  }
  for (const id of projections.keys()) if (!expected.has(id)) projectionProblems.push(`${id}: projection for a payment that was never created`);
  checks.push(check('payments applied exactly 1..version, once each', expected.size, expected.size - projectionProblems.length, projectionProblems.length === 0, projectionProblems));
  checks.push(check('sequence inversions as applied', 0, order.inversions, order.inversions === 0));
  checks.push(check('sequence gaps as applied (incl. missing tails)', 0, order.gaps, order.gaps === 0));
  checks.push(check('sequences applied twice', 0, order.repeats, order.repeats === 0));

  // Failed transactions left nothing behind.
  const failedOrders = new Set(drive.failedCreates);
  const leftovers: string[] = [];
  for (const item of tables.payments) if (failedOrders.has(String(item.orderId))) leftovers.push(`payment ${String(item.paymentId)} for failed order ${String(item.orderId)}`);
  for (const item of tables.outbox) {
    const orderId = String((item.data as Item | undefined)?.orderId);
    if (failedOrders.has(orderId)) leftovers.push(`outbox event ${String(item.eventId)} for failed order ${orderId}`);
  }
  for (const item of tables.idempotency) {
    const orderId = String((item.response as Item | undefined)?.orderId);
    if (failedOrders.has(orderId)) leftovers.push(`idempotency record ${String(item.key)} for failed order ${orderId}`);
  }
  const failedEventIds = new Set([
    ...input.transactionFailures.map((f) => f.eventId),
    ...input.pgFailures.flatMap((f) => (f.eventId ? [f.eventId] : [])),
  ]);
  for (const id of outboxIds) if (failedEventIds.has(id)) leftovers.push(`outbox event ${id} of a failed transaction`);
  for (const id of inboxIdSet) if (failedEventIds.has(id)) leftovers.push(`applied event ${id} of a failed transaction`);
  checks.push(
    check(
      `items/events of failed transactions (${failedOrders.size} orders, ${input.transactionFailures.length + input.pgFailures.filter((f) => f.eventId).length} writes)`,
      0,
      leftovers.length,
      leftovers.length === 0,
      leftovers,
    ),
  );

  // The API answered every injected failure with a 5xx, and nothing else failed. A failure is
  // named by its order and the event it would have committed (one of each per payment; in a
  // confirm/cancel race the version a cancel would have written is not known to the caller).
  const injected = [
    ...input.transactionFailures.map((f) => `${f.orderId}#${f.eventType}`),
    ...input.pgFailures.map((f) => `${f.orderId}#${f.eventType}`),
  ].sort();
  const answered = drive.failedWrites.map(failedWriteKey).sort();
  const mismatch = injected.length !== answered.length || injected.some((key, i) => key !== answered[i]);
  checks.push(
    check(
      'API 5xx answers = injected failures (transactions, PG boundary)',
      injected.length,
      answered.length,
      !mismatch,
      mismatch ? diff(injected, answered, answersOf(drive.failedWrites)) : [],
    ),
  );
  if (input.tossFaults && input.tossFaults.unattributed.length > 0) {
    const { unattributed } = input.tossFaults;
    checks.push(check('toss-local faults on requests the run cannot name', 0, unattributed.length, false, unattributed));
  }
  checks.push(
    check('other API answers (4xx, 409, network, 5xx after retries)', 0, drive.unexpected.length, drive.unexpected.length === 0, drive.unexpected.map((u) => `${u.orderId} ${u.step}: ${u.status} ${u.body}`)),
  );

  // Queues.
  const { settle } = input;
  checks.push(check('messages left in the DLQ after redrive', 0, settle.leftInDlq, settle.leftInDlq === 0, settle.dlqListing));
  checks.push(
    check('pipeline settled (all applied, queues empty)', 'yes', settle.settled ? 'yes' : `no: ${settle.unapplied} payments short, ${settle.mainQueueDepth} queued`, settle.settled),
  );

  checks.push(...(tables.tossLedger ? tossLedgerChecks(tables) : pgLedgerChecks(tables)));

  const faults = faultRows(input.faultCounts, input.race, drive.failedCreates.length, input.transactionFailures);
  if (input.webhook) {
    checks.push(...webhookChecks(input.webhook, tables.outbox));
    faults.push({
      fault: '9 webhook receiver failures',
      injected: input.webhook.injectedFailures,
      note: `503 answers to the ${input.webhook.subscriber} dispatcher (retried with backoff)`,
    });
  }
  if (tables.ledger) faults.push(...pgFaultRows(input.faultCounts, drive.races));
  else if (tables.tossLedger) faults.push(...pgFaultRows(input.faultCounts, drive.races, input.tossFaults));
  faults.push(lostAnswerRow(drive.lostAnswers));
  const lost = lostAnswerChecks(tables, drive.lostAnswers);
  checks.push(...lost.checks);
  const relayFailures = input.relayFailures && relayFailureChecks(tables, input.relayFailures, input.webhook);
  if (relayFailures) checks.push(...relayFailures.checks);
  const zero = faults.filter((row) => row.injected === 0).map((row) => row.fault);
  checks.push(check('fault kinds never injected', 0, zero.length, zero.length === 0, zero));

  const minEvents = input.minEvents ?? 0;
  if (minEvents > 0) checks.push(check('events committed (scale)', `>= ${minEvents}`, tables.outbox.length, tables.outbox.length >= minEvents));

  // A refused or failed round is a violation only through what it leaves in the DLQ (checked above);
  // the reasons are kept, since a refusal means the tool could not move a group in one go.
  const notes = settle.redrives.flatMap((round, i) =>
    round.exitCode === 0 ? [] : [`dlq redrive round ${i + 1} ended with exit ${round.exitCode}: ${round.warnings.join(' ')}`],
  );
  const reconciler = settle.reconciler;
  const closedByReconciler = reconciler.scheduled.closed + reconciler.closed;
  if (reconciler.available && closedByReconciler !== drive.unresolved.length) {
    notes.push(`the PG reconciler closed ${closedByReconciler} attempt(s) (${reconciler.scheduled.closed} in scheduled runs), and ${drive.unresolved.length} step(s) were left to it`);
  }
  if (!tables.ledger && !tables.tossLedger) notes.push('the stack has no sandbox PG ledger: the PG ledger rows checked nothing, and no PG boundary fault was injected');
  for (const step of drive.unresolved) {
    const stored = paymentById.get(step.paymentId);
    const driven = drive.payments.get(step.paymentId);
    notes.push(
      `${step.orderId} ${step.step}: ${step.status}${step.code ? ` ${step.code}` : ''} ${step.gaveUp ? 'and the caller gave up' : 'after the last retry'}; after recovery the payment is ` +
        `${String(stored?.status)} at version ${String(stored?.version)} (answered ${String(driven?.version)})`,
    );
  }
  return {
    checks,
    notes,
    faults,
    eventsCommitted: tables.outbox.length,
    eventsApplied: appliedCount,
    order,
    lostAnswers: { injected: drive.lostAnswers.length, answeredCommitted: lost.answeredCommitted },
    ...(relayFailures && { relayFailures: relayFailures.summary }),
  };
}

/**
 * Lost answers: the retry (same Idempotency-Key and body) was answered the committed result, as a
 * replay, with the paymentId, status and version of the dropped answer and of the store (the key's
 * idempotency record, and the step's event at that version in the Outbox); and nothing was written
 * twice: one payment for the order, one event of the step's type for the payment, at most one
 * charge (a confirm) or one refund (a cancel) at the PG.
 */
export function lostAnswerChecks(tables: TableSnapshot, lost: readonly LostAnswer[]): { checks: Check[]; answeredCommitted: number } {
  const idempotencyByKey = new Map(tables.idempotency.map((item) => [String(item.key), item]));
  const paymentsByOrder = new Map<string, number>();
  for (const item of tables.payments) paymentsByOrder.set(String(item.orderId), (paymentsByOrder.get(String(item.orderId)) ?? 0) + 1);
  const outboxByPayment = new Map<string, Item[]>();
  for (const item of tables.outbox) outboxByPayment.set(String(item.aggregateId), [...(outboxByPayment.get(String(item.aggregateId)) ?? []), item]);
  const sandboxMoney = new Map(
    (tables.ledger ?? []).filter((item) => String(item.pk).startsWith(LEDGER_PAYMENT_PREFIX)).map((item) => [String(item.pk).slice(LEDGER_PAYMENT_PREFIX.length), item]),
  );
  const tossMoney = new Map((tables.tossLedger ?? []).map((entry) => [entry.orderId, entry]));
  const shown = (a: LostAnswer['retry']) => `${a.status} ${a.paymentId ?? '-'} ${a.paymentStatus ?? '-'} v${a.version ?? '-'}${a.replayed ? ' (replayed)' : ''}`;

  const wrongAnswers: string[] = [];
  const writtenTwice: string[] = [];
  for (const answer of lost) {
    const { committed, retry } = answer;
    const eventType = EVENT_OF_STEP[answer.step];
    const name = `${answer.orderId} ${answer.step} (key ${answer.idempotencyKey})`;
    const record = idempotencyByKey.get(`api:${answer.idempotencyKey}`);
    const stored = record?.response as Item | undefined;
    const event = (outboxByPayment.get(committed.paymentId ?? '') ?? []).find((item) => item.sequence === committed.version);
    const sameAsCommitted =
      retry.status === committed.status && retry.paymentId === committed.paymentId && retry.paymentStatus === committed.paymentStatus && retry.version === committed.version;
    const storedAsCommitted =
      record !== undefined && record.statusCode === committed.status && stored?.paymentId === committed.paymentId && stored?.status === committed.paymentStatus && stored?.version === committed.version;
    const problems = [
      committed.paymentId === undefined || committed.version === undefined ? 'the dropped answer named no payment' : undefined,
      sameAsCommitted ? undefined : `retry answered ${shown(retry)}, the commit ${shown(committed)}`,
      retry.replayed ? undefined : 'the retry was not answered as a replay (no Idempotent-Replayed)',
      storedAsCommitted
        ? undefined
        : record
          ? `its idempotency record holds ${String(record.statusCode)} ${String(stored?.paymentId)} ${String(stored?.status)} v${String(stored?.version)}`
          : 'no idempotency record for its key',
      event?.type === eventType ? undefined : `the Outbox holds ${event ? String(event.type) : 'nothing'} at v${String(committed.version)}, expected ${eventType}`,
    ].filter((problem): problem is string => problem !== undefined);
    if (problems.length > 0) wrongAnswers.push(`${name}: ${problems.join('; ')}`);

    const paymentId = committed.paymentId ?? retry.paymentId ?? '';
    const payments = paymentsByOrder.get(answer.orderId) ?? 0;
    const events = (outboxByPayment.get(paymentId) ?? []).filter((item) => item.type === eventType).length;
    const sandbox = sandboxMoney.get(paymentId);
    const toss = tossMoney.get(paymentId);
    const moves = answer.step === 'confirm' || answer.step === 'decline' ? 'charge' : answer.step === 'cancel' ? 'refund' : undefined;
    const charges = Math.max(Number(sandbox?.chargeCount ?? 0), list(sandbox?.chargeIds).length, toss?.chargeCount ?? 0);
    const refunds = Math.max(Number(sandbox?.refundCount ?? 0), list(sandbox?.refundIds).length, toss?.refundCount ?? 0);
    const twice = [
      payments === 1 ? undefined : `${payments} payments for the order`,
      events === 1 ? undefined : `${events} ${eventType} events`,
      moves === 'charge' && charges > 1 ? `charged ${charges}x at the PG` : undefined,
      moves === 'refund' && refunds > 1 ? `refunded ${refunds}x at the PG` : undefined,
    ].filter((problem): problem is string => problem !== undefined);
    if (twice.length > 0) writtenTwice.push(`${name}: ${twice.join('; ')}`);
  }
  return {
    checks: [
      check('lost answers: retries answered the committed payment (same key, replayed)', lost.length, lost.length - wrongAnswers.length, wrongAnswers.length === 0, wrongAnswers),
      check('lost answers: payments, events or PG charges written twice', 0, writtenTwice.length, writtenTwice.length === 0, writtenTwice),
    ],
    answeredCommitted: lost.length - wrongAnswers.length,
  };
}

/**
 * Relay failures: records reached relay-failures, every message names records the relay was
 * handed, every poison record is among them, and each record given up was recovered: published
 * (not pending), applied by the example consumer once and in order (its sequence once in its
 * payment's applied sequences, all before it applied before it), and received by the webhook
 * subscriber when there is one.
 */
export function relayFailureChecks(
  tables: TableSnapshot,
  observed: RelayFailureObservation,
  webhook?: WebhookObservation,
): { checks: Check[]; summary: RelayFailureSummary } {
  const outboxByKey = new Map(tables.outbox.map((item) => [`${String((item.data as Item | undefined)?.orderId)}#${String(item.sequence)}`, item]));
  const inboxIds = new Set(tables.inbox.filter((item) => String(item.pk).startsWith('event#')).map((item) => String(item.eventId)));
  const projections = new Map(tables.inbox.filter((item) => String(item.pk).startsWith('payment#')).map((item) => [String(item.paymentId), item]));
  const receivedIds = webhook && new Set(webhook.received.map((event) => event.eventId));
  const sent = new Set(observed.sent);

  const notRecovered: string[] = [];
  let byRelay = 0;
  let bySweeper = 0;
  for (const key of observed.sent) {
    const item = outboxByKey.get(key);
    const publisher = observed.firstPublisher.get(key);
    const problems: string[] = [];
    if (!item) problems.push('no such event in the Outbox');
    else {
      const eventId = String(item.eventId);
      const sequence = Number(item.sequence);
      const projection = projections.get(String(item.aggregateId));
      const applied = Array.isArray(projection?.appliedSequences) ? (projection.appliedSequences as unknown[]).map(Number) : [];
      const times = applied.filter((s) => s === sequence).length;
      const at = applied.indexOf(sequence);
      if (item[PENDING_SHARD_ATTRIBUTE] !== undefined) problems.push('still pending');
      if (!inboxIds.has(eventId) || times === 0) problems.push('never applied');
      if (times > 1) problems.push(`applied ${times}x`);
      if (at !== -1 && !applied.slice(0, at + 1).every((s, i) => s === i + 1)) problems.push(`applied out of order: ${JSON.stringify(applied)}`);
      if (receivedIds && !receivedIds.has(eventId)) problems.push(`never received by the ${webhook?.subscriber ?? ''} webhook`);
    }
    if (publisher === undefined) problems.push('never accepted by the topic');
    if (problems.length > 0) notRecovered.push(`${key}: ${problems.join(', ')}`);
    else if (publisher === 'relay') byRelay += 1;
    else bySweeper += 1;
  }
  const poisonedNotSent = observed.poisoned.filter((key) => !sent.has(key));
  const recovered = observed.sent.length - notRecovered.length;
  return {
    checks: [
      check('records sent to relay-failures (the relay\'s on-failure destination)', '> 0', observed.sent.length, observed.sent.length > 0),
      check('relay-failures messages whose records the run cannot name', 0, observed.unnamed.length, observed.unnamed.length === 0, observed.unnamed),
      check(
        'poison records sent to relay-failures',
        observed.poisoned.length,
        observed.poisoned.length - poisonedNotSent.length,
        poisonedNotSent.length === 0,
        poisonedNotSent.map((key) => `${key}: poisoned, never given up`),
      ),
      check('relay-failures records recovered (published, applied once and in order)', observed.sent.length, recovered, notRecovered.length === 0, notRecovered),
    ],
    summary: { messages: observed.messages, sent: observed.sent.length, poisoned: observed.poisoned.length, recovered, byRelay, bySweeper },
  };
}

/**
 * A 5xx answer, named as its injected failure is: by order and the event the write would have
 * committed. A create answered 503 PG_UNAVAILABLE met the PG while a virtual account was issued
 * (toss-local): its payment id was never answered, so it is named by VIRTUAL_ACCOUNT_ISSUE, as
 * the faults of those issues are.
 */
function failedWriteKey(write: FailedWrite): string {
  const orderId = write.step === 'create' && write.code === 'PG_UNAVAILABLE' ? VIRTUAL_ACCOUNT_ISSUE : write.orderId;
  return `${orderId}#${EVENT_OF_STEP[write.step]}`;
}

/** The answers given under each failed write's key (`503 PG_UNAVAILABLE`), to say what an unexplained 5xx was. */
function answersOf(writes: readonly FailedWrite[]): Map<string, string[]> {
  const answers = new Map<string, string[]>();
  for (const write of writes) {
    const key = failedWriteKey(write);
    answers.set(key, [...(answers.get(key) ?? []), `${write.status}${write.code ? ` ${write.code}` : ''}`]);
  }
  return answers;
}

function diff(expected: readonly string[], actual: readonly string[], answers: ReadonlyMap<string, readonly string[]> = new Map()): string[] {
  const count = (list: readonly string[]) => list.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
  const e = count(expected);
  const a = count(actual);
  const out: string[] = [];
  for (const [key, n] of e) if ((a.get(key) ?? 0) < n) out.push(`injected, not answered 5xx: ${key}`);
  for (const [key, n] of a) {
    if ((e.get(key) ?? 0) < n) out.push(`answered 5xx, not injected: ${key}${answers.has(key) ? ` (answered ${answers.get(key)?.join(', ')})` : ''}`);
  }
  return out;
}

/** Every committed event reached the webhook subscriber once, in sequence order per payment, and nothing is left in its DLQ. */
function webhookChecks(webhook: WebhookObservation, outbox: readonly Item[]): Check[] {
  const committed = new Map(outbox.map((item) => [String(item.eventId), `${String(item.aggregateId)} #${String(item.sequence)}`]));
  const receivedIds = new Set(webhook.received.map((event) => event.eventId));
  const missing = [...committed.keys()].filter((id) => !receivedIds.has(id));
  const unknown = [...receivedIds].filter((id) => !committed.has(id));
  const name = `webhook ${webhook.subscriber}:`;
  return [
    check(
      `${name} committed event ids = received event ids`,
      committed.size,
      `${receivedIds.size} (${missing.length} missing, ${unknown.length} unknown)`,
      missing.length === 0 && unknown.length === 0 && receivedIds.size === webhook.received.length,
      [...missing.map((id) => `never received: ${id} (${committed.get(id) ?? '?'})`), ...unknown.map((id) => `received, never committed: ${id}`)],
    ),
    check(`${name} sequence order violations as received`, 0, webhook.orderViolations, webhook.orderViolations === 0),
    check(`${name} messages left in its DLQ`, 0, webhook.leftInDlq, webhook.leftInDlq === 0),
  ];
}

const LEDGER_PAYMENT_PREFIX = 'payment#';

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/**
 * The money at the sandbox PG against the payments and the PG attempts: every charge belongs to a
 * payment that is APPROVED or was refunded; no payment charged (or refunded) twice; no refund on
 * a payment that is not CANCELLED; every approved card/easy-pay payment names a charge the PG
 * made; no approved payment cancelled without its refund; no attempt left open.
 */
export function pgLedgerChecks(tables: TableSnapshot): Check[] {
  const ledger = tables.ledger ?? [];
  const paymentById = new Map(tables.payments.map((item) => [String(item.paymentId), item]));
  const moneyById = new Map(
    ledger.filter((item) => String(item.pk).startsWith(LEDGER_PAYMENT_PREFIX)).map((item) => [String(item.pk).slice(LEDGER_PAYMENT_PREFIX.length), item]),
  );
  const money = (id: string) => {
    const item = moneyById.get(id);
    return {
      charges: Math.max(Number(item?.chargeCount ?? 0), list(item?.chargeIds).length),
      chargeIds: list(item?.chargeIds),
      refunds: Math.max(Number(item?.refundCount ?? 0), list(item?.refundIds).length),
      refundIds: list(item?.refundIds),
    };
  };
  const describe = (id: string) => {
    const payment = paymentById.get(id);
    const m = money(id);
    return `${id}: ${payment ? `${String(payment.method)} ${String(payment.status)} v${String(payment.version)}` : 'no such payment'}, charged ${m.charges}x, refunded ${m.refunds}x`;
  };

  const unsettledCharges: string[] = [];
  const chargedTwice: string[] = [];
  const refundedTwice: string[] = [];
  const refundsNotCancelled: string[] = [];
  for (const id of moneyById.keys()) {
    const m = money(id);
    const status = paymentById.get(id)?.status;
    if (m.charges > 0 && status !== 'APPROVED' && m.refunds === 0) unsettledCharges.push(describe(id));
    if (m.charges > 1) chargedTwice.push(`${describe(id)} (${m.chargeIds.join(', ')})`);
    if (m.refunds > 1) refundedTwice.push(`${describe(id)} (${m.refundIds.join(', ')})`);
    if (m.refunds > 0 && status !== 'CANCELLED') refundsNotCancelled.push(describe(id));
  }

  const withoutCharge: string[] = [];
  const cancelledUnrefunded: string[] = [];
  for (const [id, payment] of paymentById) {
    const m = money(id);
    const card = payment.method === 'CARD' || payment.method === 'EASY_PAY';
    const approvedBefore = payment.approvedAt !== undefined || payment.depositedAt !== undefined || payment.pgTransactionId !== undefined;
    if (card && approvedBefore && !m.chargeIds.includes(String(payment.pgTransactionId))) {
      withoutCharge.push(`${describe(id)}: pgTransactionId ${String(payment.pgTransactionId)} is no charge of the PG`);
    }
    const hadBeenApproved = approvedBefore || (card && m.charges > 0);
    if (payment.status === 'CANCELLED' && hadBeenApproved) {
      const refundId = payment.refundId === undefined ? undefined : String(payment.refundId);
      if (m.refunds === 0 || refundId === undefined || !m.refundIds.includes(refundId)) {
        cancelledUnrefunded.push(`${describe(id)}, refundId ${refundId ?? 'none'}${refundId && !m.refundIds.includes(refundId) ? ' (not in the ledger)' : ''}`);
      }
    }
  }

  const open = tables.attempts.filter((item) => item.status === 'open');
  const count = (name: string, problems: readonly string[]) => check(name, 0, problems.length, problems.length === 0, problems);
  return [
    count('PG ledger: charges on payments neither approved nor refunded', unsettledCharges),
    count('PG ledger: payments charged more than once', chargedTwice),
    count('PG ledger: approved payments cancelled without a refund', cancelledUnrefunded),
    count(
      'PG ledger: attempts still open after recovery',
      open.map((a) => `${String(a.paymentId)} ${String(a.operation)} #${String(a.generation)} (key ${String(a.pgIdempotencyKey)}) open since ${String(a.startedAt)}`),
    ),
    count('PG ledger: payments refunded more than once', refundedTwice),
    count('PG ledger: refunds on payments not cancelled', refundsNotCancelled),
    count('PG ledger: approved card/easy-pay payments without their charge', withoutCharge),
  ];
}

/**
 * The money at toss-local (its ledger: charges, deposits and refunds per order, which is our
 * payment id) against the payments and the PG attempts. The rows of `pgLedgerChecks`, with Toss's
 * ids: a card/easy-pay payment's `pgTransactionId` is the Toss paymentKey its charge was made
 * under, a cancellation's `refundId` the transaction key of the cancel that refunded it. Then the
 * virtual accounts: no deposit on a payment that is not APPROVED (a deposit cannot be refunded
 * here: Toss needs a refund account the API does not take), no approved virtual account without
 * its deposit, no cancelled payment whose account still takes deposits; and every amount moved is
 * the payment's.
 */
export function tossLedgerChecks(tables: TableSnapshot): Check[] {
  const ledger = tables.tossLedger ?? [];
  const paymentById = new Map(tables.payments.map((item) => [String(item.paymentId), item]));
  const entryById = new Map(ledger.map((entry) => [entry.orderId, entry]));
  /** Refunds are the cancels that moved money (the transaction keys of the ledger). */
  const refundKeys = (entry: TossLedgerItem | undefined) => (entry ? entry.cancelKeys.filter((key) => entry.transactionKeys.includes(key)) : []);
  const describe = (id: string) => {
    const payment = paymentById.get(id);
    const entry = entryById.get(id);
    const at = entry ? `toss ${String(entry.status)}, charged ${entry.chargeCount}x, deposited ${entry.depositCount}x, refunded ${entry.refundCount}x` : 'unknown to toss-local';
    return `${id}: ${payment ? `${String(payment.method)} ${String(payment.status)} v${String(payment.version)}` : 'no such payment'}, ${at}`;
  };

  const unsettledCharges: string[] = [];
  const chargedTwice: string[] = [];
  const refundedTwice: string[] = [];
  const refundsNotCancelled: string[] = [];
  const depositsNotApproved: string[] = [];
  const otherAmounts: string[] = [];
  for (const entry of ledger) {
    const payment = paymentById.get(entry.orderId);
    const status = payment?.status;
    if (entry.chargeCount > 0 && status !== 'APPROVED' && entry.refundCount === 0) unsettledCharges.push(describe(entry.orderId));
    if (entry.chargeCount > 1) chargedTwice.push(`${describe(entry.orderId)} (${entry.transactionKeys.join(', ')})`);
    if (entry.refundCount > 1) refundedTwice.push(`${describe(entry.orderId)} (${refundKeys(entry).join(', ')})`);
    if (entry.refundCount > 0 && status !== 'CANCELLED') refundsNotCancelled.push(describe(entry.orderId));
    if (entry.depositCount > 0 && status !== 'APPROVED') depositsNotApproved.push(describe(entry.orderId));
    const amount = Number(payment?.amount);
    const moved = [
      ['charged', entry.chargedAmount, entry.chargeCount],
      ['deposited', entry.depositedAmount, entry.depositCount],
      ['refunded', entry.refundedAmount, entry.refundCount],
    ] as const;
    for (const [what, total, count] of moved) {
      if (count > 0 && total !== count * amount) otherAmounts.push(`${describe(entry.orderId)}: ${what} ${total} in ${count}, the payment is ${String(payment?.amount)}`);
    }
  }

  const withoutCharge: string[] = [];
  const cancelledUnrefunded: string[] = [];
  const approvedWithoutDeposit: string[] = [];
  const accountsStillOpen: string[] = [];
  for (const [id, payment] of paymentById) {
    const entry = entryById.get(id);
    const charges = entry?.chargeCount ?? 0;
    const card = payment.method === 'CARD' || payment.method === 'EASY_PAY';
    const virtualAccount = payment.method === 'VIRTUAL_ACCOUNT';
    // A virtual account has its Toss paymentKey from the issue on: only approvedAt tells it was approved.
    const approvedBefore = payment.approvedAt !== undefined || payment.depositedAt !== undefined || (card && payment.pgTransactionId !== undefined);
    if (card && approvedBefore && (charges === 0 || entry?.paymentKey !== payment.pgTransactionId)) {
      withoutCharge.push(`${describe(id)}: pgTransactionId ${String(payment.pgTransactionId)}, toss paymentKey ${String(entry?.paymentKey)}`);
    }
    if (payment.status === 'CANCELLED' && (approvedBefore || (card && charges > 0))) {
      const refundId = payment.refundId === undefined ? undefined : String(payment.refundId);
      const refunds = refundKeys(entry);
      if (refundId === undefined || !refunds.includes(refundId)) {
        cancelledUnrefunded.push(`${describe(id)}, refundId ${refundId ?? 'none'}${refundId ? ' (no refund of toss-local)' : ''}`);
      }
    }
    if (virtualAccount && (payment.status === 'APPROVED' || payment.depositedAt !== undefined) && (entry?.depositCount ?? 0) === 0) approvedWithoutDeposit.push(describe(id));
    if (virtualAccount && payment.status === 'CANCELLED' && entry?.status === 'WAITING_FOR_DEPOSIT') accountsStillOpen.push(describe(id));
  }

  const open = tables.attempts.filter((item) => item.status === 'open');
  const count = (name: string, problems: readonly string[]) => check(name, 0, problems.length, problems.length === 0, problems);
  return [
    count('PG ledger: charges on payments neither approved nor refunded', unsettledCharges),
    count('PG ledger: payments charged more than once', chargedTwice),
    count('PG ledger: approved payments cancelled without a refund', cancelledUnrefunded),
    count(
      'PG ledger: attempts still open after recovery',
      open.map((a) => `${String(a.paymentId)} ${String(a.operation)} #${String(a.generation)} (key ${String(a.pgIdempotencyKey)}) open since ${String(a.startedAt)}`),
    ),
    count('PG ledger: payments refunded more than once', refundedTwice),
    count('PG ledger: refunds on payments not cancelled', refundsNotCancelled),
    count('PG ledger: approved card/easy-pay payments without their charge', withoutCharge),
    count('PG ledger: virtual-account deposits on payments not approved', depositsNotApproved),
    count('PG ledger: approved virtual-account payments without their deposit', approvedWithoutDeposit),
    count('PG ledger: cancelled virtual-account payments whose account still takes deposits', accountsStillOpen),
    count('PG ledger: amounts charged, deposited or refunded other than the payment\'s', otherAmounts),
  ];
}
