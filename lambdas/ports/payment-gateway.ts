import type { PgAnswer, PgOperation } from '../domain/pg-attempt';
import type { VirtualAccount } from '../domain/payment';

/**
 * Port for the payment gateway (PG). Every call that moves money carries the attempt's PG
 * idempotency key, and the PG answers a repeated key with its first result: a retry never moves
 * money twice. A PG that is down or does not answer in time raises PgUnavailableError.
 */
export interface PaymentGateway {
  /** Charges a card or easy-pay payment: `approved` with the PG's transaction id, or `declined`. */
  authorize(request: {
    readonly paymentId: string;
    readonly amount: number;
    readonly currency: string;
    readonly cardToken: string;
    readonly idempotencyKey: string;
  }): Promise<Extract<PgAnswer, { outcome: 'approved' | 'declined' }>>;
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
    readonly amount: number;
    readonly currency: string;
    readonly idempotencyKey: string;
  }): Promise<VirtualAccount>;
  /** Closes a virtual account that was not paid into (its payment is cancelled): no deposit is accepted afterwards. Idempotent. */
  closeVirtualAccount(request: { readonly paymentId: string; readonly idempotencyKey: string }): Promise<void>;
  /** What the PG did under `idempotencyKey` (the reconciler's question): its answer, or `not-found`. */
  lookup(request: { readonly paymentId: string; readonly operation: PgOperation; readonly idempotencyKey: string }): Promise<PgAnswer>;
}
