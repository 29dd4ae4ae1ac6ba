import { Annotations, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/platform/env-names';
import type { IPaymentGateway, PgAccess } from './payment-gateway';
import type { PaymentFunction, TableItemAction } from './payment-function';
import { paymentTableSettings, type PaymentTableRetention } from './payment-tables';

/** Id of the synth warning a stack on the sandbox PG carries (acknowledgeable with `Annotations.acknowledgeWarning`). */
export const SANDBOX_PG_WARNING_ID = 'payment-outbox:sandbox-pg';

/** What a deployed sandbox is: the `PaymentGateway` output's description and the synth warning's text. */
export const SANDBOX_PG_NOTICE =
  'The payment gateway is the sandbox, a stand-in PG: it approves every card token except tok_decline*, keeps its ' +
  'ledger in SandboxPgLedgerTable, and must be replaced by a real PG before taking real money.';

/**
 * What a function with `lookup` access does to the ledger (`SANDBOX_PG_LEDGER_TABLE_NAME`): consistent
 * `GetItem` lookups (the reconciler).
 */
export const SANDBOX_PG_LEDGER_LOOKUP_ACTIONS: readonly TableItemAction[] = ['GetItem'];

/**
 * What a function with `call` access does to the ledger: the stand-in PG records an answer under its
 * idempotency key and moves the money in one TransactWriteItems (a `Put` of the answer, an `Update` of the
 * payment's balance: authorized as `PutItem` and `UpdateItem`), and reads a repeat's first answer and a
 * payment's balance with consistent `GetItem`s (lambdas/adapters/sandbox-payment-gateway.ts).
 */
export const SANDBOX_PG_LEDGER_CALL_ACTIONS: readonly TableItemAction[] = ['GetItem', 'PutItem', 'UpdateItem'];

/** Props of {@link SandboxPaymentGateway}: how its ledger table is kept (default: retained, deletion-protected). */
export type SandboxPaymentGatewayProps = PaymentTableRetention;

/**
 * The sandbox PG's AWS side: the stand-in PG runs inside the API functions (lambdas/), and this
 * construct owns its durable ledger, the SandboxPgLedger table (PK `pk` S; the settings of the payment
 * tables, {@link paymentTableSettings}; no stream, no TTL): the charges, refunds and virtual accounts
 * it made and the answer it gave per idempotency key, so a repeat call is answered like a real PG would.
 * {@link bind} gives a function `PAYMENT_GATEWAY=sandbox` and the ledger.
 *
 * Creating it also puts a warning on the stack (id {@link SANDBOX_PG_WARNING_ID}): a stack on the
 * sandbox cannot take real money. A stack on a real PG does not create this construct at all.
 */
export class SandboxPaymentGateway extends Construct implements IPaymentGateway {
  /** Always `sandbox`. */
  public readonly kind = 'sandbox' as const;
  /** The sandbox PG's ledger (`SANDBOX_PG_LEDGER_TABLE_NAME`). */
  public readonly ledger: dynamodb.Table;

  constructor(scope: Construct, id: string, props: SandboxPaymentGatewayProps = {}) {
    super(scope, id);

    this.ledger = new dynamodb.Table(this, 'LedgerTable', {
      ...paymentTableSettings(props),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });

    Annotations.of(Stack.of(this)).addWarningV2(SANDBOX_PG_WARNING_ID, SANDBOX_PG_NOTICE);
  }

  /**
   * Sets `PAYMENT_GATEWAY=sandbox` and binds the ledger (`SANDBOX_PG_LEDGER_TABLE_NAME`):
   * {@link SANDBOX_PG_LEDGER_CALL_ACTIONS} for `call`, {@link SANDBOX_PG_LEDGER_LOOKUP_ACTIONS} for `lookup`. Nothing else.
   */
  public bind(fn: PaymentFunction, access: PgAccess): void {
    fn.bindEnvironment(ENV.paymentGateway, this.kind);
    fn.bindTable(ENV.sandboxPgLedgerTable, this.ledger, { actions: access === 'call' ? SANDBOX_PG_LEDGER_CALL_ACTIONS : SANDBOX_PG_LEDGER_LOOKUP_ACTIONS });
  }
}
