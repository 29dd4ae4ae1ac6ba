import type { PaymentFunction } from './payment-function';

/**
 * The payment gateways a stack can talk to: `sandbox`, the stand-in PG whose ledger lives in this stack
 * ({@link SandboxPaymentGateway}), or `toss`, Toss Payments ({@link TossPaymentGateway}). The handlers read
 * the choice from `PAYMENT_GATEWAY`; both sides share lambdas/platform/payment-gateways.ts.
 */
export { DEFAULT_PAYMENT_GATEWAY, isPaymentGatewayKind, PAYMENT_GATEWAY_KINDS, type PaymentGatewayKind } from '../../lambdas/platform/payment-gateways';
import type { PaymentGatewayKind } from '../../lambdas/platform/payment-gateways';

/**
 * What a function does at the PG: `call` — the API functions that issue accounts, charge, refund, look
 * payments up (create, confirm, cancel, a PG callback that verifies at the PG); `lookup` — the reconciler,
 * which only asks the PG what became of an attempt.
 */
export type PgAccess = 'call' | 'lookup';

/**
 * The AWS side of a payment gateway: what a function needs to call it. Implemented by
 * {@link SandboxPaymentGateway} (its ledger table) and {@link TossPaymentGateway} (its secret key and settings).
 */
export interface IPaymentGateway {
  /** Which PG this is: the value of `PAYMENT_GATEWAY` on every function bound to it. */
  readonly kind: PaymentGatewayKind;

  /**
   * Lets `fn` call this PG: sets `PAYMENT_GATEWAY` and the PG's own variables, and grants what they imply.
   * A function is bound to one PG at most (a second bind fails: the variable is already bound).
   *
   * @param fn the function
   * @param access what the function does at the PG
   */
  bind(fn: PaymentFunction, access: PgAccess): void;
}
