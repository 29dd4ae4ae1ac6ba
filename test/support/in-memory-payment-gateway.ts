import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxLedgerEntry } from '../../lambdas/adapters/sandbox-payment-gateway';
import { PgUnavailableError } from '../../lambdas/domain/errors';
import type { VirtualAccount } from '../../lambdas/domain/payment';
import type { PgAnswer, PgOperation } from '../../lambdas/domain/pg-attempt';
import type { Clock } from '../../lambdas/ports/clock';
import type { IssuedVirtualAccount, PaymentGateway } from '../../lambdas/ports/payment-gateway';

const DECLINE_PREFIX = 'tok_decline';
const DEPOSIT_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;

type CallOperation = PgOperation | 'issue-account' | 'close-account' | 'lookup';

/** One call the PG received (whatever happened to it). */
export interface GatewayCall {
  readonly operation: CallOperation;
  readonly paymentId: string;
  readonly idempotencyKey: string;
}

interface StoredAnswer {
  readonly operation: PgOperation | 'issue-account' | 'close-account';
  readonly paymentId: string;
  readonly answer: unknown;
}

interface Money {
  chargeCount: number;
  chargedAmount: number;
  chargeIds: string[];
  refundCount: number;
  refundedAmount: number;
  refundIds: string[];
}

/** A call held before it moves money: `reached` resolves once it waits, `release` lets it go on. */
export interface HeldCall {
  readonly reached: Promise<void>;
  release(): void;
}

/**
 * A PaymentGateway for unit tests with the sandbox PG's semantics (lambdas/adapters/
 * sandbox-payment-gateway.ts) and a ledger: every answer is kept under its idempotency key, a
 * repeated key answers the first result and moves no money, `tok_decline*` tokens are declined,
 * `lookup` answers by key (`not-found` for a key it never saw).
 *
 * Faults: `failNext(n)` makes the next n calls fail with PG_UNAVAILABLE before anything happens;
 * `loseNextAnswer(n)` lets the next n authorize/refund/issue-account calls do their work (money
 * moved, answer recorded) and then fail with PG_UNAVAILABLE, as if the answer was lost;
 * `holdNext()` parks the next authorize/refund call before it moves money until released;
 * `latencyMs` makes authorize/refund take time, so concurrent requests really interleave.
 */
export class InMemoryPaymentGateway implements PaymentGateway {
  readonly name: string = 'in-memory';
  /** Every call received, in order, including failed ones. */
  readonly calls: GatewayCall[] = [];
  private readonly answers = new Map<string, StoredAnswer>();
  private readonly money = new Map<string, Money>();
  private failures = 0;
  private lostAnswers = 0;
  private held: Array<{ reached: () => void; released: Promise<void> }> = [];
  private transactions = 0;

  constructor(
    private readonly clock: Clock,
    private readonly options: {
      /** Seconds a PG_UNAVAILABLE tells the caller to wait. @default 2 */
      readonly retryAfterSeconds?: number;
      /** Milliseconds each authorize/refund call takes before the PG acts (concurrency tests). @default 0: no wait */
      readonly latencyMs?: () => number;
    } = {},
  ) {}

  /** The next `count` calls (any operation, lookups included) fail before anything happens. */
  failNext(count: number): void {
    this.failures = count;
  }

  /** The next `count` authorize/refund/issue-account calls do their work, then fail as if the answer was lost. */
  loseNextAnswer(count: number): void {
    this.lostAnswers = count;
  }

  /** Holds the next authorize/refund call before it moves money, until `release()`. */
  holdNext(): HeldCall {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.held.push({ reached, released });
    return { reached: reachedPromise, release };
  }

  async authorize(request: Parameters<PaymentGateway['authorize']>[0]): ReturnType<PaymentGateway['authorize']> {
    this.receive('authorize', request.paymentId, request.idempotencyKey);
    await this.waitIfHeld();
    const answer = this.once(request.idempotencyKey, () => {
      if ((request.cardToken ?? request.paymentKey ?? '').startsWith(DECLINE_PREFIX)) return { outcome: 'declined', reason: 'CARD_DECLINED' } as const;
      const pgTransactionId = `pg_tx_${++this.transactions}`;
      const money = this.entry(request.paymentId);
      money.chargeCount++;
      money.chargedAmount += request.amount;
      money.chargeIds.push(pgTransactionId);
      return { outcome: 'approved', pgTransactionId } as const;
    }, { operation: 'authorize', paymentId: request.paymentId });
    this.maybeLoseAnswer();
    return answer as Awaited<ReturnType<PaymentGateway['authorize']>>;
  }

  async refund(request: Parameters<PaymentGateway['refund']>[0]): ReturnType<PaymentGateway['refund']> {
    this.receive('refund', request.paymentId, request.idempotencyKey);
    await this.waitIfHeld();
    const answer = this.once(request.idempotencyKey, () => {
      const refundId = `pg_refund_${++this.transactions}`;
      const money = this.entry(request.paymentId);
      money.refundCount++;
      money.refundedAmount += request.amount;
      money.refundIds.push(refundId);
      return { outcome: 'refunded', refundId } as const;
    }, { operation: 'refund', paymentId: request.paymentId });
    this.maybeLoseAnswer();
    return answer as Awaited<ReturnType<PaymentGateway['refund']>>;
  }

  async issueVirtualAccount(request: Parameters<PaymentGateway['issueVirtualAccount']>[0]): Promise<IssuedVirtualAccount> {
    this.receive('issue-account', request.paymentId, request.idempotencyKey);
    const account = this.once(request.idempotencyKey, () => {
      const digits = BigInt(`0x${createHash('sha256').update(request.paymentId).digest('hex').slice(0, 15)}`)
        .toString()
        .padStart(14, '0')
        .slice(0, 14);
      return {
        bank: 'SANDBOX_BANK',
        accountNumber: `${digits.slice(0, 3)}-${digits.slice(3, 9)}-${digits.slice(9)}`,
        dueAt: new Date(this.clock.now().getTime() + DEPOSIT_WINDOW_MS).toISOString(),
      };
    }, { operation: 'issue-account', paymentId: request.paymentId });
    this.maybeLoseAnswer();
    return { account: account as VirtualAccount };
  }

  /** Accounts closed (payment ids), in order. */
  readonly closedAccounts: string[] = [];

  async closeVirtualAccount(request: Parameters<PaymentGateway['closeVirtualAccount']>[0]): Promise<void> {
    this.receive('close-account', request.paymentId, request.idempotencyKey);
    this.once(request.idempotencyKey, () => {
      this.closedAccounts.push(request.paymentId);
      return { closedAt: this.clock.now().toISOString() };
    }, { operation: 'close-account', paymentId: request.paymentId });
    this.maybeLoseAnswer();
  }

  async lookup(request: Parameters<PaymentGateway['lookup']>[0]): Promise<PgAnswer> {
    this.receive('lookup', request.paymentId, request.idempotencyKey);
    const stored = this.answers.get(request.idempotencyKey);
    return stored ? (structuredClone(stored.answer) as PgAnswer) : { outcome: 'not-found' };
  }

  /** The money moved for one payment, in the sandbox ledger's shape. */
  ledgerEntry(paymentId: string): SandboxLedgerEntry {
    const money = this.money.get(paymentId);
    return {
      paymentId,
      chargeCount: money?.chargeCount ?? 0,
      chargedAmount: money?.chargedAmount ?? 0,
      chargeIds: [...(money?.chargeIds ?? [])],
      refundCount: money?.refundCount ?? 0,
      refundedAmount: money?.refundedAmount ?? 0,
      refundIds: [...(money?.refundIds ?? [])],
    };
  }

  chargeCount(paymentId: string): number {
    return this.ledgerEntry(paymentId).chargeCount;
  }

  refundCount(paymentId: string): number {
    return this.ledgerEntry(paymentId).refundCount;
  }

  /** The first answer given under a key, if any. */
  answerFor(idempotencyKey: string): unknown {
    const stored = this.answers.get(idempotencyKey);
    return stored && structuredClone(stored.answer);
  }

  /** Every idempotency key answered, in the order first seen. */
  answeredKeys(): string[] {
    return [...this.answers.keys()];
  }

  /** Calls received for a payment (optionally of one operation). */
  callsFor(paymentId: string, operation?: CallOperation): GatewayCall[] {
    return this.calls.filter((call) => call.paymentId === paymentId && (operation === undefined || call.operation === operation));
  }

  private receive(operation: CallOperation, paymentId: string, idempotencyKey: string): void {
    this.calls.push({ operation, paymentId, idempotencyKey });
    if (this.failures > 0) {
      this.failures--;
      throw this.unavailable(`${operation} failed before reaching the PG`);
    }
  }

  private async waitIfHeld(): Promise<void> {
    const latency = this.options.latencyMs?.() ?? 0;
    if (latency > 0) await sleep(latency);
    const held = this.held.shift();
    if (!held) return;
    held.reached();
    await held.released;
  }

  /** The first answer under the key, or `work()`'s answer recorded under it. Synchronous, hence atomic. */
  private once(idempotencyKey: string, work: () => unknown, stored: Omit<StoredAnswer, 'answer'>): unknown {
    const first = this.answers.get(idempotencyKey);
    if (first) return structuredClone(first.answer);
    const answer = work();
    this.answers.set(idempotencyKey, { ...stored, answer });
    return structuredClone(answer);
  }

  private maybeLoseAnswer(): void {
    if (this.lostAnswers > 0) {
      this.lostAnswers--;
      throw this.unavailable('the answer was lost after the PG acted');
    }
  }

  private entry(paymentId: string): Money {
    let money = this.money.get(paymentId);
    if (!money) {
      money = { chargeCount: 0, chargedAmount: 0, chargeIds: [], refundCount: 0, refundedAmount: 0, refundIds: [] };
      this.money.set(paymentId, money);
    }
    return money;
  }

  private unavailable(detail: string): PgUnavailableError {
    return new PgUnavailableError(this.options.retryAfterSeconds ?? 2, `in-memory PG: ${detail}`);
  }
}
