/**
 * Command line of the local webhook receiver:
 *
 *   tsx tools/webhook-receiver/main.ts --port 3001 --secret S [--fail-rate 0.3] [--down-for 30s]
 *       [--down-mode 503|refuse] [--fail-first K] [--slow-ms N] [--slow-first K] [--status CODE]
 *       [--retry-after SECONDS] [--seed N] [--host H] [--tolerance SECONDS]
 *
 * The secret may come from WEBHOOK_SECRET instead of --secret.
 */
import { startWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions } from './receiver';

export const USAGE = `Usage: tsx tools/webhook-receiver/main.ts --secret S [options]

A local webhook receiver: verifies signatures (401 on failure), deduplicates by X-Event-Id,
checks sequence order per payment, logs one line per request.

Options:
  --port N              port to listen on (default 3001; 0 = any free port)
  --host H              address to bind (default 127.0.0.1)
  --secret S            signing key (default: env WEBHOOK_SECRET)
  --fail-rate R         answer 503 to this share of requests, 0..1 (seeded)
  --seed N              seed of the --fail-rate draws (default: random, printed)
  --fail-first K        answer 503 to the first K attempts of each event
  --down-for D          be down for D after start (e.g. 30s, 500ms, 2m)
  --down-mode M         503 (answer 503 while down, default) or refuse (refuse connections)
  --slow-ms N           wait N ms before answering (after taking the event in)
  --slow-first K        only the first K attempts of each event are slow
  --status CODE         answer CODE to every verified request (e.g. 400)
  --retry-after S       send Retry-After: S with injected 503s
  --tolerance S         accepted webhook-timestamp skew in seconds (default 300)
  --help                show this text`;

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`not a duration: "${text}" (use e.g. 30s, 500ms, 2m)`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? 1000;
  return Math.round(value * factor);
}

const FLAGS = new Set([
  'port',
  'host',
  'secret',
  'fail-rate',
  'seed',
  'fail-first',
  'down-for',
  'down-mode',
  'slow-ms',
  'slow-first',
  'status',
  'retry-after',
  'tolerance',
]);

export type ParsedCommand = { readonly help: true } | { readonly help: false; readonly options: WebhookReceiverOptions };

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedCommand {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true };
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!FLAGS.has(flag)) throw new UsageError(`unknown option --${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${flag} needs a value`);
    values.set(flag, value);
  }

  const integer = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const raw = values.get(flag);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
    return value;
  };
  const port = integer('port', 0, 65_535) ?? 3001;
  const failRateText = values.get('fail-rate');
  const failRate = failRateText === undefined ? undefined : Number(failRateText);
  if (failRate !== undefined && !(failRateText !== '' && failRate >= 0 && failRate <= 1)) {
    throw new UsageError(`--fail-rate must be a number from 0 to 1, got "${failRateText}"`);
  }
  const downMode = values.get('down-mode');
  if (downMode !== undefined && downMode !== '503' && downMode !== 'refuse') {
    throw new UsageError(`--down-mode must be 503 or refuse, got "${downMode}"`);
  }
  const downFor = values.get('down-for');
  const retryAfter = values.get('retry-after');
  if (retryAfter !== undefined && !/^\d+$/.test(retryAfter)) throw new UsageError(`--retry-after must be whole seconds, got "${retryAfter}"`);

  const secret = values.get('secret') ?? env.WEBHOOK_SECRET;
  if (!secret) throw new UsageError('--secret is required (or set WEBHOOK_SECRET)');
  const options: WebhookReceiverOptions = {
    secret,
    port,
    ...(values.has('host') && { host: values.get('host') as string }),
    ...(failRate !== undefined && { failRate }),
    ...optional('seed', integer('seed', 0, 2 ** 32 - 1)),
    ...optional('failFirst', integer('fail-first', 0)),
    ...(downFor !== undefined && { downForMs: parseDuration(downFor) }),
    ...(downMode !== undefined && { downMode }),
    ...optional('slowMs', integer('slow-ms', 0)),
    ...optional('slowFirst', integer('slow-first', 0)),
    ...optional('status', integer('status', 200, 599)),
    ...(retryAfter !== undefined && { retryAfter }),
    ...optional('toleranceSeconds', integer('tolerance', 1)),
  };
  return { help: false, options };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** One line describing the settings, printed at start. */
export function describeSettings(receiver: WebhookReceiver, options: WebhookReceiverOptions): string {
  const faults = [
    options.failRate ? `fail-rate ${options.failRate} (seed ${receiver.seed})` : undefined,
    options.failFirst ? `fail-first ${options.failFirst}` : undefined,
    options.downForMs ? `down for ${options.downForMs} ms (${options.downMode ?? '503'})` : undefined,
    options.slowMs ? `slow ${options.slowMs} ms${options.slowFirst !== undefined ? ` for the first ${options.slowFirst} attempts` : ''}` : undefined,
    options.status !== undefined ? `always ${options.status}` : undefined,
    options.retryAfter !== undefined ? `Retry-After ${options.retryAfter}` : undefined,
  ].filter(Boolean);
  return `webhook receiver on ${receiver.url} (${faults.length > 0 ? faults.join(', ') : 'healthy'})`;
}

/** What the receiver saw, printed at exit. */
export function summary(receiver: WebhookReceiver): string {
  const attempts = [...receiver.attemptsByEvent.values()].reduce((sum, list) => sum + list.length, 0);
  const rejected = [...receiver.rejected.entries()].map(([reason, count]) => `${reason} ${count}`).join(', ');
  return [
    `received ${receiver.received.length} events in ${attempts} requests`,
    `order violations ${receiver.orderViolations.length}`,
    `rejected ${rejected || 0}`,
  ].join('; ');
}

/** Runs the receiver until SIGINT or SIGTERM. Returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: { out: (line: string) => void; err: (line: string) => void } = {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  },
): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`webhook-receiver: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.out(USAGE);
    return 0;
  }
  const receiver = await startWebhookReceiver({ ...parsed.options, log: io.out }).catch((error: unknown) => {
    io.err(`webhook-receiver: cannot listen: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
  if (!receiver) return 1;
  io.out(describeSettings(receiver, parsed.options));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await receiver.close();
  io.out(summary(receiver));
  return 0;
}
