import type { PaymentCredential, PgAnswer, PgOperation } from '../domain/pg-attempt';
import type { VirtualAccount } from '../domain/payment';

/** A bank account the PG issued for a virtual-account payment, and what it told us along with it. */
export interface IssuedVirtualAccount {
  /** What the buyer is shown: bank, account number, due date. */
  readonly account: VirtualAccount;
  /** The PG's id of the payment, when it assigns one at issue (Toss's `paymentKey`): refunds and lookups use it. */
  readonly pgTransactionId?: string;
  /**
   * The secret the PG's deposit callbacks for this payment carry (Toss's `secret`): kept with the payment,
   * never shown in an API response, an event or a log line.
   */
  readonly callbackSecret?: string;
}

/**
 * Port for the payment gateway (PG). Every call that moves money carries the attempt's PG
 * idempotency key, and the PG answers a repeated key with its first result: a retry never moves
 * money twice. A PG that is down or does not answer in time raises PgUnavailableError; a PG that
 * refuses our own credentials raises PgMisconfiguredError; a PG that refuses the caller's
 * credential (an unknown payment session) raises PgRequestRejectedError, and no money moved.
 */
export interface PaymentGateway {
  /** Which PG this is (`sandbox`, `toss`): named in errors and logs. */
  readonly name: string;
  /** The currencies the PG settles; undefined = any ISO 4217 currency. */
  readonly supportedCurrencies?: readonly string[];
  /** Charges a card or easy-pay payment: `approved` with the PG's transaction id, or `declined`. */
  authorize(
    request: {
      readonly paymentId: string;
      readonly amount: number;
      readonly currency: string;
      readonly idempotencyKey: string;
    } & PaymentCredential,
  ): Promise<Extract<PgAnswer, { outcome: 'approved' | 'declined' }>>;
  /** Refunds an approved payment in full: `refunded` with the PG's refund reference. */
  refund(request: {
    readonly paymentId: string;
    readonly pgTransactionId: string;
    readonly amount: number;
    readonly reason: string;
    readonly idempotencyKey: string;
  }): Promise<Extract<PgAnswer, { outcome: 'refunded' }>>;
  /** Issues a bank account the buyer deposits into; the PG calls back when the money arrives. */
  issueVirtualAccount(request: {
    readonly paymentId: string;
    /** The merchant's order the payment belongs to (the PG shows it to the buyer). */
    readonly orderId: string;
    readonly amount: number;
    readonly currency: string;
    readonly idempotencyKey: string;
  }): Promise<IssuedVirtualAccount>;
  /** Closes a virtual account that was not paid into (its payment is cancelled): no deposit is accepted afterwards. Idempotent. */
  closeVirtualAccount(request: {
    readonly paymentId: string;
    /** The PG's id of the payment, when it gave one at issue. */
    readonly pgTransactionId?: string;
    readonly idempotencyKey: string;
  }): Promise<void>;
  /** What the PG did under `idempotencyKey` (the reconciler's question): its answer, or `not-found`. */
  lookup(request: { readonly paymentId: string; readonly operation: PgOperation; readonly idempotencyKey: string }): Promise<PgAnswer>;
}

/** What the PG shows about a virtual-account payment's deposit. */
export type DepositFinding =
  | { readonly status: 'deposited'; readonly pgTransactionId: string; readonly amount: number; readonly depositedAt: string }
  /** Not deposited (yet): still waiting, cancelled or expired at the PG (`pgStatus` says which). */
  | { readonly status: 'not-deposited'; readonly pgStatus: string }
  | { readonly status: 'not-found' };

/**
 * Port for PGs whose deposit callbacks are not signed (Toss): before a callback approves a
 * payment, the PG is asked whether the money really arrived.
 */
export interface DepositLookup {
  findDeposit(request: { readonly paymentId: string }): Promise<DepositFinding>;
}
