/**
 * `attempts list` and `attempts reconcile` on the real local stack. An attempt is left open by a
 * fault in the confirm function's own DynamoDB client (the sandbox PG's ledger is a table, so its
 * calls are that client's calls): the PG's answer lost after the charge, or the PG failing before
 * the money moved. The commands then run in-process against the stack through its endpoints.json,
 * as `npm run outbox` would. The scheduled reconciler does not run (the test stack starts no
 * schedules), so whatever closes an attempt here is the CLI.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../cli/args';
import type { CommandContext } from '../../cli/context';
import type { ExitCode } from '../../cli/errors';
import { newRunId } from '../../cli/messages';
import { BufferedOutput } from '../../cli/output';
import { runCommand } from '../../cli/run';
import { createClients, processTargetContext, resolveTarget, type TargetClients } from '../../cli/target';
import type { AwsClients } from '../../lambdas/platform/aws-clients';
import { endpointsFilePath } from '../../local/endpoints-file';
import { callApi, startTestStack, type LocalStack } from '../support/local-stack-harness';

type Fault = 'lose-answer-after-charge' | 'fail-before-charge';
/** Payment id -> the fault its next PG call meets (once). */
const faults = new Map<string, Fault>();

function ledgerPaymentIdOf(input: TransactWriteCommandInput): string | undefined {
  const writesLedger = (input.TransactItems ?? []).some((item) => (item.Put?.TableName ?? item.Update?.TableName ?? '').includes('SandboxPgLedger'));
  if (!writesLedger) return undefined;
  for (const item of input.TransactItems ?? []) {
    const paymentId = (item.Put?.Item as { paymentId?: unknown } | undefined)?.paymentId;
    if (typeof paymentId === 'string') return paymentId;
  }
  return undefined;
}

/** The sandbox PG's ledger writes of the confirm function: charged then the answer lost, or failed before anything moved. */
function injectPgFaults(clients: AwsClients): AwsClients {
  clients.documents.middlewareStack.add(
    (next, context) => async (args) => {
      // The document client shares its base client's middleware stack, which names the command
      // after the low-level one (TransactWriteItemsCommand); the input is still the document form here.
      if (context.commandName !== 'TransactWriteCommand' && context.commandName !== 'TransactWriteItemsCommand') return next(args);
      const paymentId = ledgerPaymentIdOf(args.input as TransactWriteCommandInput);
      const fault = paymentId === undefined ? undefined : faults.get(paymentId);
      if (paymentId === undefined || fault === undefined) return next(args);
      faults.delete(paymentId);
      if (fault === 'lose-answer-after-charge') await next(args);
      throw Object.assign(new Error(`socket hang up (injected: ${fault})`), { name: 'TimeoutError' });
    },
    { step: 'initialize', name: 'cliAttemptsPgFaults', priority: 'high' },
  );
  return clients;
}

let stack: LocalStack;
let clients: TargetClients;
beforeAll(async () => {
  stack = await startTestStack({
    consumers: false,
    functionClients: (fn, own) => (fn.name === 'confirm-payment' ? injectPgFaults(own) : own),
  });
  clients = createClients(resolveTarget({ mode: 'local', endpointsFile: endpointsFilePath(stack.stateDir) }, processTargetContext));
});
afterEach(() => faults.clear());
afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
});

interface Run {
  readonly code: ExitCode;
  readonly out: BufferedOutput;
}

/** Runs `npm run outbox -- <argv>` in-process against the stack's endpoints.json. */
async function outbox(...argv: string[]): Promise<Run> {
  const command = parseCommandLine([...argv, '--local', '--endpoints', endpointsFilePath(stack.stateDir)]);
  if (command.name === 'help') throw new Error(`not a command: ${argv.join(' ')}`);
  const target = resolveTarget(command.target, processTargetContext);
  const out = new BufferedOutput();
  const ctx: CommandContext = { target, ...clients, out, now: () => new Date(), newRunId: () => newRunId() };
  return { code: await runCommand(command, ctx), out };
}

async function newCardPayment(orderId: string): Promise<string> {
  const created = await callApi(stack, 'POST', '/payments', { body: { orderId, amount: 25_000, currency: 'KRW', method: 'CARD' } });
  expect(created.status).toBe(201);
  return (created.body as { paymentId: string }).paymentId;
}

/** A confirm whose PG call meets `fault`: 503 PG_UNAVAILABLE, and the attempt stays open. */
async function confirmWithFault(paymentId: string, fault: Fault): Promise<void> {
  faults.set(paymentId, fault);
  const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken: 'tok_visa' } });
  expect(confirmed.status).toBe(503);
  expect((confirmed.body as { error: { code: string } }).error.code).toBe('PG_UNAVAILABLE');
}

async function statusOf(paymentId: string): Promise<{ status: string; version: number }> {
  const { status, version } = (await callApi(stack, 'GET', `/payments/${paymentId}`)).body as { status: string; version: number };
  return { status, version };
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

async function chargesOf(paymentId: string): Promise<number> {
  const item = (await stack.scanTable('SandboxPgLedger')).find((i) => i.pk === `payment#${paymentId}`);
  return Number(item?.chargeCount ?? 0);
}

describe('npm run outbox -- attempts (local stack)', () => {
  it('lists an attempt left open by a lost PG answer, dry-runs its reconciliation, reconciles it to APPROVED, then refuses a second time', async () => {
    const paymentId = await newCardPayment('cli-attempts-lost-answer');
    await confirmWithFault(paymentId, 'lose-answer-after-charge');
    expect(await chargesOf(paymentId)).toBe(1);
    const key = `${paymentId}:authorize:1`;

    // attempts list: the open attempt, oldest first.
    const listed = await outbox('attempts', 'list');
    expect(listed.code, listed.out.text).toBe(0);
    const row = listed.out.lines.find((line) => line.startsWith(paymentId));
    expect(row, listed.out.text).toBeDefined();
    expect(row?.split(/\s{2,}/).slice(0, 4)).toEqual([paymentId, 'authorize', '1', key]);
    expect(listed.out.lines[0]).toContain(stack.tableName('PgAttempts'));

    // --older-than filters by age: the attempt is seconds old.
    const older = await outbox('attempts', 'list', '--older-than', '1h');
    expect(older.code).toBe(0);
    expect(older.out.text).toMatch(/No open PG attempts open at least 1h 0m \(1 younger one\(s\)/);
    expect(older.out.text).not.toContain(paymentId);

    // --dry-run: the PG's answer and what would be committed; nothing changes.
    const dry = await outbox('attempts', 'reconcile', paymentId, '--dry-run');
    expect(dry.code, dry.out.text).toBe(0);
    const file = endpointsFilePath(stack.stateDir);
    expect(dry.out.lines).toContain(`  PG      sandbox, over its ledger table ${stack.tableName('SandboxPgLedger')}; chosen by ${file}`);
    expect(dry.out.text).toMatch(/PG answer {2}approved \(pgTransactionId sandbox_/);
    expect(dry.out.text).toMatch(/would commit READY -> APPROVED \(version 1 -> 2\) with event payment\.approved \(sequence 2\), closing the attempt \(approved\)/);
    expect(dry.out.text).toContain('nothing was written');
    expect(dry.out.warnings.join('\n')).toMatch(/younger than the reconciler's default grace/);
    expect(await statusOf(paymentId)).toEqual({ status: 'READY', version: 1 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created']);
    expect((await attemptsOf(paymentId)).map((a) => a.status)).toEqual(['open']);
    expect(await chargesOf(paymentId)).toBe(1);

    // reconcile: APPROVED with one payment.approved, the attempt closed, still one charge.
    const reconciled = await outbox('attempts', 'reconcile', paymentId);
    expect(reconciled.code, reconciled.out.text).toBe(0);
    expect(reconciled.out.text).toMatch(/committed +READY -> APPROVED \(version 1 -> 2\) with event payment\.approved \(sequence 2, eventId [0-9a-f-]{36}\), closing the attempt \(approved\)/);
    expect(reconciled.out.text).toContain(`Closed 1 open attempt(s). Payment ${paymentId} is APPROVED, version 2.`);
    expect(await statusOf(paymentId)).toEqual({ status: 'APPROVED', version: 2 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved']);
    const [attempt] = await attemptsOf(paymentId);
    expect(attempt).toMatchObject({ status: 'closed', outcome: 'approved', pgIdempotencyKey: key });
    expect(await chargesOf(paymentId)).toBe(1);

    // A second reconcile finds nothing open: refused, nothing written.
    const again = await outbox('attempts', 'reconcile', paymentId);
    expect(again.code).toBe(2);
    expect(again.out.warnings[0]).toBe(`Refused: payment ${paymentId} has no open PG attempt; nothing to reconcile`);
    expect(again.out.warnings.join('\n')).toMatch(/authorize attempt #1: closed \(approved\)/);
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved']);

    const empty = await outbox('attempts', 'list');
    expect(empty.code).toBe(0);
    expect(empty.out.text).not.toContain(paymentId);
  });

  it('closes an attempt the PG never saw without changing the payment', async () => {
    const paymentId = await newCardPayment('cli-attempts-never-seen');
    await confirmWithFault(paymentId, 'fail-before-charge');
    expect(await chargesOf(paymentId)).toBe(0);

    const reconciled = await outbox('attempts', 'reconcile', paymentId);
    expect(reconciled.code, reconciled.out.text).toBe(0);
    expect(reconciled.out.text).toMatch(/PG answer {2}not-found/);
    expect(reconciled.out.text).toMatch(/closed +the attempt \(not-found\) with no payment change/);
    expect(await statusOf(paymentId)).toEqual({ status: 'READY', version: 1 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created']);
    expect(await attemptsOf(paymentId)).toEqual([expect.objectContaining({ status: 'closed', outcome: 'not-found' })]);

    // The next confirm opens a new generation and approves.
    const confirmed = await callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken: 'tok_visa' } });
    expect(confirmed.status).toBe(200);
    expect(await attemptsOf(paymentId)).toEqual([expect.objectContaining({ generation: 2, status: 'closed', outcome: 'approved' })]);
    expect(await chargesOf(paymentId)).toBe(1);
  });

  it('fails (exit 1) and leaves the attempt open when the PG cannot be asked', async () => {
    const paymentId = await newCardPayment('cli-attempts-pg-down');
    await confirmWithFault(paymentId, 'lose-answer-after-charge');

    const failed = await outbox('attempts', 'reconcile', paymentId, '--pg-ledger-table', 'no-such-ledger');
    expect(failed.code).toBe(1);
    expect(failed.out.warnings.at(-1)).toMatch(/^Error: PgUnavailableError: /);
    expect(await statusOf(paymentId)).toEqual({ status: 'READY', version: 1 });
    expect((await attemptsOf(paymentId)).map((a) => a.status)).toEqual(['open']);

    expect((await outbox('attempts', 'reconcile', paymentId)).code).toBe(0);
    expect(await statusOf(paymentId)).toMatchObject({ status: 'APPROVED' });
  });

  it('refuses a payment without attempts and an unknown payment', async () => {
    const paymentId = await newCardPayment('cli-attempts-none');
    const none = await outbox('attempts', 'reconcile', paymentId);
    expect(none.code).toBe(2);
    expect(none.out.warnings).toEqual([`Refused: payment ${paymentId} has no open PG attempt; nothing to reconcile`, '  - it has no PG attempts at all']);

    const unknown = await outbox('attempts', 'reconcile', 'pay_does_not_exist');
    expect(unknown.code).toBe(2);
    expect(unknown.out.warnings.join('\n')).toContain('no such payment and no PG attempts');
  });
});
