/**
 * `npm run chaos [-- --pg toss-local --seed N --payments 3700 --concurrency 32]`: the
 * fault-injection proof on the local stack. Prints the seed first, a table at the end, and exits 1
 * on any violation. See chaos/README.md.
 */
import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run';
import { AVERAGE_EVENTS_PER_PAYMENT, averageEventsPerPayment, PG_KINDS, type PgKind } from './driver';
import { randomSeed } from './random';
import { formatReport } from './report';
import { prepareRunnerProcess } from '../local/process/runner-process';

/**
 * ~10,400 events at 2.8 events per payment, minus the creates that fail and the scripts that end
 * early (confirm/cancel races the cancel wins, callers giving up): ~10,250.
 */
export const DEFAULT_PAYMENTS = 3_700;
/**
 * On toss-local the cancel of a deposited virtual account is refused (Toss needs a refund account
 * the API does not take), so those payments commit 2 events, not 3: 2.55 per payment. 4,100
 * payments plan ~10,450 events, ~10,300 after the creates that fail (virtual-account issues meet
 * the PG's faults too) and the scripts that end early: the same bar as the sandbox's default.
 */
export const DEFAULT_PAYMENTS_BY_PG: Readonly<Record<PgKind, number>> = { sandbox: DEFAULT_PAYMENTS, 'toss-local': 4_100 };
export const DEFAULT_CONCURRENCY = 32;
/** The bar for the default run. */
export const DEFAULT_MIN_EVENTS = 10_000;

const USAGE = `Usage: npm run chaos [-- options]
  --pg <sandbox|toss-local>   the PG: the sandbox, or tools/toss-local in this process (default sandbox)
  --seed <n>                  seed of every random choice (default: random, printed)
  --payments <n>              payments to drive (default ${DEFAULT_PAYMENTS}, about ${AVERAGE_EVENTS_PER_PAYMENT.toFixed(2)} events each;
                              on toss-local ${DEFAULT_PAYMENTS_BY_PG['toss-local']}, about ${averageEventsPerPayment('toss-local').toFixed(2)} each)
  --concurrency <n>           concurrent API callers (default ${DEFAULT_CONCURRENCY})
  --consumer-concurrency <n>  receive loops of the example consumer (default 4)
  --min-events <n>            fewest committed events to pass (default ${DEFAULT_MIN_EVENTS} without --payments, else 0)
  --settle-timeout <s>        longest recovery phase (default 600)
  --consumer-one-at-a-time    consumer invocations never overlap in this process (diagnostic)
Exit status: 0 passed, 1 a violation (listed), 2 usage or startup error.`;

function pgKind(raw: string | undefined): PgKind {
  if (raw === undefined) return 'sandbox';
  const kind = PG_KINDS.find((k) => k === raw);
  if (!kind) throw new Error(`--pg must be one of ${PG_KINDS.join(', ')}, got "${raw}"`);
  return kind;
}

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  prepareRunnerProcess();
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        pg: { type: 'string' },
        seed: { type: 'string' },
        payments: { type: 'string' },
        concurrency: { type: 'string' },
        'consumer-concurrency': { type: 'string' },
        'min-events': { type: 'string' },
        'settle-timeout': { type: 'string' },
        'consumer-one-at-a-time': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let options;
  try {
    const pg = pgKind(values.pg);
    options = {
      pg,
      seed: positiveInt('seed', values.seed, randomSeed(), 0),
      payments: positiveInt('payments', values.payments, DEFAULT_PAYMENTS_BY_PG[pg]),
      concurrency: positiveInt('concurrency', values.concurrency, DEFAULT_CONCURRENCY),
      consumerConcurrency: positiveInt('consumer-concurrency', values['consumer-concurrency'], 4),
      minEvents: positiveInt('min-events', values['min-events'], values.payments === undefined ? DEFAULT_MIN_EVENTS : 0, 0),
      settleTimeoutMs: positiveInt('settle-timeout', values['settle-timeout'], 600) * 1000,
      consumerOneAtATime: values['consumer-one-at-a-time'] ?? false,
    };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }

  const started = Date.now();
  const log = (line: string) => process.stdout.write(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
  log(`seed ${options.seed} (rerun with --seed ${options.seed}); PG ${options.pg}; ${options.payments} payments, API concurrency ${options.concurrency}`);
  let report;
  try {
    report = await runChaos({ ...options, log });
  } catch (error) {
    process.stderr.write(`chaos run failed to complete: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 2;
  }
  process.stdout.write(`\n${formatReport(report).join('\n')}\n`);
  return report.violations.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
// The result is decided: do not wait for whatever still holds a socket or a timer.
process.exit();
