import type { AuthorizationResult, Payment, VirtualAccount } from '../domain/payment';

/** Port for the payment gateway (PG). */
export interface PaymentGateway {
  /** Authorizes a card or easy-pay payment. Must be idempotent per payment id on the PG side. */
  authorize(payment: Payment, cardToken: string): Promise<AuthorizationResult>;
  /** Issues a bank account the buyer deposits into; the PG calls back when the money arrives. */
  issueVirtualAccount(request: { paymentId: string; amount: number; currency: string }): Promise<VirtualAccount>;
}
