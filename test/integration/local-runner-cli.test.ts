/**
 * `npm start` as a user runs it, in a child process on free ports with its own state directory:
 * it serves the API and writes endpoints.json; SIGTERM, Ctrl-C and a dead launcher stop every
 * process it started; a start after a crash stops the leftovers; a busy port or a missing java is
 * one line on stderr and exit code 1.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { findFreePort } from '../../local/emulators/ports';
import { isAlive } from '../../local/process/process-group';
import { REPO_ROOT } from '../../local/paths';
import type { EndpointsFile } from '../../local/stack';

interface Run {
  readonly child: ChildProcess;
  readonly stateDir: string;
  readonly ports: { api: number; dynamodb: number; sqs: number };
  output(): string;
  stderr(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  waitForAfterExit(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

const runs: Run[] = [];
const servers: Server[] = [];

/** Starts the runner: `npm start` (viaNpm) or the node command it runs, detached in its own process group. */
async function startRunner(options: { viaNpm?: boolean; args?: string[]; env?: Record<string, string>; stateDir?: string; ports?: Run['ports'] } = {}): Promise<Run> {
  const ports = options.ports ?? { api: await findFreePort(), dynamodb: await findFreePort(), sqs: await findFreePort() };
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'payment-outbox-cli-'));
  const [command, args] = options.viaNpm
    ? ['npm', ['start', '--silent', '--', ...(options.args ?? [])]]
    : [process.execPath, ['--import', 'tsx', 'local/start.ts', ...(options.args ?? [])]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(ports.api),
      DYNAMODB_PORT: String(ports.dynamodb),
      SQS_PORT: String(ports.sqs),
      LOCAL_STATE_DIR: stateDir,
      // Never the default 3001 in tests: a free port for the webhook receiver.
      WEBHOOK_RECEIVER_PORT: '0',
      ...options.env,
    },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run: Run = {
    child,
    stateDir,
    ports,
    output: () => out,
    stderr: () => err,
    exited,
    waitFor: async (pattern, timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out + err)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${out}\n${err}`);
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ${pattern}:\n${out}\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    waitForAfterExit: async (pattern, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out + err)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${out}\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
  runs.push(run);
  return run;
}

interface PidsFile {
  owner: number;
  children: { name: string; pid: number }[];
}
const readPids = (run: Run): PidsFile => JSON.parse(readFileSync(join(run.stateDir, 'pids.json'), 'utf8')) as PidsFile;

/** Our DynamoDB Local on `port`, as `pgrep -f DynamoDBLocal` sees it. */
function dynamoDbLocalPids(port: number): number[] {
  try {
    return execFileSync('pgrep', ['-f', `DynamoDBLocal.jar -inMemory -port ${port} `], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function waitUntilGone(pids: number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return pids.filter(isAlive);
}

afterEach(async () => {
  for (const run of runs.splice(0)) {
    const pids = existsSync(join(run.stateDir, 'pids.json')) ? readPids(run).children.map((c) => c.pid) : [];
    for (const pid of [run.child.pid, ...pids]) {
      if (pid !== undefined && isAlive(pid)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          process.kill(pid, 'SIGKILL');
        }
      }
    }
    rmSync(run.stateDir, { recursive: true, force: true });
  }
  for (const server of servers.splice(0)) server.close();
});

describe('npm start', () => {
  it('serves the pipeline with --no-consumers (POST /payments + confirm = two queued messages) and stops everything on SIGTERM', async () => {
    const run = await startRunner({ viaNpm: true, args: ['--no-consumers'] });
    await run.waitFor(/Ctrl-C stops everything/);
    const endpoints = JSON.parse(readFileSync(join(run.stateDir, 'endpoints.json'), 'utf8')) as EndpointsFile;
    expect(endpoints).toMatchObject({
      apiUrl: `http://localhost:${run.ports.api}`,
      region: 'us-east-1',
      dynamodbEndpoint: `http://127.0.0.1:${run.ports.dynamodb}`,
      sqsEndpoint: `http://127.0.0.1:${run.ports.sqs}`,
    });
    expect(Object.keys(endpoints.queues).sort()).toEqual(
      [
        'notifications-dlq.fifo',
        'notifications-sns-dlq.fifo',
        'notifications.fifo',
        'payment-events-dlq.fifo',
        'payment-events-sns-dlq.fifo',
        'payment-events.fifo',
        'relay-failures',
      ],
    );
    expect(endpoints.snsEndpoint).toBe(endpoints.sqsEndpoint);
    expect(Object.keys(endpoints.topics)).toEqual(['payment-events.fifo']);
    // --no-consumers: no dispatcher would call a receiver, so none is started.
    expect(endpoints.webhookReceiverUrl).toBeUndefined();
    expect(run.output()).toContain(endpoints.pgCallbackSecret);
    expect(run.output()).toContain('off (--no-consumers)');
    const children = readPids(run).children;
    expect(children.map((c) => c.name).sort()).toEqual(['DynamoDB Local', 'SQS emulator']);

    const created = await fetch(`${endpoints.apiUrl}/payments`, {
      method: 'POST',
      body: JSON.stringify({ orderId: 'order-cli', amount: 1000, currency: 'KRW', method: 'CARD' }),
    });
    const { paymentId } = (await created.json()) as { paymentId: string };
    const confirmed = await fetch(`${endpoints.apiUrl}/payments/${paymentId}/confirm`, { method: 'POST', body: JSON.stringify({ cardToken: 'tok_visa' }) });
    expect([created.status, confirmed.status]).toEqual([201, 200]);

    const sqs = new SQSClient({
      region: endpoints.region,
      endpoint: endpoints.sqsEndpoint,
      useQueueUrlAsEndpoint: false,
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
    });
    const queueUrl = endpoints.queues['payment-events.fifo'] as string;
    const types: string[] = [];
    const deadline = Date.now() + 15_000;
    while (types.length < 2 && Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      types.push(...Messages.map((m) => m.MessageAttributes?.eventType?.StringValue ?? '?'));
      // FIFO: the payment's next message is delivered once this one is deleted.
      for (const m of Messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
    sqs.destroy();
    expect(types).toEqual(['payment.created', 'payment.approved']);
    expect(run.output()).toMatch(/POST \/payments 201 \d+ ms/);
    // The relay may take both records in one batch or in two: what counts is two published, none failed.
    const relayLines = () => [...run.output().matchAll(/relay +batch of \d+: (\d+) published, (\d+) failed/g)];
    const publishedSoFar = () => relayLines().reduce((sum, m) => sum + Number(m[1]), 0);
    for (const deadline = Date.now() + 5_000; publishedSoFar() < 2 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 100));
    const published = relayLines();
    expect(published.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(2);
    expect(published.every((m) => m[2] === '0')).toBe(true);

    // SIGTERM to npm alone: its shell does not pass it on; the runner notices its launcher is gone.
    process.kill(run.child.pid as number, 'SIGTERM');
    await run.exited;
    expect(await waitUntilGone(children.map((c) => c.pid))).toEqual([]);
    expect(await waitUntilGone([readPids(run).owner])).toEqual([]);
    expect(dynamoDbLocalPids(run.ports.dynamodb)).toEqual([]);
    expect(existsSync(join(run.stateDir, 'endpoints.json'))).toBe(false);
  });

  it('stops the leftovers of a crashed run before binding the same ports, and Ctrl-C stops the new run', async () => {
    const first = await startRunner({ viaNpm: true, args: ['--no-consumers'] });
    await first.waitFor(/Ctrl-C stops everything/);
    const { owner, children } = readPids(first);
    process.kill(owner, 'SIGKILL');
    await first.exited;
    const java = children.find((c) => c.name === 'DynamoDB Local')?.pid as number;
    expect(isAlive(java)).toBe(true);

    const second = await startRunner({ viaNpm: true, args: ['--no-consumers'], stateDir: first.stateDir, ports: first.ports });
    await second.waitFor(/Ctrl-C stops everything/);
    expect(second.output() + second.stderr()).toMatch(new RegExp(`stopping leftover DynamoDB Local \\(pid ${java}, port ${first.ports.dynamodb}\\)`));
    expect(isAlive(java)).toBe(false);

    const { owner: secondOwner, children: secondChildren } = readPids(second);
    // Ctrl-C in a terminal: SIGINT to the whole foreground process group.
    process.kill(-(second.child.pid as number), 'SIGINT');
    await second.exited;
    expect(await waitUntilGone([secondOwner, ...secondChildren.map((c) => c.pid)])).toEqual([]);
    // npm exits on SIGINT before the runner's last line has come through the shared pipe.
    await second.waitForAfterExit(/SIGINT: stopping[\s\S]*stopped in \d+ ms/);
    expect(dynamoDbLocalPids(first.ports.dynamodb)).toEqual([]);
  });

  it('starts the webhook receiver with --webhook-fail-rate / --webhook-down-for as its own process, and SIGTERM stops it with the rest', async () => {
    const run = await startRunner({ args: ['--webhook-fail-rate', '0.3', '--webhook-down-for', '20s'] });
    await run.waitFor(/Ctrl-C stops everything/);
    const endpoints = JSON.parse(readFileSync(join(run.stateDir, 'endpoints.json'), 'utf8')) as EndpointsFile;
    const secret = endpoints.webhookSecrets.notifications as string;
    // A Standard Webhooks secret: whsec_ and 32 random bytes in base64.
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoints.webhookReceiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/payment-events$/);
    const receiver = readPids(run).children.find((c) => c.name === 'webhook receiver');
    expect(receiver).toBeDefined();
    const output = run.output();
    expect(output).toMatch(new RegExp(`webhook notifications secret +${secret.replace(/[+/=]/g, '\\$&')}`));
    expect(output).toMatch(/webhook receiver +http:\/\/127\.0\.0\.1:\d+\/payment-events \(pid \d+; fail-rate 0\.3 \(seed \d+\), down for 20000 ms \(503\)\)/);
    expect(output).toMatch(/consumers +.*\bexample-consumer\b/);
    expect(output).toMatch(/consumers +.*\bwebhook:notifications\b/);

    process.kill(run.child.pid as number, 'SIGTERM');
    expect(await run.exited).toBe(0);
    expect(await waitUntilGone([receiver?.pid as number])).toEqual([]);
    expect(run.output()).toMatch(/receiver +received 0 events in 0 requests/);
  });

  it('refuses a --webhook-fail-rate outside 0..1 and --webhook-* flags without the receiver, with one line and the usage', async () => {
    const badRate = await startRunner({ args: ['--webhook-fail-rate', '2'] });
    expect(await badRate.exited).toBe(1);
    expect(badRate.stderr()).toMatch(/^npm start: --webhook-fail-rate must be a number from 0 to 1, got "2"\nusage: npm start/);
    const contradictory = await startRunner({ args: ['--no-webhook-receiver', '--webhook-down-for', '5s'] });
    expect(await contradictory.exited).toBe(1);
    expect(contradictory.stderr()).toMatch(/^npm start: --webhook-fail-rate \/ --webhook-down-for need the webhook receiver/);
  });

  it('exits 1 with one line when the API port is taken, leaving no emulator behind', async () => {
    const port = await findFreePort();
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, resolve));
    const dynamodb = await findFreePort();

    const run = await startRunner({ ports: { api: port, dynamodb, sqs: await findFreePort() } });
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim()).toBe(`npm start: port ${port} (API) is already in use by another process; stop it or set PORT to another port`);
    expect(dynamoDbLocalPids(dynamodb)).toEqual([]);
  });

  it('exits 1 with one line when java is not on PATH', async () => {
    const run = await startRunner({ env: { PATH: '/nonexistent' } });
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim()).toMatch(/^npm start: `java` was not found on PATH: DynamoDB Local needs Java 17 or newer/);
    expect(run.stderr().trim().split('\n')).toHaveLength(1);
  });
});
