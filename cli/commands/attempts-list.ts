/**
 * `attempts list`: the open PG attempts (money movements whose outcome is not committed yet),
 * oldest first, from the attempts table's sparse OpenAttempts index.
 */
import { attemptsToReconcile } from '../../lambdas/domain/pg-attempt';
import type { Command } from '../args';
import type { CommandContext } from '../context';
import { EXIT, type ExitCode } from '../errors';
import { formatAge, formatTable } from '../output';
import { createPaymentStore } from '../pg-attempt-deps';
import { DEFAULT_OUTBOX_RETENTION_DAYS, requireStoreTables } from '../target';
import { DEFAULT_RECONCILER_GRACE_SECONDS } from '../../lambdas/functions/pg-reconciler/pg-reconciler';

type AttemptsListCommand = Extract<Command, { name: 'attempts-list' }>;

/** The scheduled reconciler's default grace (lambdas/functions/pg-reconciler, RECONCILER_GRACE_SECONDS). */
export const RECONCILER_DEFAULT_GRACE_SECONDS = DEFAULT_RECONCILER_GRACE_SECONDS;

export async function attemptsList(command: AttemptsListCommand, ctx: CommandContext): Promise<ExitCode> {
  const { out } = ctx;
  const tables = requireStoreTables(ctx.target);
  // Reads the attempts table only: no PG is asked, whichever the stack calls.
  const attempts = createPaymentStore(ctx.documents, tables, { outboxRetentionDays: DEFAULT_OUTBOX_RETENTION_DAYS });
  const now = ctx.now();
  const read = await attempts.listOpenAttempts(command.max);
  const older = command.olderThanSeconds;
  const shown = older === undefined ? [...read].sort((a, b) => a.startedAt.localeCompare(b.startedAt)) : attemptsToReconcile(read, now, older);
  const filter = older === undefined ? '' : ` open at least ${formatAge(older * 1000)}`;

  out.line(`Open PG attempts${filter} in ${tables.pgAttempts}, oldest first`);
  out.line();
  if (shown.length === 0) {
    const younger = read.length - shown.length;
    out.line(read.length === 0 ? 'No open PG attempts.' : `No open PG attempts${filter} (${younger} younger one(s); drop --older-than to see them).`);
    return EXIT.ok;
  }
  const rows = shown.map((attempt) => [
    attempt.paymentId,
    attempt.operation,
    String(attempt.generation),
    attempt.pgIdempotencyKey,
    attempt.startedAt,
    formatAge(now.getTime() - Date.parse(attempt.startedAt)),
  ]);
  for (const line of formatTable(['payment', 'operation', 'generation', 'pgIdempotencyKey', 'startedAt', 'age'], rows)) out.line(line);
  out.line();
  const more = read.length === command.max ? `; the read stopped at --max ${command.max}, older ones come first, so more (younger) may be open` : '';
  out.line(`Shown ${shown.length} open attempt(s)${more}.`);
  out.line(
    `The scheduled reconciler closes attempts open longer than its grace (RECONCILER_GRACE_SECONDS, default ${RECONCILER_DEFAULT_GRACE_SECONDS}s); ` +
      '`attempts reconcile <paymentId>` closes one payment\'s now.',
  );
  return EXIT.ok;
}
