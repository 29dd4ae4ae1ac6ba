/**
 * The command line of `npm run outbox -- <command>`, parsed with node:util `parseArgs` into one
 * typed command. Pure: no I/O, no environment (target defaults are resolved in target.ts).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_TOSS_API_BASE_URL, isPaymentGatewayKind, PAYMENT_GATEWAY_KINDS, type PaymentGatewayKind } from '../lambdas/platform/payment-gateways';
import { UsageError } from './errors';

/** The DLQ the dlq commands use unless `--queue` names another. */
export const DEFAULT_DLQ_NAME = 'payment-events-dlq.fifo';
/** The queue `replay` sends to unless `--queue`, `--queue-url` or PAYMENT_EVENTS_QUEUE_URL names another. */
export const DEFAULT_REPLAY_QUEUE_NAME = 'payment-events.fifo';

/** Where the command runs; see target.ts. */
export interface TargetOptions {
  /** `--local` / `--aws`; undefined = local when the local runner's endpoints.json exists. */
  readonly mode?: 'local' | 'aws';
  /** `--endpoints <file>`: the local runner's endpoints.json. */
  readonly endpointsFile?: string;
  /** `--stack <name>` (implies AWS): the deployed stack whose outputs name the tables and queues. */
  readonly stackName?: string;
  /** `--region` (AWS; local mode takes the region from endpoints.json). */
  readonly region?: string;
  /** `--outbox-table <name>` (else OUTBOX_TABLE_NAME, else local discovery). */
  readonly outboxTable?: string;
  /** `--queue-url <url>`: the payment events queue (else PAYMENT_EVENTS_QUEUE_URL). */
  readonly queueUrl?: string;
  /** `--payments-table <name>` (attempts commands; else PAYMENTS_TABLE_NAME, else endpoints.json). */
  readonly paymentsTable?: string;
  /** `--idempotency-table <name>` (attempts commands; else IDEMPOTENCY_TABLE_NAME, else endpoints.json). */
  readonly idempotencyTable?: string;
  /** `--pg-attempts-table <name>` (attempts commands; else PG_ATTEMPTS_TABLE_NAME, else endpoints.json). */
  readonly pgAttemptsTable?: string;
  /** `--pg-ledger-table <name>`: the sandbox PG's ledger (attempts reconcile on the sandbox; else SANDBOX_PG_LEDGER_TABLE_NAME, else endpoints.json). */
  readonly pgLedgerTable?: string;
  /** `--pg sandbox|toss`: the PG attempts reconcile asks (else PAYMENT_GATEWAY on AWS, endpoints.json locally); see pg-selection.ts. */
  readonly paymentGateway?: PaymentGatewayKind;
}

export type ReplaySelection =
  | { readonly kind: 'payment'; readonly paymentId: string }
  /** `occurredAt` in [from, to), both normalized to `Date#toISOString()` form. */
  | { readonly kind: 'range'; readonly from: string; readonly to: string };

/** The messages `dlq delete` removes. */
export type DeleteSelection =
  | { readonly kind: 'messages'; readonly messageIds: readonly string[] }
  /** A group's messages: the ones with these sequences, or (no sequences) all of them. */
  | { readonly kind: 'group'; readonly groupId: string; readonly sequences?: readonly number[] };

export type Command =
  | { readonly name: 'help'; readonly topic?: string }
  | {
      readonly name: 'replay';
      readonly target: TargetOptions;
      readonly selection: ReplaySelection;
      /** Queue name or URL. */
      readonly queue?: string;
      readonly dryRun: boolean;
      readonly runId?: string;
    }
  | { readonly name: 'dlq-list'; readonly target: TargetOptions; readonly queue: string; readonly max: number; readonly holdSeconds: number }
  | {
      readonly name: 'dlq-show';
      readonly target: TargetOptions;
      readonly queue: string;
      readonly messageId: string;
      readonly max: number;
      readonly holdSeconds: number;
    }
  | {
      readonly name: 'dlq-redrive';
      readonly target: TargetOptions;
      readonly queue: string;
      /** Source queue name or URL; undefined = derived from the DLQ. */
      readonly to?: string;
      readonly group?: string;
      readonly dryRun: boolean;
      readonly runId?: string;
      readonly holdSeconds: number;
      /** `--inbox-table`: the source queue's consumer keeps its Inbox there (the example consumer): sequences it applied are dropped as delivered. */
      readonly inboxTable?: string;
    }
  | {
      readonly name: 'dlq-delete';
      readonly target: TargetOptions;
      /** The DLQ, by name or URL (positional: deleting names its queue explicitly). */
      readonly queue: string;
      readonly selection: DeleteSelection;
      /** `--yes`: do not ask for confirmation on stdin. */
      readonly yes: boolean;
      readonly holdSeconds: number;
      /** Most messages received while looking for the chosen ones. */
      readonly max: number;
    }
  | {
      readonly name: 'attempts-list';
      readonly target: TargetOptions;
      /** Only attempts open at least this long; undefined = every open attempt. */
      readonly olderThanSeconds?: number;
      readonly max: number;
    }
  | { readonly name: 'attempts-reconcile'; readonly target: TargetOptions; readonly paymentId: string; readonly dryRun: boolean };

/** How many open attempts `attempts list` reads unless `--max` says otherwise. */
export const DEFAULT_ATTEMPTS_MAX = 100;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  local: { type: 'boolean' },
  aws: { type: 'boolean' },
  stack: { type: 'string' },
  endpoints: { type: 'string' },
  region: { type: 'string' },
  'outbox-table': { type: 'string' },
  'queue-url': { type: 'string' },
  payment: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  queue: { type: 'string' },
  group: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'run-id': { type: 'string' },
  max: { type: 'string' },
  'hold-seconds': { type: 'string' },
  'older-than': { type: 'string' },
  'payments-table': { type: 'string' },
  'idempotency-table': { type: 'string' },
  'pg-attempts-table': { type: 'string' },
  'pg-ledger-table': { type: 'string' },
  pg: { type: 'string' },
  'inbox-table': { type: 'string' },
  'message-id': { type: 'string', multiple: true },
  sequence: { type: 'string', multiple: true },
  yes: { type: 'boolean', short: 'y' },
} as const;

type OptionName = keyof typeof OPTIONS;
type Values = {
  [K in OptionName]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

const TARGET_OPTIONS: readonly OptionName[] = ['help', 'local', 'aws', 'stack', 'endpoints', 'region', 'outbox-table', 'queue-url'];
/** The payment store's tables besides the Outbox: the attempts commands only. */
const STORE_TABLE_OPTIONS: readonly OptionName[] = ['payments-table', 'idempotency-table', 'pg-attempts-table', 'pg-ledger-table'];
const ALLOWED: Record<Exclude<Command['name'], 'help'>, readonly OptionName[]> = {
  replay: ['payment', 'from', 'to', 'queue', 'dry-run', 'run-id'],
  'dlq-list': ['queue', 'max', 'hold-seconds'],
  'dlq-show': ['queue', 'max', 'hold-seconds'],
  'dlq-redrive': ['queue', 'to', 'group', 'dry-run', 'run-id', 'hold-seconds', 'inbox-table'],
  'dlq-delete': ['message-id', 'group', 'sequence', 'yes', 'hold-seconds', 'max'],
  'attempts-list': ['older-than', 'max', ...STORE_TABLE_OPTIONS],
  'attempts-reconcile': ['dry-run', 'pg', ...STORE_TABLE_OPTIONS],
};

export const USAGE = `Usage: npm run outbox -- <command> [options]

Commands
  replay --payment <id> [--queue <name|url>] [--dry-run] [--run-id <id>]
  replay --from <ISO time> --to <ISO time> [--queue <name|url>] [--dry-run] [--run-id <id>]
      Re-send Outbox events (original eventIds, per-payment sequence order) to one FIFO queue.
      --from/--to select occurredAt in [from, to) with a full table Scan (reads every item).
  dlq list [--queue <dlq>] [--max <n>] [--hold-seconds <s>]
      Count a DLQ's messages and show the head of each message group.
  dlq show <messageId> [--queue <dlq>] [--max <n>] [--hold-seconds <s>]
      Full body and attributes of one DLQ message.
  dlq redrive [--queue <dlq>] [--to <queue>] [--group <id>] [--dry-run] [--run-id <id>] [--hold-seconds <s>]
              [--inbox-table <name>]
      Move DLQ messages back to their source queue, a group at a time, in sequence order, in one
      round: copies of events already moved (same eventId or sequence, or older than a moved one)
      are deleted from the DLQ, each named. --inbox-table: the source's consumer keeps this Inbox
      (the example consumer's); sequences it has applied are dropped as already delivered.
  dlq delete <dlq> (--message-id <id> ... | --group <id> [--sequence <n> ...]) [--yes] [--hold-seconds <s>] [--max <n>]
      Delete chosen messages from a DLQ (a queue another queue's RedrivePolicy names), after showing
      them and asking y/N on stdin (--yes: do not ask). --group without --sequence: the whole group.
  attempts list [--older-than <duration, e.g. 90s, 2m, 1h>] [--max <n>]
      Open PG attempts (money movements whose outcome is not committed yet), oldest first.
  attempts reconcile <paymentId> [--dry-run] [--pg sandbox|toss]
      Ask the PG about each open attempt of the payment (whatever its age) and commit the
      outcome with its event, as the scheduled reconciler does. --dry-run changes nothing.
      The PG is the one the stack calls: local, endpoints.json "paymentGateway" (Toss's key: the
      file for tools/toss-local, else TOSS_SECRET_KEY); AWS, PAYMENT_GATEWAY (default sandbox),
      TOSS_API_BASE_URL (default ${DEFAULT_TOSS_API_BASE_URL}), TOSS_SECRET_KEY or TOSS_SECRET_KEY_ARN.
      --pg overrides PAYMENT_GATEWAY (locally: only for a file that does not name the PG).

Target (default: --local when .local/endpoints.json exists, else --aws)
  --local [--endpoints <file>]     the local runner (npm start); tables and queues from endpoints.json
  --aws [--region <r>]             AWS, usual credentials chain
  --stack <name> [--region <r>]    AWS: the deployed stack (e.g. PaymentOutbox-prod); its outputs name the
                                   tables and queues (queue names may drop the stage prefix: dlq list
                                   --queue payment-events-dlq.fifo is prod-payment-events-dlq.fifo)
  --outbox-table <name>            Outbox table (else OUTBOX_TABLE_NAME; local: discovered)
  --queue-url <url>                payment events queue (else PAYMENT_EVENTS_QUEUE_URL)
  --payments-table, --idempotency-table, --pg-attempts-table <name>
                                   attempts commands (else PAYMENTS_TABLE_NAME, IDEMPOTENCY_TABLE_NAME,
                                   PG_ATTEMPTS_TABLE_NAME; local: endpoints.json)
  --pg-ledger-table <name>         the sandbox PG's ledger, attempts reconcile on the sandbox only
                                   (else SANDBOX_PG_LEDGER_TABLE_NAME; local: endpoints.json)

Defaults: replay --queue ${DEFAULT_REPLAY_QUEUE_NAME}; dlq --queue ${DEFAULT_DLQ_NAME};
redrive --to: the DLQ name without "-dlq" (x-dlq.fifo -> x.fifo), else the queue whose RedrivePolicy names the DLQ.
Exit status: 0 done, 1 error, 2 refused (nothing was sent, moved or deleted; the reason is printed).
attempts reconcile: 0 every open attempt closed, 2 none open or one not closed (why is printed), 1 error.`;

/** Parses `argv` (without node and script). @throws UsageError */
export function parseCommandLine(argv: readonly string[]): Command {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [first, second, ...rest] = positionals;
  if (first === undefined || first === 'help') return { name: 'help', ...(second !== undefined && { topic: second }) };
  if (values.help) return { name: 'help', topic: first };

  if (first === 'replay') {
    if (second !== undefined) throw new UsageError(`replay takes no positional argument (got "${second}")`);
    return replay(values);
  }
  if (first === 'dlq') {
    switch (second) {
      case 'list':
        noExtra(rest, 'dlq list');
        allowOnly(values, 'dlq-list');
        return {
          name: 'dlq-list',
          target: target(values),
          queue: nonEmpty(values.queue, '--queue') ?? DEFAULT_DLQ_NAME,
          max: positiveInteger(values.max, '--max', 50),
          holdSeconds: holdSeconds(values, 30),
        };
      case 'show': {
        const [messageId, ...more] = rest;
        if (messageId === undefined) throw new UsageError('dlq show needs a message id: dlq show <messageId>');
        noExtra(more, 'dlq show');
        allowOnly(values, 'dlq-show');
        return {
          name: 'dlq-show',
          target: target(values),
          queue: nonEmpty(values.queue, '--queue') ?? DEFAULT_DLQ_NAME,
          messageId,
          max: positiveInteger(values.max, '--max', 1000),
          holdSeconds: holdSeconds(values, 30),
        };
      }
      case 'redrive': {
        noExtra(rest, 'dlq redrive');
        allowOnly(values, 'dlq-redrive');
        const to = nonEmpty(values.to, '--to');
        const group = nonEmpty(values.group, '--group');
        const runId = values['run-id'] === undefined ? undefined : validRunId(values['run-id']);
        const inboxTable = nonEmpty(values['inbox-table'], '--inbox-table');
        return {
          name: 'dlq-redrive',
          target: target(values),
          queue: nonEmpty(values.queue, '--queue') ?? DEFAULT_DLQ_NAME,
          ...(to !== undefined && { to }),
          ...(group !== undefined && { group }),
          dryRun: values['dry-run'] ?? false,
          ...(runId !== undefined && { runId }),
          holdSeconds: holdSeconds(values, 300),
          ...(inboxTable !== undefined && { inboxTable }),
        };
      }
      case 'delete': {
        const [queue, ...more] = rest;
        if (queue === undefined || queue.trim() === '') {
          throw new UsageError('dlq delete needs the DLQ: dlq delete <queue> (--message-id <id> ... | --group <id> [--sequence <n> ...])');
        }
        noExtra(more, 'dlq delete');
        allowOnly(values, 'dlq-delete');
        return {
          name: 'dlq-delete',
          target: target(values),
          queue,
          selection: deleteSelection(values),
          yes: values.yes ?? false,
          holdSeconds: holdSeconds(values, 60),
          max: positiveInteger(values.max, '--max', 1000),
        };
      }
      case undefined:
        throw new UsageError('dlq needs a subcommand: list, show, redrive or delete');
      default:
        throw new UsageError(`unknown dlq subcommand "${second}" (list, show, redrive, delete)`);
    }
  }
  if (first === 'attempts') {
    switch (second) {
      case 'list': {
        noExtra(rest, 'attempts list');
        allowOnly(values, 'attempts-list');
        const olderThan = values['older-than'] === undefined ? undefined : durationSeconds(values['older-than'], '--older-than');
        return {
          name: 'attempts-list',
          target: target(values),
          ...(olderThan !== undefined && { olderThanSeconds: olderThan }),
          max: positiveInteger(values.max, '--max', DEFAULT_ATTEMPTS_MAX),
        };
      }
      case 'reconcile': {
        const [paymentId, ...more] = rest;
        if (paymentId === undefined || paymentId.trim() === '') throw new UsageError('attempts reconcile needs a payment id: attempts reconcile <paymentId>');
        noExtra(more, 'attempts reconcile');
        allowOnly(values, 'attempts-reconcile');
        return { name: 'attempts-reconcile', target: target(values), paymentId, dryRun: values['dry-run'] ?? false };
      }
      case undefined:
        throw new UsageError('attempts needs a subcommand: list or reconcile');
      default:
        throw new UsageError(`unknown attempts subcommand "${second}" (list, reconcile)`);
    }
  }
  throw new UsageError(`unknown command "${first}" (replay, dlq, attempts)`);
}

function replay(values: Values): Command {
  allowOnly(values, 'replay');
  const paymentId = nonEmpty(values.payment, '--payment');
  const hasRange = values.from !== undefined || values.to !== undefined;
  if (paymentId !== undefined && hasRange) throw new UsageError('replay takes either --payment or --from/--to, not both');
  let selection: ReplaySelection;
  if (paymentId !== undefined) {
    selection = { kind: 'payment', paymentId };
  } else if (hasRange) {
    if (values.from === undefined || values.to === undefined) throw new UsageError('replay by time needs both --from and --to');
    const from = isoTime(values.from, '--from');
    const to = isoTime(values.to, '--to');
    if (from >= to) throw new UsageError(`--from (${from}) must be before --to (${to})`);
    selection = { kind: 'range', from, to };
  } else {
    throw new UsageError('replay needs --payment <id> or --from <ISO> --to <ISO>');
  }
  const queue = nonEmpty(values.queue, '--queue');
  const runId = values['run-id'] === undefined ? undefined : validRunId(values['run-id']);
  return {
    name: 'replay',
    target: target(values),
    selection,
    ...(queue !== undefined && { queue }),
    dryRun: values['dry-run'] ?? false,
    ...(runId !== undefined && { runId }),
  };
}

/** `--message-id` (repeatable), or `--group` with optional repeatable `--sequence`. */
function deleteSelection(values: Values): DeleteSelection {
  const messageIds = values['message-id'] ?? [];
  const groupId = nonEmpty(values.group, '--group');
  const sequences = values.sequence ?? [];
  if (messageIds.length > 0 && groupId !== undefined) throw new UsageError('dlq delete takes either --message-id or --group, not both');
  if (messageIds.length > 0) {
    if (sequences.length > 0) throw new UsageError('--sequence goes with --group, not --message-id');
    messageIds.forEach((id) => nonEmpty(id, '--message-id'));
    return { kind: 'messages', messageIds: [...new Set(messageIds)] };
  }
  if (groupId === undefined) throw new UsageError('dlq delete needs --message-id <id> (repeatable) or --group <id> [--sequence <n> ...]');
  if (sequences.length === 0) return { kind: 'group', groupId };
  const numbers = sequences.map((value) => positiveInteger(value, '--sequence', 0));
  return { kind: 'group', groupId, sequences: [...new Set(numbers)] };
}

function target(values: Values): TargetOptions {
  if (values.local && values.aws) throw new UsageError('--local and --aws exclude each other');
  if (values.aws && values.endpoints !== undefined) throw new UsageError('--endpoints applies to --local only');
  const stackName = nonEmpty(values.stack, '--stack');
  if (stackName !== undefined && (values.local || values.endpoints !== undefined)) throw new UsageError('--stack names a deployed stack: it excludes --local and --endpoints');
  const mode = values.local ? 'local' : values.aws || stackName !== undefined ? 'aws' : undefined;
  const endpointsFile = nonEmpty(values.endpoints, '--endpoints');
  const region = nonEmpty(values.region, '--region');
  const outboxTable = nonEmpty(values['outbox-table'], '--outbox-table');
  const queueUrl = nonEmpty(values['queue-url'], '--queue-url');
  const paymentsTable = nonEmpty(values['payments-table'], '--payments-table');
  const idempotencyTable = nonEmpty(values['idempotency-table'], '--idempotency-table');
  const pgAttemptsTable = nonEmpty(values['pg-attempts-table'], '--pg-attempts-table');
  const pgLedgerTable = nonEmpty(values['pg-ledger-table'], '--pg-ledger-table');
  const paymentGateway = values.pg === undefined ? undefined : paymentGatewayKind(values.pg);
  return {
    ...(mode && { mode }),
    ...(stackName !== undefined && { stackName }),
    ...(endpointsFile !== undefined && { endpointsFile }),
    ...(region !== undefined && { region }),
    ...(outboxTable !== undefined && { outboxTable }),
    ...(queueUrl !== undefined && { queueUrl }),
    ...(paymentsTable !== undefined && { paymentsTable }),
    ...(idempotencyTable !== undefined && { idempotencyTable }),
    ...(pgAttemptsTable !== undefined && { pgAttemptsTable }),
    ...(pgLedgerTable !== undefined && { pgLedgerTable }),
    ...(paymentGateway !== undefined && { paymentGateway }),
  };
}

function paymentGatewayKind(value: string): PaymentGatewayKind {
  if (isPaymentGatewayKind(value)) return value;
  const hint = value === 'toss-local' ? '; toss-local is npm start\'s: the CLI asks it as toss, from endpoints.json' : '';
  throw new UsageError(`--pg must be one of ${PAYMENT_GATEWAY_KINDS.join(', ')} (got "${value}")${hint}`);
}

function allowOnly(values: Values, command: keyof typeof ALLOWED): void {
  const allowed = new Set<OptionName>([...TARGET_OPTIONS, ...ALLOWED[command]]);
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.has(name as OptionName)) {
      throw new UsageError(`${command.replace('-', ' ')} does not take --${name}`);
    }
  }
}

function noExtra(rest: readonly string[], command: string): void {
  if (rest.length > 0) throw new UsageError(`${command}: unexpected argument "${rest[0]}"`);
}

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`${flag} needs a value`);
  return value;
}

function positiveInteger(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive integer (got "${value}")`);
  return Number(value);
}

function holdSeconds(values: Values, fallback: number): number {
  const seconds = positiveInteger(values['hold-seconds'], '--hold-seconds', fallback);
  // SQS visibility timeouts go up to 12 hours.
  if (seconds > 43_200) throw new UsageError('--hold-seconds must be at most 43200 (12 hours)');
  return seconds;
}

const DURATION_UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `90s`, `2m`, `1h`, `7d` (a whole number and one unit; `0s` is allowed) in seconds. */
function durationSeconds(value: string, flag: string): number {
  const match = /^(\d+)([smhd])$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * (DURATION_UNIT_SECONDS[match[2] as string] ?? Number.NaN) : Number.NaN;
  if (!Number.isSafeInteger(seconds)) throw new UsageError(`${flag} must be a duration such as 90s, 2m, 1h or 1d (got "${value}")`);
  return seconds;
}

/** Accepts a date or date-time in ISO 8601 form; returns it as `Date#toISOString()` (UTC, ms), the form `occurredAt` is stored in. */
function isoTime(value: string, flag: string): string {
  const time = /^\d{4}-\d{2}-\d{2}($|T)/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new UsageError(`${flag} must be an ISO 8601 time such as 2026-11-25T10:00:00Z (got "${value}")`);
  return new Date(time).toISOString();
}

/** Run ids end up in deduplication ids (at most 128 characters of a limited alphabet). */
function validRunId(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(value)) throw new UsageError(`--run-id must be 1-40 characters of [A-Za-z0-9_-] (got "${value}")`);
  return value;
}
