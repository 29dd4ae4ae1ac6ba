/**
 * The PG boundary on the local stack: money never moves at the (sandbox) PG without the payment
 * store and its event recording it, and no event announces money that did not move. Faults are
 * injected into the confirm and cancel functions' own DynamoDB client (the sandbox PG's ledger
 * is a table, so its calls are that client's calls): an answer lost after the charge, a function
 * killed between the PG's answer and the commit. The reconciler closes what they leave open.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lambdas/platform/aws-clients';
import { callApi, startTestStack, type LocalStack } from '../support/local-stack-harness';

type Fault = 'lose-pg-answer' | 'kill-before-commit' | 'slow-pg';
/** Payment id -> the fault its next money-moving call meets (once). */
const faults = new Map<string, Fault>();

function tablesWritten(input: TransactWriteCommandInput): string[] {
  return (input.TransactItems ?? []).flatMap((item) => [item.Put?.TableName, item.Update?.TableName, item.ConditionCheck?.TableName].filter((t): t is string => t !== undefined));
}

/** A string attribute as the document client has it, or as the marshalled input has it (`{ S }`). */
function stringAttribute(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const marshalled = (value as { S?: unknown } | undefined)?.S;
  return typeof marshalled === 'string' ? marshalled : undefined;
}

function paymentIdOf(input: TransactWriteCommandInput): string | undefined {
  for (const item of input.TransactItems ?? []) {
    const key = (item.Put?.Item ?? item.Update?.Key ?? item.ConditionCheck?.Key) as Record<string, unknown> | undefined;
    const paymentId = stringAttribute(key?.paymentId);
    if (paymentId !== undefined) return paymentId;
  }
  return undefined;
}

/** Loses the PG's answer after the ledger committed, or kills the function before the payment commit. */
function injectPgFaults(clients: AwsClients): AwsClients {
  clients.documents.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'TransactWriteCommand' && context.commandName !== 'TransactWriteItemsCommand') return next(args);
      const input = args.input as TransactWriteCommandInput;
      const tables = tablesWritten(input);
      const ledgerCall = tables.some((t) => t.includes('SandboxPgLedger'));
      const paymentCommit = tables.some((t) => t.includes('Outbox'));
      const paymentId = ledgerCall ? ledgerPaymentIdOf(input) : paymentIdOf(input);
      const fault = paymentId === undefined ? undefined : faults.get(paymentId);
      if (fault === 'lose-pg-answer' && ledgerCall && paymentId) {
        await next(args);
        faults.delete(paymentId);
        throw Object.assign(new Error('socket hang up (injected: the PG answer was lost after the charge)'), { name: 'TimeoutError' });
      }
      if (fault === 'slow-pg' && ledgerCall && paymentId) {
        faults.delete(paymentId);
        // Longer than the sandbox PG's 5 s timeout: the call is given up before it reaches the PG.
        await new Promise((resolve) => setTimeout(resolve, 5_500));
        return next(args);
      }
      if (fault === 'kill-before-commit' && paymentCommit && paymentId) {
        faults.delete(paymentId);
        throw new Error('function killed (injected) between the PG answer and the commit');
      }
      return next(args);
    },
    { step: 'initialize', name: 'pgBoundaryFaults', priority: 'high' },
  );
  return clients;
}

function ledgerPaymentIdOf(input: TransactWriteCommandInput): string | undefined {
  for (const item of input.TransactItems ?? []) {
    const paymentId = stringAttribute((item.Put?.Item as { paymentId?: unknown } | undefined)?.paymentId);
    if (paymentId !== undefined) return paymentId;
  }
  return undefined;
}

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({
    consumers: false,
    functionClients: (fn, clients) => (fn.name === 'confirm-payment' || fn.name === 'cancel-payment' ? injectPgFaults(clients) : clients),
    functionEnvironment: { 'pg-reconciler': { RECONCILER_GRACE_SECONDS: '1' } },
  });
});
afterEach(() => faults.clear());
afterAll(() => stack?.stop());

async function newCardPayment(orderId: string): Promise<string> {
  const created = await callApi(stack, 'POST', '/payments', { body: { orderId, amount: 25_000, currency: 'KRW', method: 'CARD' } });
  expect(created.status).toBe(201);
  return (created.body as { paymentId: string }).paymentId;
}

const confirm = (paymentId: string, cardToken = 'tok_visa') => callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken } });
const cancel = (paymentId: string) => callApi(stack, 'POST', `/payments/${paymentId}/cancel`, { body: { reason: 'customer asked' } });

interface LedgerMoney {
  chargeCount: number;
  refundCount: number;
}

async function ledgerOf(paymentId: string): Promise<LedgerMoney> {
  const item = (await stack.scanTable('SandboxPgLedger')).find((i) => i.pk === `payment#${paymentId}`);
  return { chargeCount: Number(item?.chargeCount ?? 0), refundCount: Number(item?.refundCount ?? 0) };
}

async function eventsOf(paymentId: string): Promise<string[]> {
  return (await stack.scanTable('Outbox'))
    .filter((i) => i.aggregateId === paymentId)
    .sort((a, b) => Number(a.sequence) - Number(b.sequence))
    .map((i) => String(i.type));
}

async function openAttemptsOf(paymentId: string): Promise<Record<string, unknown>[]> {
  return (await stack.scanTable('PgAttempts')).filter((i) => i.paymentId === paymentId && i.status === 'open');
}

async function reconcile(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await stack.scheduler.runNow('pg-reconciler');
}

describe('the PG boundary', () => {
  it('answers 503 PG_UNAVAILABLE with Retry-After when the PG answer is lost after the charge; the reconciler approves with one event and one charge', async () => {
    const paymentId = await newCardPayment('lost-answer');
    faults.set(paymentId, 'lose-pg-answer');

    const lost = await confirm(paymentId);
    expect(lost.status).toBe(503);
    expect((lost.body as { error: { code: string } }).error.code).toBe('PG_UNAVAILABLE');
    expect(Number(lost.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 1, refundCount: 0 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created']);
    expect(await openAttemptsOf(paymentId)).toHaveLength(1);

    await reconcile();
    const payment = await callApi(stack, 'GET', `/payments/${paymentId}`);
    expect((payment.body as { status: string }).status).toBe('APPROVED');
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved']);
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 1, refundCount: 0 });
    expect(await openAttemptsOf(paymentId)).toEqual([]);
  });

  it('resumes the open attempt when the caller retries after a lost answer: the PG answers the first charge, nothing is charged twice', async () => {
    const paymentId = await newCardPayment('lost-answer-retried');
    faults.set(paymentId, 'lose-pg-answer');
    expect((await confirm(paymentId)).status).toBe(503);

    const retried = await confirm(paymentId);
    expect(retried.status).toBe(200);
    expect((retried.body as { status: string }).status).toBe('APPROVED');
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 1, refundCount: 0 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved']);
  });

  it('answers 503 PG_UNAVAILABLE when the PG is slower than its timeout, moves no money, and a retry charges once under the same key', async () => {
    const paymentId = await newCardPayment('slow-pg');
    faults.set(paymentId, 'slow-pg');
    const slow = await confirm(paymentId);
    expect(slow.status).toBe(503);
    expect((slow.body as { error: { code: string } }).error.code).toBe('PG_UNAVAILABLE');
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 0, refundCount: 0 });
    const [open] = await openAttemptsOf(paymentId);
    expect(open?.pgIdempotencyKey).toBe(`${paymentId}:authorize:1`);

    expect((await confirm(paymentId)).status).toBe(200);
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 1, refundCount: 0 });
    const answers = (await stack.scanTable('SandboxPgLedger')).filter((i) => i.paymentId === paymentId && String(i.pk).startsWith('key#'));
    expect(answers.map((i) => i.pk)).toEqual([`key#${paymentId}:authorize:1`]);
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved']);
  });

  it('recovers a confirm killed between the PG answer and the commit: the reconciler approves it, with one event and one charge', async () => {
    const paymentId = await newCardPayment('killed-confirm');
    faults.set(paymentId, 'kill-before-commit');

    const killed = await confirm(paymentId);
    expect(killed.status).toBeGreaterThanOrEqual(500);
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 1, refundCount: 0 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created']);

    await reconcile();
    expect(((await callApi(stack, 'GET', `/payments/${paymentId}`)).body as { status: string }).status).toBe('APPROVED');
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved']);
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 1, refundCount: 0 });
  });

  it('charges once for 20 concurrent identical confirms', async () => {
    const paymentId = await newCardPayment('twenty-confirms');
    const answers = await Promise.all(Array.from({ length: 20 }, () => confirm(paymentId)));
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 1, refundCount: 0 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved']);
  });

  it('refunds once for 20 concurrent cancels of an approved payment, and payment.cancelled carries the refund', async () => {
    const paymentId = await newCardPayment('twenty-cancels');
    expect((await confirm(paymentId)).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 20 }, () => cancel(paymentId)));
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 1, refundCount: 1 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.approved', 'payment.cancelled']);
    const cancelled = (await stack.scanTable('Outbox')).find((i) => i.aggregateId === paymentId && i.type === 'payment.cancelled');
    expect((cancelled?.data as { refundId?: string }).refundId).toMatch(/^sandbox_refund_/);
  });

  it('closes the bank account at the PG when a payment waiting for its deposit is cancelled', async () => {
    const created = await callApi(stack, 'POST', '/payments', { body: { orderId: 'va-cancel', amount: 30_000, currency: 'KRW', method: 'VIRTUAL_ACCOUNT' } });
    expect(created.status).toBe(201);
    const paymentId = (created.body as { paymentId: string }).paymentId;
    const cancelled = await cancel(paymentId);
    expect(cancelled.status).toBe(200);
    expect((cancelled.body as { status: string }).status).toBe('CANCELLED');
    const ledger = (await stack.scanTable('SandboxPgLedger')).find((i) => i.pk === `payment#${paymentId}`);
    expect(ledger?.accountClosedAt).toEqual(expect.any(String));
    expect(await ledgerOf(paymentId)).toEqual({ chargeCount: 0, refundCount: 0 });
    expect(await eventsOf(paymentId)).toEqual(['payment.created', 'payment.cancelled']);
  });

  it('ends every charge approved or refunded when confirm and cancel race on 30 payments', async () => {
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => newCardPayment(`race-${i}`)));
    await Promise.all(ids.flatMap((id) => [confirm(id), cancel(id)]));
    // Whatever lost the race may have left an attempt open; the reconciler closes it.
    await reconcile();
    for (const id of ids) {
      const { status, refundId } = (await callApi(stack, 'GET', `/payments/${id}`)).body as { status: string; refundId?: string };
      const money = await ledgerOf(id);
      expect(money.chargeCount, id).toBeLessThanOrEqual(1);
      if (money.chargeCount === 1 && money.refundCount === 0) expect(status, id).toBe('APPROVED');
      if (money.refundCount === 1) expect([status, refundId !== undefined], id).toEqual(['CANCELLED', true]);
      if (status === 'APPROVED') expect(money, id).toEqual({ chargeCount: 1, refundCount: 0 });
      expect(await openAttemptsOf(id), id).toEqual([]);
    }
  });
});
