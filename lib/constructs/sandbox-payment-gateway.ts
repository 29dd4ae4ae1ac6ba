import { Annotations, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { paymentTableSettings, type PaymentTableRetention } from './payment-tables';

/**
 * The payment gateways a stack can talk to. Only the sandbox exists so far; a real PG (the next
 * issue: Toss) is added here, and a stack configured with it creates no {@link SandboxPaymentGateway}.
 */
export type PaymentGatewayKind = 'sandbox';

/** The PG of a stack given none. */
export const DEFAULT_PAYMENT_GATEWAY: PaymentGatewayKind = 'sandbox';

/** Id of the synth warning a stack on the sandbox PG carries (acknowledgeable with `Annotations.acknowledgeWarning`). */
export const SANDBOX_PG_WARNING_ID = 'payment-outbox:sandbox-pg';

/** What a deployed sandbox is: the `PaymentGateway` output's description and the synth warning's text. */
export const SANDBOX_PG_NOTICE =
  'The payment gateway is the sandbox, a stand-in PG: it approves every card token except tok_decline*, keeps its ' +
  'ledger in SandboxPgLedgerTable, and must be replaced by a real PG before taking real money.';

/** Props of {@link SandboxPaymentGateway}: how its ledger table is kept (default: retained, deletion-protected). */
export type SandboxPaymentGatewayProps = PaymentTableRetention;

/**
 * The sandbox PG's AWS side: the stand-in PG runs inside the API functions (lambdas/), and this
 * construct owns its durable ledger, the SandboxPgLedger table (PK `pk` S; the settings of the payment
 * tables, {@link paymentTableSettings}; no stream, no TTL): the charges, refunds and virtual accounts
 * it made and the answer it gave per idempotency key, so a repeat call is answered like a real PG would.
 *
 * Creating it also puts a warning on the stack (id {@link SANDBOX_PG_WARNING_ID}): a stack on the
 * sandbox cannot take real money. A stack on a real PG does not create this construct at all.
 */
export class SandboxPaymentGateway extends Construct {
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
}
