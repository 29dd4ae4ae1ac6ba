/**
 * `attempts list` and `attempts reconcile` on a local stack whose PG is Toss (tools/toss-local,
 * in-process, over real HTTP). An attempt is left open by Toss itself: the confirm's answer lost
 * after the charge (`loseNextAnswers`), or an outage before anything moved. The commands run
 * in-process against the stack through its endpoints.json, as `npm run outbox` would; they find
 * Toss, its base URL and its made-up key in the file's `paymentGateway`. The scheduled reconciler
 * does not run (the test stack starts no schedules), so whatever closes an attempt here is the CLI.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../cli/args';
import type { CommandContext } from '../../cli/context';
import type { ExitCode } from '../../cli/errors';
import { newRunId } from '../../cli/messages';
import { BufferedOutput } from '../../cli/output';
import { runCommand } from '../../cli/run';
import { createClients, processTargetContext, resolveTarget, type TargetClients, type TargetContext } from '../../cli/target';
import { endpointsFilePath, type EndpointsFile } from '../../local/endpoints-file';
import type { TossLocalServer } from '../../tools/toss-local/server';
import { callApi, startTestStack, type LocalStack } from '../support/local-stack-harness';

const AMOUNT = 18_000;

let stack: LocalStack;
let toss: TossLocalServer;
let clients: TargetClients;
let scratch: string;
beforeAll(async () => {
  stack = await startTestStack({ consumers: false, paymentGateway: { kind: 'toss-local', port: 0 } });
  toss = stack.tossLocal as TossLocalServer;
  clients = createClients(resolveTarget({ mode: 'local', endpointsFile: endpointsFilePath(stack.stateDir) }, processTargetContext));
  scratch = mkdtempSync(join(tmpdir(), 'cli-attempts-toss-'));
});
afterEach(() => toss?.faults.reset());
afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface Run {
  readonly code: ExitCode;
  readonly out: BufferedOutput;
}

/** The environment without any Toss key of the caller's shell: the file is the only source unless a test adds one. */
const NO_TOSS_KEY: TargetContext['env'] = { ...process.env, TOSS_SECRET_KEY: undefined, TOSS_SECRET_KEY_ARN: undefined };

/** Runs `npm run outbox -- <argv>` in-process against an endpoints.json (the stack's unless `endpoints` names another). */
async function outbox(argv: string[], options: { endpoints?: string; env?: TargetContext['env'] } = {}): Promise<Run> {
  const command = parseCommandLine([...argv, '--local', '--endpoints', options.endpoints ?? endpointsFilePath(stack.stateDir)]);
  if (command.name === 'help') throw new Error(`not a command: ${argv.join(' ')}`);
  const target = resolveTarget(command.target, { ...processTargetContext, env: options.env ?? NO_TOSS_KEY });
  const out = new BufferedOutput();
  const ctx: CommandContext = { target, ...clients, out, now: () => new Date(), newRunId: () => newRunId() };
  return { code: await runCommand(command, ctx), out };
}

/** A card payment at our API and its payment window at Toss; returns its id and the window's paymentKey. */
async function newTossCardPayment(orderId: string): Promise<{ paymentId: string; paymentKey: string }> {
  const created = await callApi(stack, 'POST', '/payments', { body: { orderId, amount: AMOUNT, currency: 'KRW', method: 'CARD' } });
  expect(created.status).toBe(201);
  const { paymentId } = created.body as { paymentId: string };
  return { paymentId, paymentKey: toss.createPaymentSession({ orderId: paymentId, amount: AMOUNT }).paymentKey };
}

/** A confirm that meets Toss's fault: 503 PG_UNAVAILABLE, and the attempt stays open. */
async function confirmWithTossFault(paymentId: string, paymentKey: string, fault: 'lose-answer' | 'outage'): Promise<void> {
  toss.faults.set(fault === 'lose-answer' ? { loseNextAnswers: 1 } : { outage: true });
  const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { paymentKey } });
  toss.faults.reset();
  expect(confirmed.status).toBe(503);
  expect((confirmed.body as { error: { code: string } }).error.code).toBe('PG_UNAVAILABLE');
}

async function paymentOf(paymentId: string): Promise<{ status: string; version: number; pgTransactionId?: string }> {
  const { status, version, pgTransactionId } = (await callApi(stack, 'GET', `/payments/${paymentId}`)).body as { status: string; version: number; pgTransactionId?: string };
  return { status, version, ...(pgTransactionId !== undefined && { pgTransactionId }) };
}

async function eventsOf(paymentId: string): Promise<string[]> {
  return (await stack.scanTable('Outbox'))
    .filter((item) => item.aggregateId === paymentId)
    .sort((a, b) => Number(a.sequence) - Number(b.sequence))
    .map((item) => String(item.type));
}

async function attemptsOf(paymentId: string): Promise<Record<string, unknown>[]> {
  return (await stack.scanTable('PgAttempts')).filter((item) => item.paymentId === paymentId);
}

/** The stack's endpoints.json as a stack on real Toss writes it: the same base URL, no key. */
function endpointsWithoutTossKey(): string {
  const file = JSON.parse(readFileSync(endpointsFilePath(stack.stateDir), 'utf8')) as EndpointsFile;
  if (file.paymentGateway.kind !== 'toss') throw new Error('the test stack is not on Toss');
  const { local: _local, ...withoutKey } = file.paymentGateway;
  const path = join(scratch, 'endpoints-real-toss.json');
  writeFileSync(path, JSON.stringify({ ...file, paymentGateway: withoutKey }));
  return path;
}

describe('npm run outbox -- attempts on a Toss stack (local, tools/toss-local)', () => {
  it('lists an attempt left open by a lost confirm answer, dry-runs its reconciliation, then reconciles it to APPROVED with its one charge', async () => {
    const { paymentId, paymentKey } = await newTossCardPayment('cli-toss-lost-answer');
    await confirmWithTossFault(paymentId, paymentKey, 'lose-answer');
    expect(toss.ledger(paymentId)).toMatchObject({ chargeCount: 1, chargedAmount: AMOUNT });
    const key = `${paymentId}:authorize:1`;

    // attempts list: no ledger table on Toss, and no PG asked.
    expect(stack.endpoints.tables.SandboxPgLedgerTable).toBeUndefined();
    const listed = await outbox(['attempts', 'list']);
    expect(listed.code, listed.out.text).toBe(0);
    expect(listed.out.lines[0]).toContain(stack.tableName('PgAttempts'));
    const row = listed.out.lines.find((line) => line.startsWith(paymentId));
    expect(row?.split(/\s{2,}/).slice(0, 4), listed.out.text).toEqual([paymentId, 'authorize', '1', key]);

    // --dry-run: Toss's answer and what would be committed; nothing changes.
    const dry = await outbox(['attempts', 'reconcile', paymentId, '--dry-run']);
    expect(dry.code, dry.out.text).toBe(0);
    const file = endpointsFilePath(stack.stateDir);
    expect(dry.out.lines).toContain(`  PG      toss at ${toss.url}, secret key from ${file} (tools/toss-local's made-up key); chosen by ${file}`);
    expect(dry.out.text).not.toContain(toss.secretKey);
    expect(dry.out.text).toContain(`PG answer  approved (pgTransactionId ${paymentKey})`);
    expect(dry.out.text).toMatch(/would commit READY -> APPROVED \(version 1 -> 2\) with event payment\.approved \(sequence 2\), closing the attempt \(approved\)/);
    expect(dry.out.text).toContain('nothing was written');
    expect(await paymentOf(paymentId)).toEqual({ status: 'READY', version: 1 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created']);
    expect((await attemptsOf(paymentId)).map((a) => a.status)).toEqual(['open']);
    expect(toss.ledger(paymentId)).toMatchObject({ chargeCount: 1 });

    // reconcile: APPROVED with Toss's paymentKey and one payment.approved; Toss charged once.
    const reconciled = await outbox(['attempts', 'reconcile', paymentId]);
    expect(reconciled.code, reconciled.out.text).toBe(0);
    expect(reconciled.out.text).toMatch(/committed +READY -> APPROVED \(version 1 -> 2\) with event payment\.approved \(sequence 2, eventId [0-9a-f-]{36}\), closing the attempt \(approved\)/);
    expect(reconciled.out.text).toContain(`Closed 1 open attempt(s). Payment ${paymentId} is APPROVED, version 2.`);
    expect(await paymentOf(paymentId)).toEqual({ status: 'APPROVED', version: 2, pgTransactionId: paymentKey });
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved']);
    expect(await attemptsOf(paymentId)).toEqual([expect.objectContaining({ status: 'closed', outcome: 'approved', pgIdempotencyKey: key })]);
    expect(toss.ledger(paymentId)).toMatchObject({ chargeCount: 1, chargedAmount: AMOUNT });

    const empty = await outbox(['attempts', 'list']);
    expect(empty.out.text).not.toContain(paymentId);
  });

  it('closes an attempt Toss never charged (an outage at confirm) without changing the payment', async () => {
    const { paymentId, paymentKey } = await newTossCardPayment('cli-toss-outage');
    await confirmWithTossFault(paymentId, paymentKey, 'outage');
    expect(toss.ledger(paymentId)).toMatchObject({ chargeCount: 0 });

    const reconciled = await outbox(['attempts', 'reconcile', paymentId]);
    expect(reconciled.code, reconciled.out.text).toBe(0);
    expect(reconciled.out.text).toMatch(/PG answer {2}not-found/);
    expect(reconciled.out.text).toMatch(/closed +the attempt \(not-found\) with no payment change/);
    expect(await paymentOf(paymentId)).toEqual({ status: 'READY', version: 1 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created']);
    expect(await attemptsOf(paymentId)).toEqual([expect.objectContaining({ status: 'closed', outcome: 'not-found' })]);

    // The buyer's window is still open at Toss: the next confirm opens a new generation and charges once.
    const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { paymentKey } });
    expect(confirmed.status).toBe(200);
    expect(toss.ledger(paymentId)).toMatchObject({ chargeCount: 1 });
  });

  it('fails (exit 1) and leaves the attempt open while Toss cannot be asked', async () => {
    const { paymentId, paymentKey } = await newTossCardPayment('cli-toss-down');
    await confirmWithTossFault(paymentId, paymentKey, 'lose-answer');

    toss.faults.set({ outage: true });
    const failed = await outbox(['attempts', 'reconcile', paymentId]);
    toss.faults.reset();
    expect(failed.code).toBe(1);
    expect(failed.out.warnings.at(-1)).toMatch(/^Error: PgUnavailableError: /);
    expect(await paymentOf(paymentId)).toEqual({ status: 'READY', version: 1 });
    expect((await attemptsOf(paymentId)).map((a) => a.status)).toEqual(['open']);

    expect((await outbox(['attempts', 'reconcile', paymentId])).code).toBe(0);
    expect(await paymentOf(paymentId)).toMatchObject({ status: 'APPROVED' });
  });

  it('on a file without Toss\'s key (a stack on real Toss), needs TOSS_SECRET_KEY and then asks Toss with it', async () => {
    const { paymentId, paymentKey } = await newTossCardPayment('cli-toss-key-from-env');
    await confirmWithTossFault(paymentId, paymentKey, 'lose-answer');
    const endpoints = endpointsWithoutTossKey();

    const refused = await outbox(['attempts', 'reconcile', paymentId], { endpoints });
    expect(refused.code).toBe(1);
    expect(refused.out.warnings).toEqual([
      `Error: local mode: the local stack calls Toss at ${toss.url}, whose secret key is not written to ${endpoints}: ` +
        'set TOSS_SECRET_KEY to the key it was started with (npm start -- --pg toss --pg-secret-key <key>)',
    ]);
    expect((await attemptsOf(paymentId)).map((a) => a.status)).toEqual(['open']);

    const wrongKey = await outbox(['attempts', 'reconcile', paymentId], { endpoints, env: { ...NO_TOSS_KEY, TOSS_SECRET_KEY: 'test_sk_wrong' } });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out.warnings.at(-1)).toMatch(/^Error: PgMisconfiguredError: .*Toss 401/);
    expect((await attemptsOf(paymentId)).map((a) => a.status)).toEqual(['open']);

    const reconciled = await outbox(['attempts', 'reconcile', paymentId], { endpoints, env: { ...NO_TOSS_KEY, TOSS_SECRET_KEY: toss.secretKey } });
    expect(reconciled.code, reconciled.out.text).toBe(0);
    expect(reconciled.out.lines).toContain(`  PG      toss at ${toss.url}, secret key from TOSS_SECRET_KEY; chosen by ${endpoints}`);
    expect(await paymentOf(paymentId)).toEqual({ status: 'APPROVED', version: 2, pgTransactionId: paymentKey });
    expect(toss.ledger(paymentId)).toMatchObject({ chargeCount: 1 });
  });

  it('refuses --pg sandbox on a Toss stack, writing nothing', async () => {
    const { paymentId, paymentKey } = await newTossCardPayment('cli-toss-wrong-pg');
    await confirmWithTossFault(paymentId, paymentKey, 'lose-answer');

    const refused = await outbox(['attempts', 'reconcile', paymentId, '--pg', 'sandbox']);
    expect(refused.code).toBe(1);
    expect(refused.out.warnings).toEqual([`Error: local mode: the local stack calls the toss PG (${endpointsFilePath(stack.stateDir)}); --pg sandbox does not apply`]);
    expect((await attemptsOf(paymentId)).map((a) => a.status)).toEqual(['open']);
    expect(await paymentOf(paymentId)).toEqual({ status: 'READY', version: 1 });
  });
});
