/**
 * Faults at the PG boundary (issue 9): a middleware on the confirm-payment and cancel-payment
 * functions' own DynamoDB document clients (chaos installs it through the local stack's
 * `functionClients` option). The sandbox PG's ledger is a table those clients write, so its
 * calls are theirs to fail:
 *
 * - **PG answer lost after charging**: the ledger `TransactWriteItems` (the money moved, the key's
 *   answer recorded) commits, then the call throws a `TimeoutError`, as a socket that died on the
 *   way back. The sandbox maps it to a 503 `PG_UNAVAILABLE`; the attempt stays open; a retry under
 *   the same key gets the first answer, else the reconciler commits it.
 * - **PG down**: the ledger call throws before anything was written (503; nothing moved).
 *   Both also hit the cancel's closing of a virtual account still waiting for its deposit.
 * - **function killed between the PG answer and the commit**: the payment commit (the
 *   `TransactWriteItems` that writes the Outbox and closes the attempt) throws before it reaches
 *   DynamoDB (500; the money moved, the attempt stays open, nothing of the commit exists).
 *
 * On a stack without the sandbox ledger (Toss), only the last one applies: the PG calls are HTTP,
 * and toss-local loses answers and is down by itself (see toss-pg-faults.ts).
 *
 * Everything else passes untouched, and so does everything until `injectPgFaults` and after
 * `clearPgFaults`. Like the transaction faults, the middleware runs before the SDK's retry step:
 * one decision is one failed API request. Attributes are read as the document client has them or
 * marshalled (`{ S: ... }`), whichever the middleware sees.
 */
import type { DynamoDBDocumentClient, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { mapAttribute, stringAttribute } from './attributes';
import { paymentWriteOf, type PaymentWrite } from './transaction-faults';

/** The tables the middleware tells apart (full names). */
export interface PgFaultTables {
  readonly payments: string;
  readonly outbox: string;
  readonly attempts: string;
  /**
   * The sandbox PG's ledger. Without it (a Toss stack: the PG is not a table), only the commits
   * are matched: PG calls are HTTP, and toss-local injects their faults itself (toss-pg-faults.ts).
   */
  readonly ledger?: string;
}

/** One call of the sandbox PG made by confirm or cancel, as its ledger transaction shows it. */
export interface LedgerCall {
  readonly paymentId: string;
  /** A charge, a refund, or the closing of a virtual account (the cancel of one still waiting for its deposit). */
  readonly operation: 'authorize' | 'refund' | 'close-account';
  readonly idempotencyKey: string;
  /** The answer the PG records (and gives) for this call: `approved`, `declined`, `refunded` (none for close-account). */
  readonly outcome: string;
}

export interface PgFaults {
  /** The PG is down for this call: it fails before anything is written. */
  downBeforeCall(call: LedgerCall): boolean;
  /** Asked after the call committed: its answer is lost on the way back. */
  loseAnswer(call: LedgerCall): boolean;
  /** The function dies before this payment commit (which closes a PG attempt) reaches DynamoDB. */
  killBeforeCommit(write: PaymentWrite): boolean;
}

let active: { tables: PgFaultTables; faults: PgFaults } | undefined;
const instrumented = new WeakSet<DynamoDBDocumentClient>();

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

function putsInto(items: readonly TransactItem[], table: string): Record<string, unknown>[] {
  return items.filter((item) => item.Put?.TableName === table).map((item) => item.Put?.Item as Record<string, unknown>);
}

/** The sandbox PG call a TransactWriteItems input is, when it writes an answer of `authorize`, `refund` or `close-account` into the ledger. */
export function ledgerCallOf(input: TransactWriteCommandInput, ledgerTable: string): LedgerCall | undefined {
  for (const item of putsInto(input.TransactItems ?? [], ledgerTable)) {
    const pk = stringAttribute(item.pk);
    const operation = stringAttribute(item.operation);
    const paymentId = stringAttribute(item.paymentId);
    if (pk === undefined || !pk.startsWith('key#') || paymentId === undefined) continue;
    if (operation !== 'authorize' && operation !== 'refund' && operation !== 'close-account') continue;
    const outcome = stringAttribute(mapAttribute(item.answer)?.outcome) ?? '?';
    return { paymentId, operation, idempotencyKey: pk.slice('key#'.length), outcome };
  }
  return undefined;
}

/** The payment write a TransactWriteItems input is when it commits a change with its event and closes a PG attempt. */
export function pgCommitOf(input: TransactWriteCommandInput, tables: PgFaultTables): PaymentWrite | undefined {
  const items = input.TransactItems ?? [];
  if (putsInto(items, tables.outbox).length === 0 || putsInto(items, tables.attempts).length === 0) return undefined;
  return paymentWriteOf(input, tables.payments);
}

function timeoutError(): Error {
  return Object.assign(new Error('socket hang up (injected: the PG answer was lost after the money moved)'), { name: 'TimeoutError' });
}

function pgDownError(): Error {
  return Object.assign(new Error('connect ECONNREFUSED (injected: the PG is down)'), { name: 'NetworkingError', code: 'ECONNREFUSED' });
}

/** Adds the middleware to this document client (once per client); inert until `injectPgFaults`. */
export function installPgFaults(documents: DynamoDBDocumentClient): void {
  if (instrumented.has(documents)) return;
  instrumented.add(documents);
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      const current = active;
      const command = context.commandName ?? '';
      if (!current || (command !== 'TransactWriteItemsCommand' && command !== 'TransactWriteCommand')) return next(args);
      const input = args.input as TransactWriteCommandInput;
      const call = current.tables.ledger === undefined ? undefined : ledgerCallOf(input, current.tables.ledger);
      if (call) {
        if (current.faults.downBeforeCall(call)) throw pgDownError();
        const result = await next(args);
        // Decided only once the money moved (a resumed call that only finds the first answer is not lost).
        if (active && current.faults.loseAnswer(call)) throw timeoutError();
        return result;
      }
      const commit = pgCommitOf(input, current.tables);
      if (commit && current.faults.killBeforeCommit(commit)) {
        throw new Error(`function killed (injected) between the PG answer and the commit of ${commit.eventType}`);
      }
      return next(args);
    },
    { step: 'initialize', name: 'chaosPgFaults', priority: 'high' },
  );
}

export function injectPgFaults(tables: PgFaultTables, faults: PgFaults): void {
  active = { tables, faults };
}

export function clearPgFaults(): void {
  active = undefined;
}
