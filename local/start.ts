/**
 * `npm start`: the whole pipeline locally. Options: `--no-consumers` (leave the queues to
 * your own consumers). Environment: PORT (3000), DYNAMODB_PORT (8000), SQS_PORT (4566),
 * PG_WEBHOOK_SECRET (random per run), LOCAL_STATE_DIR (.local), LOCAL_LOG_LEVEL (info),
 * TTL_SWEEP_SECONDS (30). Ctrl-C / SIGTERM stops every process it started.
 */
import { relative } from 'node:path';
import { LocalStartupError } from './errors';
import { createLogger, isLogLevel } from './log';
import { DEFAULT_STATE_DIR } from './paths';
import { watchLauncher } from './process/launcher-watchdog';
import { portsFromEnvironment, startLocalStack, type LocalStack } from './stack';

const USAGE = `usage: npm start [-- --no-consumers]

  --no-consumers   do not run the example consumer; external consumers read the queues
  --help           this text

  env: PORT=3000 DYNAMODB_PORT=8000 SQS_PORT=4566 PG_WEBHOOK_SECRET=<random> LOCAL_STATE_DIR=.local
       LOCAL_LOG_LEVEL=info TTL_SWEEP_SECONDS=30 FIGURES_SECONDS=60 (0 = off) POWERTOOLS_LOG_LEVEL=WARN (handler logs)`;

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const unknown = args.filter((a) => a !== '--no-consumers');
  if (unknown.length > 0) fail(`unknown option ${unknown.join(' ')}\n${USAGE}`);
  const consumers = !args.includes('--no-consumers');

  // The SDK prints an 8-line notice on Node < 22; one line says the same.
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < 22) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C: do not wait any longer (the exit guard SIGKILLs the children).
      process.exit(130);
    }
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

  if (nodeMajor < 22) log.info(`note: Node ${process.versions.node} is fine locally; the Lambdas run nodejs22.x and newer AWS SDK releases will need Node >= 22`);
  log.info(`starting DynamoDB Local, the SQS emulator and synthesizing the stack${consumers ? '' : ' (--no-consumers)'}`);
  stack = await startLocalStack({ ...portsFromEnvironment(), consumers, ttlSweepIntervalSeconds: ttlSeconds, figuresIntervalSeconds: figuresSeconds, logger: log });
  if (stopping) return;

  const e = stack.endpoints;
  const t = stack.timings;
  const stateDir = relative(process.cwd(), process.env.LOCAL_STATE_DIR ?? DEFAULT_STATE_DIR) || '.';
  const width = Math.max(...Object.keys(e.queues).map((q) => q.length)) + 8;
  const lines = [
    '',
    `payment-outbox local stack ready in ${(t.totalMs / 1000).toFixed(1)} s ` +
      `(DynamoDB Local ${t.dynamodbMs} ms, SQS emulator ${t.sqsMs} ms, template ${t.templateMs} ms, handlers ${t.handlersMs} ms)`,
    '',
    `  ${'API'.padEnd(width)}${e.apiUrl}`,
    `  ${'DynamoDB endpoint'.padEnd(width)}${e.dynamodbEndpoint}`,
    `  ${'SQS endpoint'.padEnd(width)}${e.sqsEndpoint}`,
    ...Object.entries(e.queues).map(([name, url]) => `  ${`queue ${name}`.padEnd(width)}${url}`),
    `  ${'PG webhook secret'.padEnd(width)}${e.pgWebhookSecret}`,
    `  ${'region'.padEnd(width)}${e.region} (any access key works)`,
    `  ${'consumers'.padEnd(width)}${
      stack.pollers.queues.length > 0 ? stack.pollers.queues.map((p) => p.name).join(', ') : 'off (--no-consumers): read the queues yourself'
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
