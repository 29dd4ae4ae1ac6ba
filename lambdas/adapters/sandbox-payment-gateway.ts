import { createHash, randomUUID } from 'node:crypto';
import type { AuthorizationResult, Payment, VirtualAccount } from '../domain/payment';
import type { Clock } from '../ports/clock';
import type { PaymentGateway } from '../ports/payment-gateway';

const DECLINE_PREFIX = 'tok_decline';
const DEPOSIT_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;

/**
 * A PG stand-in used when no real PG is configured: approves every card token except those
 * starting with `tok_decline`, and issues fake bank accounts for virtual-account payments.
 */
export class SandboxPaymentGateway implements PaymentGateway {
  constructor(private readonly clock: Clock) {}

  async authorize(_payment: Payment, cardToken: string): Promise<AuthorizationResult> {
    if (cardToken.startsWith(DECLINE_PREFIX)) return { approved: false, reason: 'CARD_DECLINED' };
    return { approved: true, pgTransactionId: `sandbox_${randomUUID()}` };
  }

  async issueVirtualAccount(request: { paymentId: string }): Promise<VirtualAccount> {
    const digits = BigInt(`0x${createHash('sha256').update(request.paymentId).digest('hex').slice(0, 15)}`)
      .toString()
      .padStart(14, '0')
      .slice(0, 14);
    return {
      bank: 'SANDBOX_BANK',
      accountNumber: `${digits.slice(0, 3)}-${digits.slice(3, 9)}-${digits.slice(9)}`,
      dueAt: new Date(this.clock.now().getTime() + DEPOSIT_WINDOW_MS).toISOString(),
    };
  }
}
