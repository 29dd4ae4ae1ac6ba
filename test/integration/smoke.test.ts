/**
 * `npm run smoke -- --local` against a real local stack: the steps as a function call and as the
 * CLI process (`npx tsx tools/smoke/main.ts --local`, endpoints.json found through LOCAL_STATE_DIR),
 * each passing with every step printed; an unreachable API fails at `create` with exit 1 and
 * leaves no temporary queue; a toss-local stack is confirmed through a toss-local session.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../local/emulators/ports';
import { endpointsFilePath } from '../../local/endpoints-file';
import { REPO_ROOT } from '../../local/paths';
import { createApiClient } from '../../tools/smoke/api-client';
import { formatStep } from '../../tools/smoke/cli';
import { runSmoke, STEP_NAMES } from '../../tools/smoke/steps';
import { localTargetFromEndpoints } from '../../tools/smoke/target';
import { PAYMENT_EVENTS_TOPIC, startTestStack, type LocalStack } from '../support/local-stack-harness';

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'tools/smoke/main.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Temporary queues and subscriptions the smoke test left behind (there must be none). */
async function leftovers(stack: LocalStack): Promise<{ queues: string[]; subscriptions: string[] }> {
  const { QueueUrls = [] } = await stack.clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'smoke-' }));
  const { Subscriptions = [] } = await stack.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: stack.topicArn(PAYMENT_EVENTS_TOPIC) }));
  return { queues: QueueUrls, subscriptions: Subscriptions.map((s) => s.Endpoint ?? '').filter((endpoint) => endpoint.includes(':smoke-')) };
}

describe('smoke test against the sandbox local stack', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it('passes every step as a function call, reading the events from a queue of its own', async () => {
    const target = localTargetFromEndpoints(stack.endpoints, 'test endpoints');
    const lines: string[] = [];

    const report = await runSmoke(target, {
      api: createApiClient(target.apiUrl),
      brokers: { sqs: stack.clients.sqs, sns: stack.clients.sns },
      runId: `fn-${process.pid}`,
      timeoutMs: 30_000,
      onStep: (step) => lines.push(formatStep(step)),
    });

    expect(report.failed).toBeUndefined();
    expect(report.passed).toBe(true);
    expect(report.eventsSource).toBe('queue');
    expect(report.steps.map((s) => [s.name, s.outcome])).toEqual(STEP_NAMES.map((name) => [name, 'ok']));
    expect(report.steps.every((s) => typeof s.latencyMs === 'number')).toBe(true);
    const events = report.steps.find((s) => s.name === 'events received')!;
    expect(events.detail).toMatch(/^payment\.created #1 \+\d+ ms, payment\.approved #2 \+\d+ ms in order on smoke-fn-\d+\.fifo$/);
    expect(report.steps.find((s) => s.name === 'delivery status')!.detail).toContain('payment-events (queue): #1 enqueued, #2 enqueued');
    expect(lines).toHaveLength(STEP_NAMES.length);
    expect(await leftovers(stack)).toEqual({ queues: [], subscriptions: [] });
  });

  it('passes as the CLI process, finding endpoints.json through LOCAL_STATE_DIR, and exits 0', async () => {
    const run = await runCli(['--local'], { LOCAL_STATE_DIR: stack.stateDir });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    for (const name of ['target', ...STEP_NAMES]) {
      expect(lines.some((line) => new RegExp(`^ok\\s+${name}\\s+\\d+ ms  `).test(line)), `${name} in\n${run.stdout}`).toBe(true);
    }
    expect(lines.at(-1)).toMatch(/^PASS local stack \(.*endpoints\.json\), payment \S+, \d+\.\d s$/);
    expect(await leftovers(stack)).toEqual({ queues: [], subscriptions: [] });
  });

  it('fails at create with exit 1 when the API cannot be reached, and still removes its queue', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'payment-outbox-smoke-'));
    try {
      const endpoints = JSON.parse(readFileSync(endpointsFilePath(stack.stateDir), 'utf8')) as Record<string, unknown>;
      // A free port nobody listens on: connections are refused.
      const apiUrl = `http://127.0.0.1:${await findFreePort()}`;
      writeFileSync(endpointsFilePath(stateDir), JSON.stringify({ ...endpoints, apiUrl }));

      const run = await runCli(['--local'], { LOCAL_STATE_DIR: stateDir });

      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(new RegExp(`^fail\\s+create\\s+\\d+ ms {2}POST ${apiUrl}/payments: fetch failed \\(ECONNREFUSED\\)$`, 'm'));
      for (const name of ['confirm', 'events received', 'delivery status']) {
        expect(run.stdout).toMatch(new RegExp(`^skipped\\s+${name}\\s+skipped after create failed$`, 'm'));
      }
      expect(run.stdout).toMatch(/^ok\s+cleanup\s+\d+ ms {2}smoke-\S+\.fifo: subscription and queue deleted$/m);
      expect(run.stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^FAIL at create: POST ${apiUrl}/payments: fetch failed \\(ECONNREFUSED\\) \\[`));
      expect(await leftovers(stack)).toEqual({ queues: [], subscriptions: [] });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('exits 2 with the usage on a bad command line', async () => {
    const run = await runCli(['--local', '--stack', 'X'], {});

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('smoke: --stack and --local exclude each other');
    expect(run.stderr).toContain('Usage: npm run smoke --');
  });
});

describe('smoke test against a toss-local stack', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack({ consumers: false, paymentGateway: { kind: 'toss-local', port: 0 } });
  });
  afterAll(() => stack?.stop());

  it('confirms with the paymentKey of a toss-local session and passes', async () => {
    const target = localTargetFromEndpoints(stack.endpoints, 'test endpoints');
    expect(target.paymentGateway.kind).toBe('toss-local');

    const report = await runSmoke(target, {
      api: createApiClient(target.apiUrl),
      control: createApiClient((target.paymentGateway as { controlUrl: string }).controlUrl),
      brokers: { sqs: stack.clients.sqs, sns: stack.clients.sns },
      runId: `toss-${process.pid}`,
      timeoutMs: 30_000,
    });

    expect(report.failed).toBeUndefined();
    expect(report.steps.find((s) => s.name === 'confirm')!.detail).toBe('200 APPROVED (toss-local session)');
    expect(report.passed).toBe(true);
  });
});
