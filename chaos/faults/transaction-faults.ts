/**
 * Payment writes that fail: a middleware on the DynamoDB document clients it is installed on
 * (`installTransactionFaults`: chaos installs it on the clients of every function instance of the
 * local stack, handed through its `functionClients` option; see lambdas/platform/aws-clients.ts)
 * throws for chosen TransactWriteItems calls that write the Payments table, before they reach DynamoDB, with an error DynamoDB itself returns: a
 * cancellation for throttling (`TransactionCanceledException`, reason `ThrottlingError`) or an
 * `InternalServerError`. Neither is a lost race, so the API must answer 5xx and nothing of the
 * change may exist afterwards: no payment (or no new version), no outbox item, no idempotency
 * record, no event delivered.
 *
 * Other transactions (the example consumer's inbox writes) pass untouched, and so does everything
 * until `injectTransactionFaults` and after `clearTransactionFaults`. The middleware runs before
 * the SDK's retry step, so one decision is one failed API request.
 */
import { InternalServerError, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { numberAttribute, stringAttribute } from './attributes';

/** The change a payment transaction would commit. */
export interface PaymentWrite {
  readonly orderId: string;
  readonly paymentId: string;
  /** The payment's version after the change: the sequence of its event. */
  readonly version: number;
  readonly eventId: string;
  readonly eventType: string;
}

export type InjectedTransactionError = 'throttling-cancellation' | 'internal-server-error';

export interface TransactionFaults {
  /** How this write fails, or undefined to let it through. */
  failWrite(write: PaymentWrite): InjectedTransactionError | undefined;
}

let active: { paymentsTable: string; faults: TransactionFaults } | undefined;
/** The clients that got the middleware already (each gets it once). */
const instrumented = new WeakSet<DynamoDBDocumentClient>();

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The payment and event a TransactWriteItems input writes, when it writes the Payments table. */
export function paymentWriteOf(input: TransactWriteCommandInput, paymentsTable: string): PaymentWrite | undefined {
  const items: readonly TransactItem[] = input.TransactItems ?? [];
  const payment = items.find((item) => item.Put?.TableName === paymentsTable)?.Put?.Item;
  if (!payment) return undefined;
  const event = items.map((item) => item.Put?.Item).find((item) => item !== undefined && stringAttribute(item.eventId) !== undefined);
  return {
    orderId: String(stringAttribute(payment.orderId)),
    paymentId: String(stringAttribute(payment.paymentId)),
    version: Number(numberAttribute(payment.version)),
    eventId: stringAttribute(event?.eventId) ?? '',
    eventType: stringAttribute(event?.type) ?? '',
  };
}

function errorFor(kind: InjectedTransactionError): Error {
  if (kind === 'internal-server-error') {
    return new InternalServerError({ message: 'Internal server error (injected)', $metadata: { httpStatusCode: 500 } });
  }
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ThrottlingError] (injected)',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: [
      { Code: 'None' },
      { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity for one or more global secondary indexes.' },
    ],
  });
}

/** Adds the middleware to this document client (once per client); inert until `injectTransactionFaults`. */
export function installTransactionFaults(documents: DynamoDBDocumentClient): void {
  if (instrumented.has(documents)) return;
  instrumented.add(documents);
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      const current = active;
      const command = context.commandName ?? '';
      if (!current || (command !== 'TransactWriteItemsCommand' && command !== 'TransactWriteCommand')) return next(args);
      const write = paymentWriteOf(args.input as TransactWriteCommandInput, current.paymentsTable);
      const kind = write && current.faults.failWrite(write);
      if (kind) throw errorFor(kind);
      return next(args);
    },
    { step: 'initialize', name: 'chaosTransactionFaults', priority: 'high' },
  );
}

/** Makes `faults` the active decision for `paymentsTable`, on every client `installTransactionFaults` instrumented. */
export function injectTransactionFaults(paymentsTable: string, faults: TransactionFaults): void {
  active = { paymentsTable, faults };
}

export function clearTransactionFaults(): void {
  active = undefined;
}
