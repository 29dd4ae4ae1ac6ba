/**
 * tools/webhook-receiver as a child process of the runner: the default webhook subscriber's
 * receiving service, in its own process group (recorded in pids.json, stopped with the stack,
 * SIGKILLed by the exit guard). Its lines (one per request, the summary at exit) go to the
 * runner's log under `receiver`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LocalStartupError } from './errors';
import type { LocalLogger } from './log';
import type { PidFile } from './process/pid-file';
import { stopProcessGroup } from './process/process-group';
import { assertPortFree } from './emulators/ports';

/** Repo-relative entry of the receiver; also the pids.json marker. */
export const WEBHOOK_RECEIVER_ENTRY = 'tools/webhook-receiver/main.ts';

export interface WebhookReceiverProcessOptions {
  /** 0 = a free port. */
  readonly port: number;
  /** The signing key of the subscriber it receives for. */
  readonly secret: string;
  /** More receiver flags (see tools/webhook-receiver/cli.ts), e.g. `['--fail-rate', '0.3']`. */
  readonly args?: readonly string[];
  readonly repoRoot: string;
  readonly log: LocalLogger;
  readonly pidFile?: PidFile;
  /** @default 30_000 */
  readonly readyTimeoutMs?: number;
}

export interface WebhookReceiverProcess {
  /** Base URL, e.g. `http://127.0.0.1:3001/` (any path is accepted). */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Its settings as it printed them: `healthy`, or its faults (`fail-rate 0.3 (seed 7), down for 20000 ms (503)`). */
  readonly settings: string;
  stop(): Promise<void>;
}

const READY = /^webhook receiver on (http:\/\/[^\s]+) \((.*)\)$/;

export async function startWebhookReceiverProcess(options: WebhookReceiverProcessOptions): Promise<WebhookReceiverProcess> {
  await assertPortFree(options.port, 'webhook receiver', 'WEBHOOK_RECEIVER_PORT');
  const args = ['--import', 'tsx', join(options.repoRoot, WEBHOOK_RECEIVER_ENTRY), '--port', String(options.port), ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: options.repoRoot,
    detached: true,
    // The key through the environment, not the command line (ps shows command lines).
    env: { ...process.env, WEBHOOK_SECRET: options.secret, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new LocalStartupError('could not start the webhook receiver');

  let stopping = false;
  let output = '';
  let pending = '';
  let onLine: (line: string) => void = (line) => {
    output = `${output}${line}\n`.slice(-4_000);
  };
  const split = (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line.trimEnd());
  };
  child.stdout?.on('data', split);
  child.stderr?.on('data', split);

  const ready = await new Promise<{ url: string; settings: string }>((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => reject(new LocalStartupError(`the webhook receiver did not start within ${timeoutMs} ms: ${output.trim()}`)), timeoutMs);
    const collect = onLine;
    onLine = (line) => {
      collect(line);
      const match = READY.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], settings: match[2] ?? '' });
      }
    };
    child.once('exit', (code) => {
      clearTimeout(timer);
      const last = output.trim().split('\n').slice(-3).join(' / ');
      reject(new LocalStartupError(`the webhook receiver exited during startup (code ${code}): ${last}`));
    });
  }).catch(async (error: unknown) => {
    await stopProcessGroup(pid);
    throw error;
  });

  const port = Number(new URL(ready.url).port);
  options.pidFile?.add({ name: 'webhook receiver', pid, marker: WEBHOOK_RECEIVER_ENTRY, port });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      options.pidFile?.remove(pid);
      if (!stopping) options.log.error(`the webhook receiver exited unexpectedly (code ${code}, signal ${signal})`);
      resolve();
    }),
  );
  onLine = (line) => options.log.info(line);

  return {
    url: ready.url,
    port,
    pid,
    settings: ready.settings,
    async stop() {
      stopping = true;
      await stopProcessGroup(pid);
      // Its summary line arrives with the exit; wait briefly so it is logged.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 500))]);
      options.pidFile?.remove(pid);
    },
  };
}
