/**
 * `npm start`: the whole pipeline locally. Options: `--no-consumers` (leave the queues to
 * your own consumers), `--no-webhook-receiver`, `--webhook-fail-rate R`, `--webhook-down-for D`.
 * Environment: PORT (3000), DYNAMODB_PORT (8000), SQS_PORT (4566), WEBHOOK_RECEIVER_PORT
 * (the default webhook URL's, 3001), PG_CALLBACK_SECRET (random per run), LOCAL_STATE_DIR (.local),
 * LOCAL_LOG_LEVEL (info), TTL_SWEEP_SECONDS (30). Ctrl-C / SIGTERM stops every process it started.
 */
import { relative } from 'node:path';
import { LocalStartupError } from './errors';
import { createLogger, isLogLevel } from './log';
import { DEFAULT_STATE_DIR } from './paths';
import { watchLauncher } from './process/launcher-watchdog';
import { DEFAULT_TOSS_API_BASE_URL } from '../lambdas/platform/payment-gateways';
import { portsFromEnvironment, startLocalStack, webhookReceiverPortFromEnvironment, type LocalPaymentGateway, type LocalStack } from './stack';
import { prepareRunnerProcess } from './process/runner-process';

const USAGE = `usage: npm start [-- --no-consumers] [--no-webhook-receiver] [--webhook-fail-rate R] [--webhook-down-for D]
                 [--pg sandbox|toss|toss-local] [--pg-base-url URL] [--pg-secret-key KEY]

  --pg PG                 the payment gateway: sandbox (default), toss (a Toss-compatible API at --pg-base-url),
                          toss-local (tools/toss-local started here, on TOSS_LOCAL_PORT=3002)
  --pg-base-url URL       with --pg toss: the API (default ${DEFAULT_TOSS_API_BASE_URL})
  --pg-secret-key KEY     with --pg toss: the secret key, e.g. test_sk_... (default: env TOSS_SECRET_KEY)

  --no-consumers          run neither the example consumer nor the webhook dispatchers; external consumers read the queues
  --no-webhook-receiver   do not start tools/webhook-receiver (run your own on the notifications URL)
  --webhook-fail-rate R   the receiver answers 503 to this share of requests (0..1), to see retries
  --webhook-down-for D    the receiver is down (503) for D after start, e.g. 20 (seconds), 20s, 2m
  --help                  this text

  env: PORT=3000 DYNAMODB_PORT=8000 SQS_PORT=4566 WEBHOOK_RECEIVER_PORT=3001 (0 = free) PG_CALLBACK_SECRET=<random>
       LOCAL_STATE_DIR=.local LOCAL_LOG_LEVEL=info TTL_SWEEP_SECONDS=30 FIGURES_SECONDS=60 (0 = off)
       POWERTOOLS_LOG_LEVEL=WARN (handler logs)`;

interface CliOptions {
  readonly paymentGateway: LocalPaymentGateway;
  readonly consumers: boolean;
  readonly webhookReceiver: boolean;
  /** Flags passed to tools/webhook-receiver. */
  readonly receiverArgs: string[];
}

/** Parses the command line; throws an Error naming the problem. */
function parseCliArgs(args: readonly string[]): CliOptions {
  let consumers = true;
  let webhookReceiver = true;
  const receiverArgs: string[] = [];
  let pg: string | undefined;
  let pgBaseUrl: string | undefined;
  let pgSecretKey: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const next = inline ?? args[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (arg === '--no-consumers') consumers = false;
    else if (flag === '--pg') pg = value();
    else if (flag === '--pg-base-url') pgBaseUrl = value();
    else if (flag === '--pg-secret-key') pgSecretKey = value();
    else if (arg === '--no-webhook-receiver') webhookReceiver = false;
    else if (flag === '--webhook-fail-rate') {
      const rate = value();
      if (!(rate.trim() !== '' && Number(rate) >= 0 && Number(rate) <= 1)) throw new Error(`--webhook-fail-rate must be a number from 0 to 1, got "${rate}"`);
      receiverArgs.push('--fail-rate', rate);
    } else if (flag === '--webhook-down-for') {
      const duration = value();
      if (!/^\d+(\.\d+)?(ms|s|m|h)?$/.test(duration)) throw new Error(`--webhook-down-for must be a duration like 20, 20s, 500ms or 2m, got "${duration}"`);
      receiverArgs.push('--down-for', duration);
    } else throw new Error(`unknown option ${arg}`);
  }
  if (!webhookReceiver && receiverArgs.length > 0) throw new Error('--webhook-fail-rate / --webhook-down-for need the webhook receiver (drop --no-webhook-receiver)');
  return { paymentGateway: paymentGatewayOf(pg, pgBaseUrl, pgSecretKey ?? process.env.TOSS_SECRET_KEY), consumers, webhookReceiver, receiverArgs };
}

/** The PG options, checked together. */
function paymentGatewayOf(pg: string | undefined, baseUrl: string | undefined, secretKey: string | undefined): LocalPaymentGateway {
  const kind = pg ?? 'sandbox';
  if (kind !== 'toss' && baseUrl !== undefined) throw new Error('--pg-base-url needs --pg toss');
  if (kind === 'sandbox') return { kind };
  if (kind === 'toss-local') return { kind };
  if (kind !== 'toss') throw new Error(`--pg must be sandbox, toss or toss-local, got "${kind}"`);
  const url = (baseUrl ?? DEFAULT_TOSS_API_BASE_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new Error(`--pg-base-url must be an http(s) URL, got "${url}"`);
  if (!secretKey) throw new Error('--pg toss needs --pg-secret-key KEY (or env TOSS_SECRET_KEY): the secret key of your Toss test keys, test_sk_...');
  return { kind, baseUrl: url, secretKey };
}

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

/** Signals this close to the first one are the same Ctrl-C delivered twice. */
const DUPLICATE_SIGNAL_WINDOW_MS = 1_500;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let cli: CliOptions;
  try {
    cli = parseCliArgs(args);
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  const { consumers } = cli;

  prepareRunnerProcess();

  const level = process.env.LOCAL_LOG_LEVEL;
  const log = createLogger('local', { level: isLogLevel(level) ? level : 'info' });
  const ttlSeconds = Number(process.env.TTL_SWEEP_SECONDS ?? '30');
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) fail(`TTL_SWEEP_SECONDS must be a positive number, got "${process.env.TTL_SWEEP_SECONDS}"`);
  const figuresSeconds = Number(process.env.FIGURES_SECONDS ?? '60');
  if (!Number.isFinite(figuresSeconds) || figuresSeconds < 0) fail(`FIGURES_SECONDS must be 0 or a positive number, got "${process.env.FIGURES_SECONDS}"`);

  let stack: LocalStack | undefined;
  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info(`${reason}: stopping`);
    const started = Date.now();
    await stack?.stop();
    log.info(`stopped in ${Date.now() - started} ms`);
    process.exit(code);
  };
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // One Ctrl-C can arrive twice: the terminal signals the whole process group and tsx relays
      // it to this process as well. Only a later, deliberate second Ctrl-C cuts the stop short
      // (the exit guard SIGKILLs the children).
      if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_WINDOW_MS) return;
      process.exit(130);
    }
    firstSignalAt = Date.now();
    void shutdown(signal, 0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  watchLauncher((pid) => void shutdown(`launcher process ${pid} exited`, 0));
  process.on('uncaughtException', (error) => {
    log.error(`uncaught exception: ${error.stack ?? error.message}`);
    void shutdown('uncaught exception', 1);
  });
  process.on('unhandledRejection', (error) => {
    log.error(`unhandled rejection: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  });

  if (Number(process.versions.node.split('.')[0]) < 22) log.info(`note: Node ${process.versions.node} is fine locally; the Lambdas run nodejs22.x and newer AWS SDK releases will need Node >= 22`);
  log.info(`starting DynamoDB Local, the SQS emulator and synthesizing the stack${consumers ? '' : ' (--no-consumers)'}`);
  const receiverPort = webhookReceiverPortFromEnvironment();
  stack = await startLocalStack({
    ...portsFromEnvironment(),
    consumers,
    paymentGateway: cli.paymentGateway,
    ttlSweepIntervalSeconds: ttlSeconds,
    figuresIntervalSeconds: figuresSeconds,
    logger: log,
    webhookReceiver: cli.webhookReceiver ? { ...(receiverPort !== undefined && { port: receiverPort }), args: cli.receiverArgs } : false,
  });
  if (stopping) return;

  const e = stack.endpoints;
  const t = stack.timings;
  const stateDir = relative(process.cwd(), process.env.LOCAL_STATE_DIR ?? DEFAULT_STATE_DIR) || '.';
  const width = Math.max(...[...Object.keys(e.queues), ...Object.keys(e.topics)].map((q) => q.length), ...Object.keys(e.webhookSecrets).map((s) => s.length + 9)) + 8;
  const receiver = stack.webhookReceiver;
  const lines = [
    '',
    `payment-outbox local stack ready in ${(t.totalMs / 1000).toFixed(1)} s ` +
      `(DynamoDB Local ${t.dynamodbMs} ms, SQS emulator ${t.sqsMs} ms, template ${t.templateMs} ms, handlers ${t.handlersMs} ms)`,
    '',
    `  ${'API'.padEnd(width)}${e.apiUrl}`,
    `  ${'DynamoDB endpoint'.padEnd(width)}${e.dynamodbEndpoint}`,
    `  ${'SQS endpoint'.padEnd(width)}${e.sqsEndpoint}`,
    `  ${'SNS endpoint'.padEnd(width)}${e.snsEndpoint} (same emulator)`,
    ...Object.entries(e.topics).map(([name, arn]) => `  ${`topic ${name}`.padEnd(width)}${arn}`),
    ...Object.entries(e.queues).map(([name, url]) => `  ${`queue ${name}`.padEnd(width)}${url}`),
    ...(e.paymentGateway.kind === 'toss'
      ? [
          `  ${'payment gateway'.padEnd(width)}toss at ${e.paymentGateway.baseUrl}${e.paymentGateway.local ? ' (tools/toss-local)' : ''}`,
          `  ${'Toss deposit callback'.padEnd(width)}${e.paymentGateway.depositCallbackUrl}`,
          ...(e.paymentGateway.local ? [`  ${'toss-local controls'.padEnd(width)}${e.paymentGateway.local.controlUrl}`] : []),
        ]
      : [`  ${'payment gateway'.padEnd(width)}sandbox`, `  ${'PG callback secret'.padEnd(width)}${e.pgCallbackSecret}`]),
    ...Object.entries(e.webhookSecrets).map(([name, secret]) => `  ${`webhook ${name} secret`.padEnd(width)}${secret}`),
    ...(receiver && e.webhookReceiverUrl
      ? [`  ${'webhook receiver'.padEnd(width)}${e.webhookReceiverUrl} (pid ${receiver.pid}; ${receiver.settings})`]
      : Object.keys(e.webhookSecrets).length > 0
        ? [
            `  ${'webhook receiver'.padEnd(width)}${
              !consumers ? 'not started (--no-consumers: no dispatcher would call it)' : 'not started (--no-webhook-receiver): run your own on the webhook URL'
            }`,
          ]
        : []),
    `  ${'region'.padEnd(width)}${e.region} (any access key works)`,
    `  ${'consumers'.padEnd(width)}${
      stack.pollers.queues.length > 0
        ? stack.pollers.queues.map((p) => p.name).join(', ')
        : 'off (--no-consumers): read the queues yourself; webhook dispatchers off too'
    }`,
    ...stack.model.schedules.map((sched) => {
      const fn = stack?.functions.get(sched.functionLogicalId);
      return `  ${`schedule ${fn?.spec.shortName ?? sched.functionLogicalId}`.padEnd(width)}${sched.expression}${sched.rateSeconds === undefined ? ' (not played locally)' : ''}`;
    }),
    `  ${'endpoints.json'.padEnd(width)}${stateDir}/endpoints.json`,
    '',
    `  Queue URLs name the host sqs.${e.region}.localhost: send SQS requests to the SQS endpoint`,
    '  (AWS SDK v3: endpoint + useQueueUrlAsEndpoint: false; AWS CLI: --endpoint-url).',
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof LocalStartupError) fail(error.message);
  process.stderr.write(`npm start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
