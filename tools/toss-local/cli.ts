/**
 * Command line of toss-local, the local Toss Payments–compatible server:
 *
 *   tsx tools/toss-local/main.ts --port 3002 --secret-key test_sk_local [--webhook-url URL]
 *       [--outage-rate R] [--lose-answer-rate R] [--slow-ms N] [--seed N] [--host H]
 *       [--retry-delays 200,500,1000|toss] [--webhook-timeout-ms N] [--all-deposit-callbacks]
 *
 * The secret key may come from TOSS_SECRET_KEY instead of --secret-key (command lines show in `ps`).
 */
import { UsageError } from '../webhook-receiver/cli';
import { startTossLocalServer, TOSS_WEBHOOK_RETRY_DELAYS_MS, type TossLocalOptions, type TossLocalServer } from './server';
import type { TossFaultChanges } from './toss-local-faults';

export { UsageError } from '../webhook-receiver/cli';

/** Port toss-local listens on when --port is not given. */
export const DEFAULT_TOSS_LOCAL_CLI_PORT = 3002;

export const USAGE = `Usage: tsx tools/toss-local/main.ts --secret-key KEY [options]

A local Toss Payments-compatible server: /v1/payments/confirm, /v1/payments/{paymentKey}/cancel,
/v1/virtual-accounts, payment lookups, Idempotency-Key, DEPOSIT_CALLBACKs, and test-control
routes under /_local (see tools/toss-local/README.md). Logs one line per request.

Options:
  --port N                 port to listen on (default ${DEFAULT_TOSS_LOCAL_CLI_PORT}; 0 = any free port)
  --host H                 address to bind (default 127.0.0.1)
  --secret-key KEY         the one secret key accepted (default: env TOSS_SECRET_KEY)
  --webhook-url URL        where DEPOSIT_CALLBACKs are POSTed (or later: PUT /_local/webhook-url)
  --retry-delays LIST      ms between callback resends, e.g. 200,500,1000; "toss" = Toss's real
                           1,4,16,64,256,1024,4096 minutes (default 200,500,1000,2000,5000,10000,20000)
  --webhook-timeout-ms N   a callback without an answer in N ms failed (default 10000)
  --all-deposit-callbacks  also send DEPOSIT_CALLBACKs on issue and cancel (default: deposits only)
  --outage-rate R          answer 500 FAILED_INTERNAL_SYSTEM_PROCESSING to this share of /v1 requests, 0..1
  --lose-answer-rate R     execute this share of /v1 POSTs, then drop the connection unanswered, 0..1
  --slow-ms N              wait N ms before executing and answering each /v1 request
  --seed N                 seed of the rate draws (default: random, printed)
  --help                   show this text`;

const VALUE_FLAGS = new Set([
  'port',
  'host',
  'secret-key',
  'webhook-url',
  'retry-delays',
  'webhook-timeout-ms',
  'outage-rate',
  'lose-answer-rate',
  'slow-ms',
  'seed',
]);
const SWITCHES = new Set(['all-deposit-callbacks']);

export type ParsedCommand = { readonly help: true } | { readonly help: false; readonly options: TossLocalOptions };

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedCommand {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true };
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (SWITCHES.has(flag)) {
      if (inline !== undefined) throw new UsageError(`--${flag} takes no value`);
      switches.add(flag);
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new UsageError(`unknown option --${flag}`);
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
  const rate = (flag: string): number | undefined => {
    const raw = values.get(flag);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === '' || !(value >= 0 && value <= 1)) throw new UsageError(`--${flag} must be a number from 0 to 1, got "${raw}"`);
    return value;
  };

  const secretKey = values.get('secret-key') ?? env.TOSS_SECRET_KEY;
  if (!secretKey) throw new UsageError('--secret-key is required (or set TOSS_SECRET_KEY)');
  const webhookUrl = values.get('webhook-url');
  if (webhookUrl !== undefined && !/^https?:\/\/\S+$/.test(webhookUrl)) throw new UsageError(`--webhook-url must be an http(s) URL, got "${webhookUrl}"`);
  const retryDelays = values.get('retry-delays');
  let webhookRetryDelaysMs: readonly number[] | undefined;
  if (retryDelays === 'toss') webhookRetryDelaysMs = TOSS_WEBHOOK_RETRY_DELAYS_MS;
  else if (retryDelays !== undefined) {
    if (!/^\d+(,\d+)*$/.test(retryDelays)) throw new UsageError(`--retry-delays must be comma-separated milliseconds or "toss", got "${retryDelays}"`);
    webhookRetryDelaysMs = retryDelays.split(',').map(Number);
  }
  const webhookTimeoutMs = integer('webhook-timeout-ms', 1);

  const outageRate = rate('outage-rate');
  const loseAnswerRate = rate('lose-answer-rate');
  const slowMs = integer('slow-ms', 0, 600_000);
  const seed = integer('seed', 0, 2 ** 32 - 1);
  const faults: TossFaultChanges = {
    ...(outageRate !== undefined && { outageRate }),
    ...(loseAnswerRate !== undefined && { loseAnswerRate }),
    ...(slowMs !== undefined && { slowMs }),
    ...(seed !== undefined && { seed }),
  };

  const options: TossLocalOptions = {
    secretKey,
    port: integer('port', 0, 65_535) ?? DEFAULT_TOSS_LOCAL_CLI_PORT,
    ...(values.has('host') && { host: values.get('host') as string }),
    ...(webhookUrl !== undefined && { webhookUrl }),
    ...(webhookRetryDelaysMs !== undefined && { webhookRetryDelaysMs }),
    ...(webhookTimeoutMs !== undefined && { webhookTimeoutMs }),
    ...(switches.has('all-deposit-callbacks') && { allDepositCallbacks: true }),
    ...(Object.keys(faults).length > 0 && { faults }),
  };
  return { help: false, options };
}

/**
 * The line printed at start: `toss-local on <url> (<faults>; webhook <url or "not set">)`, where
 * `<faults>` is `healthy` or e.g. `outage-rate 0.2, lose-answer-rate 0.1 (seed 7)`.
 */
export function describeServer(server: TossLocalServer): string {
  const faults = server.faults.get();
  const on = [
    faults.outage ? 'outage' : undefined,
    faults.outageRate > 0 ? `outage-rate ${faults.outageRate}` : undefined,
    faults.loseAnswerRate > 0 ? `lose-answer-rate ${faults.loseAnswerRate}` : undefined,
    faults.loseNextAnswers > 0 ? `lose-next-answers ${faults.loseNextAnswers}` : undefined,
    faults.slowMs > 0 ? `slow ${faults.slowMs} ms` : undefined,
  ].filter((part): part is string => part !== undefined);
  const described = on.length === 0 ? 'healthy' : `${on.join(', ')} (seed ${faults.seed})`;
  return `toss-local on ${server.url} (${described}; webhook ${server.webhookUrl ?? 'not set'})`;
}

/** What moved, printed at exit. */
export function summary(server: TossLocalServer): string {
  const ledgers = server.ledgers();
  const sum = (pick: (entry: (typeof ledgers)[number]) => number) => ledgers.reduce((total, entry) => total + pick(entry), 0);
  const callbacks = server.callbacks();
  return [
    `${ledgers.length} orders`,
    `${sum((e) => e.chargeCount)} charges (${sum((e) => e.chargedAmount)} KRW, ${sum((e) => e.depositCount)} by deposit)`,
    `${sum((e) => e.refundCount)} refunds (${sum((e) => e.refundedAmount)} KRW)`,
    `${callbacks.length} callback attempts (${callbacks.filter((c) => c.status === 200).length} answered 200)`,
  ].join('; ');
}

/** Runs the server until SIGINT or SIGTERM. Returns the exit code. */
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
    io.err(`toss-local: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.out(USAGE);
    return 0;
  }
  const server = await startTossLocalServer({ ...parsed.options, log: io.out }).catch((error: unknown) => {
    io.err(`toss-local: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
  if (!server) return 1;
  io.out(describeServer(server));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  io.out(summary(server));
  return 0;
}
