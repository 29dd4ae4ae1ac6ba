/**
 * `attempts reconcile <paymentId>`: closes the payment's open PG attempts now, whatever their
 * age, exactly as the scheduled reconciler does (lambdas/use-cases/reconcile-attempts.ts
 * `reconcileAttempt`): ask the PG the stack calls (the sandbox or Toss, pg-selection.ts; printed
 * first) what happened under the attempt's key, then commit the outcome with its event (approved,
 * declined, refunded), or close the attempt alone when the PG never saw it. The CLI only watches
 * what the use case reads and writes, to print it; `--dry-run` lets it run to the commit and
 * writes nothing.
 */
import type { Payment, PaymentChange } from '../../lambdas/domain/payment';
import type { PgAnswer, PgAttempt } from '../../lambdas/domain/pg-attempt';
import type { PaymentGateway } from '../../lambdas/ports/payment-gateway';
import type { PaymentRepository, PgAttemptStore } from '../../lambdas/ports/payment-repository';
import type { PgChangeDeps } from '../../lambdas/use-cases/change-with-pg';
import { reconcileAttempt, type ReconcileResult } from '../../lambdas/use-cases/reconcile-attempts';
import type { Command } from '../args';
import type { CommandContext } from '../context';
import { EXIT, RefusedError, type ExitCode } from '../errors';
import { formatAge } from '../output';
import { createPgAttemptDeps, describeAttemptsPg, requireReconcileSetup, type PgAttemptDeps } from '../pg-attempt-deps';
import { DEFAULT_OUTBOX_RETENTION_DAYS } from '../target';
import { RECONCILER_DEFAULT_GRACE_SECONDS } from './attempts-list';

type AttemptsReconcileCommand = Extract<Command, { name: 'attempts-reconcile' }>;

/** What the use case read and wrote (or, in a dry run, would have written) for one attempt. */
interface Observed {
  answer?: PgAnswer;
  before?: Payment;
  change?: PaymentChange;
}

export async function attemptsReconcile(command: AttemptsReconcileCommand, ctx: CommandContext): Promise<ExitCode> {
  const { out } = ctx;
  const { paymentId, dryRun } = command;
  const { tables, pg } = requireReconcileSetup(ctx.target);
  const deps = createPgAttemptDeps(ctx, tables, pg, {
    clock: ctx,
    outboxRetentionDays: (ctx.target.kind === 'aws' ? ctx.target.outboxRetentionDays : undefined) ?? DEFAULT_OUTBOX_RETENTION_DAYS,
  });

  out.line(`Reconcile the open PG attempts of payment ${paymentId}${dryRun ? ' (dry run: nothing is written)' : ''}`);
  out.line(`  PG      ${describeAttemptsPg(pg)}`);
  out.line(`  tables  payments ${tables.payments}, outbox ${tables.outbox}, attempts ${tables.pgAttempts}`);
  const [payment, attempts] = await Promise.all([deps.repository.getPayment(paymentId), deps.attempts.listAttempts(paymentId)]);
  out.line(`  payment ${payment ? `${payment.status}, version ${payment.version}` : '(not in the payments table)'}`);

  const open = attempts.filter((attempt) => attempt.status === 'open').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  if (open.length === 0) {
    const details = attempts.map((a) => `${describeAttempt(a)}: closed${a.outcome ? ` (${a.outcome})` : ''}${a.closedAt ? ` at ${a.closedAt}` : ''}`);
    throw new RefusedError(`payment ${paymentId} has no open PG attempt; nothing to reconcile`, details.length > 0 ? details : [payment ? 'it has no PG attempts at all' : 'no such payment and no PG attempts']);
  }

  out.line();
  const now = ctx.now().getTime();
  const outcomes: { attempt: PgAttempt; result: ReconcileResult }[] = [];
  for (const attempt of open) {
    const ageMs = now - Date.parse(attempt.startedAt);
    out.line(`${describeAttempt(attempt)}, key ${attempt.pgIdempotencyKey}, started ${attempt.startedAt} (${formatAge(ageMs)} ago), planned on version ${attempt.paymentVersion}`);
    if (ageMs < RECONCILER_DEFAULT_GRACE_SECONDS * 1000) {
      out.warn(
        `Warning: attempt ${attempt.pgIdempotencyKey} is younger than the reconciler's default grace (${RECONCILER_DEFAULT_GRACE_SECONDS}s): ` +
          'the request that opened it may still be in flight (if it has not reached the PG yet, closing the attempt lets its retry move the money again). ' +
          'Reconciling it anyway, as asked.',
      );
    }
    const observed: Observed = {};
    const result = await reconcileAttempt(watch(deps, observed, dryRun), attempt);
    outcomes.push({ attempt, result });
    if (observed.answer) out.line(`  PG answer  ${describeAnswer(observed.answer)}`);
    if ('failed' in result) {
      out.line(`  not closed ${result.failed}${observed.change && !dryRun ? ` (tried: ${describeChange(observed.before, observed.change, false)})` : ''}`);
    } else if (result.committed === 'payment-change' && observed.change) {
      out.line(`  ${dryRun ? 'would commit' : 'committed'.padEnd(12)} ${describeChange(observed.before, observed.change, !dryRun)}, closing the attempt (${result.outcome})`);
    } else {
      out.line(`  ${dryRun ? 'would close' : 'closed'.padEnd(11)} the attempt (${result.outcome}) with no payment change: no money moved`);
    }
  }

  out.line();
  const failed = outcomes.filter((o): o is { attempt: PgAttempt; result: Extract<ReconcileResult, { failed: string }> } => 'failed' in o.result);
  const error = failed.find((o) => o.result.error !== undefined)?.result.error;
  if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
  if (failed.length > 0) {
    throw new RefusedError(
      `${failed.length} of ${open.length} open attempt(s) of payment ${paymentId} ${dryRun ? 'would not be' : 'were not'} closed`,
      failed.map((o) => `${o.attempt.pgIdempotencyKey}: ${o.result.failed}`),
    );
  }
  if (dryRun) {
    out.line(`Dry run: ${open.length} open attempt(s) would be closed; nothing was written.`);
  } else {
    const after = await deps.repository.getPayment(paymentId);
    out.line(`Closed ${open.length} open attempt(s).${after ? ` Payment ${paymentId} is ${after.status}, version ${after.version}.` : ''}`);
  }
  return EXIT.ok;
}

/**
 * The deps the use case runs on, watched: what it reads and writes is recorded in `observed`; in a
 * dry run the writes stop there. It only looks the PG up, so the calls that move money fail.
 */
function watch(deps: PgAttemptDeps, observed: Observed, dryRun: boolean): PgChangeDeps {
  const movesNoMoney = (): Promise<never> => Promise.reject(new Error('attempts reconcile only looks the PG up; it moves no money'));
  const gateway: PaymentGateway = {
    name: deps.gateway.name,
    authorize: movesNoMoney,
    refund: movesNoMoney,
    issueVirtualAccount: movesNoMoney,
    closeVirtualAccount: movesNoMoney,
    lookup: async (request) => (observed.answer = await deps.gateway.lookup(request)),
  };
  const repository: PaymentRepository = {
    getPayment: async (id) => (observed.before = await deps.repository.getPayment(id)),
    listEvents: (id) => deps.repository.listEvents(id),
    getIdempotencyRecord: (key) => deps.repository.getIdempotencyRecord(key),
    readForChange: (request) => deps.repository.readForChange(request),
    commit: async (change, idempotency, guard) => {
      observed.change = change;
      if (!dryRun) await deps.repository.commit(change, idempotency, guard);
    },
  };
  const attempts: PgAttemptStore = {
    listAttempts: (id) => deps.attempts.listAttempts(id),
    listOpenAttempts: (limit) => deps.attempts.listOpenAttempts(limit),
    openAttempt: movesNoMoney,
    getCallbackSecret: (id) => deps.attempts.getCallbackSecret(id),
    closeAttempt: async (closed) => {
      if (!dryRun) await deps.attempts.closeAttempt(closed);
    },
  };
  return { repository, attempts, gateway, clock: deps.clock, ids: deps.ids };
}

function describeAttempt(attempt: PgAttempt): string {
  return `${attempt.operation} attempt #${attempt.generation}`;
}

function describeAnswer(answer: PgAnswer): string {
  switch (answer.outcome) {
    case 'approved':
      return `approved (pgTransactionId ${answer.pgTransactionId})`;
    case 'declined':
      return `declined (${answer.reason})`;
    case 'refunded':
      return `refunded (refundId ${answer.refundId})`;
    case 'not-found':
      return 'not-found (the PG never saw this key: no money moved)';
  }
}

/** `withEventId`: only for a change written (a dry run's event id is drawn for nothing). */
function describeChange(before: Payment | undefined, change: PaymentChange, withEventId: boolean): string {
  const { payment, event } = change;
  const eventId = withEventId ? `, eventId ${event.eventId}` : '';
  return `${before?.status ?? '?'} -> ${payment.status} (version ${change.expectedVersion} -> ${payment.version}) with event ${event.type} (sequence ${event.sequence}${eventId})`;
}
