/**
 * The SQS emulator (fauxqs) in a child process of its own, so it gets its own event loop
 * (and CPU) next to the handlers and pollers. Its queue URLs use the host
 * `sqs.<region>.localhost`, which does not resolve everywhere: every SQS client in local
 * mode is built with `useQueueUrlAsEndpoint: false` and this endpoint instead.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalStartupError } from '../errors';
import type { LocalLogger } from '../log';
import type { PidFile } from '../process/pid-file';
import { stopProcessGroup } from '../process/process-group';
import { assertPortFree } from './ports';

export interface SqsEmulatorOptions {
  /** 0 lets the emulator pick a free port. */
  readonly port: number;
  readonly region: string;
  readonly log: LocalLogger;
  readonly pidFile?: PidFile;
  /** @default 15_000 */
  readonly readyTimeoutMs?: number;
}

export interface SqsEmulator {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  readonly startMs: number;
  stop(): Promise<void>;
}

const CHILD_SCRIPT = fileURLToPath(new URL('./fauxqs-child.mjs', import.meta.url));
export const SQS_EMULATOR_MARKER = 'fauxqs-child.mjs';

type ChildMessage = { type: 'ready'; port: number } | { type: 'error'; code: string; message: string };

export async function startSqsEmulator(options: SqsEmulatorOptions): Promise<SqsEmulator> {
  await assertPortFree(options.port, 'SQS emulator', 'SQS_PORT');
  const started = Date.now();
  const child: ChildProcess = fork(CHILD_SCRIPT, [], {
    detached: true,
    // Plain node: no TypeScript loader flags inherited from the parent.
    execArgv: [],
    env: { ...process.env, FAUXQS_PORT: String(options.port), FAUXQS_DEFAULT_REGION: options.region, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new LocalStartupError('could not start the SQS emulator');

  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let stopping = false;
  const port = await new Promise<number>((resolve, reject) => {
    // setImmediate: a message that arrived while the event loop was busy (synthesis) is read first.
    const timer = setTimeout(
      () => setImmediate(() => reject(new LocalStartupError(`the SQS emulator did not start within ${options.readyTimeoutMs ?? 15_000} ms`))),
      options.readyTimeoutMs ?? 15_000,
    );
    child.once('message', (message: ChildMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message.port);
      else if (message.code === 'EADDRINUSE') {
        reject(new LocalStartupError(`port ${options.port} (SQS emulator) is already in use by another process; stop it or set SQS_PORT to another port`));
      } else reject(new LocalStartupError(`the SQS emulator failed to start: ${message.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new LocalStartupError(`the SQS emulator exited during startup (code ${code}): ${output.trim().split('\n').at(-1) ?? ''}`));
    });
  }).catch(async (error: unknown) => {
    await stopProcessGroup(pid);
    throw error;
  });
  options.pidFile?.add({ name: 'SQS emulator', pid, marker: SQS_EMULATOR_MARKER, port });
  child.removeAllListeners('exit');
  child.once('exit', (code, signal) => {
    options.pidFile?.remove(pid);
    if (!stopping) options.log.error(`the SQS emulator exited unexpectedly (code ${code}, signal ${signal})`);
  });
  child.stdout?.removeListener('data', collect);
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString().trim();
    if (text) options.log.warn(`sqs-emulator: ${text}`);
  });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid,
    startMs: Date.now() - started,
    async stop() {
      stopping = true;
      if (child.connected) child.disconnect();
      await stopProcessGroup(pid);
      options.pidFile?.remove(pid);
    },
  };
}
