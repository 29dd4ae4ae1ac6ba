/**
 * The sandbox PG: a stand-in used until a real PG is configured. It behaves like one where the
 * outbox depends on it: it keeps a durable ledger (a DynamoDB table of its own, so it survives
 * restarts of the functions), honours idempotency keys (a repeated key answers the first result
 * and moves no money), answers lookups by key, and fails the way a PG fails (its table is its
 * network: throttling, errors and timeouts of the ledger are PG outages). It approves every card
 * token except those starting with `tok_decline`, and issues fake bank accounts.
 *
 * Ledger items:
 * - `key#<idempotency key>`: the first answer given under that key (operation, payment, answer);
 * - `payment#<payment id>`: the money: `chargeCount`, `chargedAmount`, `refundCount`, `refundedAmount`
 *   and the transaction ids, updated in the same transaction as the key item.
 */
import { createHash, randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { PgMisconfiguredError, PgUnavailableError } from '../domain/errors';
import type { VirtualAccount } from '../domain/payment';
import type { PgAnswer, PgOperation } from '../domain/pg-attempt';
import type { Clock } from '../ports/clock';
import type { IssuedVirtualAccount, PaymentGateway } from '../ports/payment-gateway';

const DECLINE_PREFIX = 'tok_decline';
const DEPOSIT_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;

export interface SandboxPaymentGatewayOptions {
  readonly ledgerTable: string;
  /** Longest wait for the PG; beyond it the call is a PG_UNAVAILABLE. @default 5000 */
  readonly timeoutMs?: number;
  /** Seconds a caller is told to wait after an outage. @default 2 */
  readonly retryAfterSeconds?: number;
}

/** The money the sandbox moved for one payment, as its ledger holds it. */
export interface SandboxLedgerEntry {
  readonly paymentId: string;
  readonly chargeCount: number;
  readonly chargedAmount: number;
  readonly chargeIds: readonly string[];
  readonly refundCount: number;
  readonly refundedAmount: number;
  readonly refundIds: readonly string[];
}

type StoredAnswer = { readonly operation: PgOperation | 'issue-account' | 'close-account'; readonly paymentId: string; readonly answer: unknown };

export const LEDGER_KEY_PREFIX = 'key#';
export const LEDGER_PAYMENT_PREFIX = 'payment#';

export class SandboxPaymentGateway implements PaymentGateway {
  readonly name = 'sandbox';
  private readonly timeoutMs: number;
  private readonly retryAfterSeconds: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly clock: Clock,
    private readonly options: SandboxPaymentGatewayOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 2;
  }

  async authorize(request: Parameters<PaymentGateway['authorize']>[0]): ReturnType<PaymentGateway['authorize']> {
    if (request.cardToken === undefined) throw new PgMisconfiguredError(this.retryAfterSeconds, 'the sandbox PG authorizes card tokens, not payment keys');
    const declined = request.cardToken.startsWith(DECLINE_PREFIX);
    const answer: Extract<PgAnswer, { outcome: 'approved' | 'declined' }> = declined
      ? { outcome: 'declined', reason: 'CARD_DECLINED' }
      : { outcome: 'approved', pgTransactionId: `sandbox_${randomUUID()}` };
    const money: TransactItem[] = declined
      ? []
      : [
          this.moneyUpdate(request.paymentId, 'SET chargeIds = list_append(if_not_exists(chargeIds, :empty), :ids) ADD chargeCount :one, chargedAmount :amount', {
            ':ids': [(answer as { pgTransactionId: string }).pgTransactionId],
            ':amount': request.amount,
          }),
        ];
    return (await this.once(request.idempotencyKey, { operation: 'authorize', paymentId: request.paymentId, answer }, money)) as typeof answer;
  }

  async refund(request: Parameters<PaymentGateway['refund']>[0]): ReturnType<PaymentGateway['refund']> {
    const answer = { outcome: 'refunded', refundId: `sandbox_refund_${randomUUID()}` } as const;
    const money = this.moneyUpdate(
      request.paymentId,
      'SET refundIds = list_append(if_not_exists(refundIds, :empty), :ids) ADD refundCount :one, refundedAmount :amount',
      { ':ids': [answer.refundId], ':amount': request.amount },
    );
    return (await this.once(request.idempotencyKey, { operation: 'refund', paymentId: request.paymentId, answer }, [money])) as typeof answer;
  }

  async issueVirtualAccount(request: Parameters<PaymentGateway['issueVirtualAccount']>[0]): Promise<IssuedVirtualAccount> {
    const digits = BigInt(`0x${createHash('sha256').update(request.paymentId).digest('hex').slice(0, 15)}`)
      .toString()
      .padStart(14, '0')
      .slice(0, 14);
    const account: VirtualAccount = {
      bank: 'SANDBOX_BANK',
      accountNumber: `${digits.slice(0, 3)}-${digits.slice(3, 9)}-${digits.slice(9)}`,
      dueAt: new Date(this.clock.now().getTime() + DEPOSIT_WINDOW_MS).toISOString(),
    };
    return { account: (await this.once(request.idempotencyKey, { operation: 'issue-account', paymentId: request.paymentId, answer: account }, [])) as VirtualAccount };
  }

  async closeVirtualAccount(request: Parameters<PaymentGateway['closeVirtualAccount']>[0]): Promise<void> {
    const closed = { closedAt: this.clock.now().toISOString() };
    const account = this.moneyUpdate(request.paymentId, 'SET accountClosedAt = if_not_exists(accountClosedAt, :closedAt)', { ':closedAt': closed.closedAt });
    await this.once(request.idempotencyKey, { operation: 'close-account', paymentId: request.paymentId, answer: closed }, [account]);
  }

  async lookup(request: Parameters<PaymentGateway['lookup']>[0]): Promise<PgAnswer> {
    const stored = await this.call(() =>
      this.client.send(new GetCommand({ TableName: this.options.ledgerTable, Key: { pk: LEDGER_KEY_PREFIX + request.idempotencyKey }, ConsistentRead: true }), {
        abortSignal: AbortSignal.timeout(this.timeoutMs),
      }),
    );
    const item = stored.Item as StoredAnswer | undefined;
    return item ? (item.answer as PgAnswer) : { outcome: 'not-found' };
  }

  /** The ledger's record of one payment's money (tests, chaos checks). */
  async ledgerEntry(paymentId: string): Promise<SandboxLedgerEntry> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.options.ledgerTable, Key: { pk: LEDGER_PAYMENT_PREFIX + paymentId }, ConsistentRead: true }),
    );
    return {
      paymentId,
      chargeCount: Number(Item?.chargeCount ?? 0),
      chargedAmount: Number(Item?.chargedAmount ?? 0),
      chargeIds: (Item?.chargeIds as string[] | undefined) ?? [],
      refundCount: Number(Item?.refundCount ?? 0),
      refundedAmount: Number(Item?.refundedAmount ?? 0),
      refundIds: (Item?.refundIds as string[] | undefined) ?? [],
    };
  }

  /**
   * Records the answer under the key and moves the money in one transaction; when the key was
   * already used, nothing moves and the first answer is returned.
   */
  private async once(idempotencyKey: string, stored: StoredAnswer, money: TransactItem[]): Promise<unknown> {
    const pk = LEDGER_KEY_PREFIX + idempotencyKey;
    try {
      await this.call(() =>
        this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.options.ledgerTable,
                  Item: { pk, ...stored, answeredAt: this.clock.now().toISOString() },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              ...money,
            ],
          }),
          { abortSignal: AbortSignal.timeout(this.timeoutMs) },
        ),
      );
      return stored.answer;
    } catch (error) {
      const reasons = error instanceof PgUnavailableError ? [] : ((error as TransactionCanceledException).CancellationReasons ?? []);
      if (!(error instanceof TransactionCanceledException) || reasons[0]?.Code !== 'ConditionalCheckFailed') throw error;
      const first = await this.call(() =>
        this.client.send(new GetCommand({ TableName: this.options.ledgerTable, Key: { pk }, ConsistentRead: true }), {
          abortSignal: AbortSignal.timeout(this.timeoutMs),
        }),
      );
      return (first.Item as StoredAnswer | undefined)?.answer;
    }
  }

  private moneyUpdate(paymentId: string, expression: string, values: Record<string, unknown>): TransactItem {
    return {
      Update: {
        TableName: this.options.ledgerTable,
        Key: { pk: LEDGER_PAYMENT_PREFIX + paymentId },
        UpdateExpression: expression,
        // DynamoDB refuses values the expression does not use.
        ExpressionAttributeValues: Object.fromEntries(
          Object.entries({ ':one': 1, ':empty': [], ...values }).filter(([name]) => new RegExp(`${name}\\b`).test(expression)),
        ),
      },
    };
  }

  /** The ledger is the sandbox's network: anything but a key conflict is the PG being unavailable. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') throw error;
      const name = error instanceof Error ? error.name : 'Error';
      throw new PgUnavailableError(this.retryAfterSeconds, `sandbox PG: ${name}`);
    }
  }
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
