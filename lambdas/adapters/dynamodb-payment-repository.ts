import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactGetCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ChangeReadConflictError, IdempotencyRecordExistsError, PaymentVersionConflictError, StoreUnavailableError } from '../domain/errors';
import { envelopeFromOutboxItem, OUTBOX_TRACEPARENT_ATTRIBUTE, type EventEnvelope } from '../domain/event-envelope';
import { formatTraceparent, type TraceContext } from '../domain/trace-context';
import type { Payment, PaymentChange } from '../domain/payment';
import { PENDING_SHARD_ATTRIBUTE, pendingShardOf } from '../domain/pending-shards';
import type {
  AttemptGuard,
  ChangeReadRequest,
  ChangeSnapshot,
  IdempotencyRecord,
  PaymentRepository,
  PgAttemptStore,
} from '../ports/payment-repository';
import { OPEN_ATTEMPTS_INDEX, OPEN_SHARD, OPEN_SHARD_ATTRIBUTE } from '../domain/pg-attempt-keys';
import { PG_OPERATIONS, type PgAttempt } from '../domain/pg-attempt';
import { cancelledByThrottling, storeCall, STORE_RETRY_AFTER_SECONDS } from './dynamodb-errors';
import { queryOutboxPartition } from './outbox-partition';

export interface PaymentTableNames {
  readonly payments: string;
  readonly outbox: string;
  readonly idempotency: string;
  /** The PG attempts table; required by functions that move money (confirm, cancel, reconciler). */
  readonly pgAttempts?: string;
}

export interface RetentionSettings {
  /** Days an outbox item is kept after the event occurred (TTL). */
  readonly outboxDays: number;
  /** Days an idempotency record is kept (TTL). */
  readonly idempotencyDays: number;
}

const SECONDS_PER_DAY = 86_400;

/**
 * DynamoDB implementation of the payment store. A change is one TransactWriteItems:
 * payment put conditioned on the expected version, outbox put (marked pending) conditioned on
 * not existing, and the idempotency record conditioned on not existing. Cancellations are translated into
 * the domain's conflict errors.
 */
export class DynamoDbPaymentRepository implements PaymentRepository, PgAttemptStore {
  /**
   * @param traceContext the trace context of the request being handled, stored as each outbox item's
   *   `traceparent` so the relay sends it on with the event (see domain/trace-context.ts)
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: PaymentTableNames,
    private readonly retention: RetentionSettings,
    private readonly traceContext: () => TraceContext | undefined = () => undefined,
  ) {}

  async getPayment(paymentId: string): Promise<Payment | undefined> {
    const { Item } = await storeCall(() => this.client.send(
      new GetCommand({ TableName: this.tables.payments, Key: { paymentId }, ConsistentRead: true }),
    ));
    return Item && toPayment(Item);
  }

  async listEvents(paymentId: string): Promise<EventEnvelope[]> {
    const items = await queryOutboxPartition(this.client, this.tables.outbox, paymentId);
    return items.map(envelopeFromOutboxItem);
  }

  async getIdempotencyRecord(key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await storeCall(() => this.client.send(
      new GetCommand({ TableName: this.tables.idempotency, Key: { key }, ConsistentRead: true }),
    ));
    return Item && toIdempotencyRecord(Item);
  }

  /**
   * One request: a consistent GetItem when only the payment is asked for; otherwise one
   * TransactGetItems of the payment, the idempotency record and the attempts (one Get per operation),
   * which reads them as of one instant (serializable with transactions), so a twin's commit of the
   * payment with its record is seen whole or not at all. Transactional reads cost 2 read units per
   * item (4 to 8 per change instead of 1 to 3 with separate reads): the price of one round trip
   * instead of two or three, and of the snapshot.
   */
  async readForChange(request: ChangeReadRequest): Promise<ChangeSnapshot> {
    const { paymentId, idempotencyKey, withAttempts } = request;
    if (idempotencyKey === undefined && !withAttempts) return { payment: await this.getPayment(paymentId), attempts: [] };
    const gets = [
      { TableName: this.tables.payments, Key: { paymentId } },
      ...(idempotencyKey !== undefined ? [{ TableName: this.tables.idempotency, Key: { key: idempotencyKey } }] : []),
      ...(withAttempts ? PG_OPERATIONS.map((operation) => ({ TableName: this.attemptsTable(), Key: { paymentId, operation } })) : []),
    ];
    const items = await this.transactGet(paymentId, gets);
    const [paymentItem, ...rest] = items;
    const recordItem = idempotencyKey !== undefined ? rest.shift() : undefined;
    return {
      payment: paymentItem && toPayment(paymentItem),
      ...(recordItem && { idempotencyRecord: toIdempotencyRecord(recordItem) }),
      attempts: rest.filter((item): item is Record<string, unknown> => item !== undefined).map(toAttempt),
    };
  }

  private async transactGet(paymentId: string, gets: NonNullable<TransactGetCommandInput['TransactItems']>[number]['Get'][]) {
    try {
      const { Responses = [] } = await storeCall(() => this.client.send(new TransactGetCommand({ TransactItems: gets.map((Get) => ({ Get })) })));
      return Responses.map((response) => response?.Item);
    } catch (error) {
      const conflict = error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
      throw conflict ? new ChangeReadConflictError(paymentId) : error;
    }
  }

  async commit(change: PaymentChange, idempotency?: IdempotencyRecord, attempts?: AttemptGuard): Promise<void> {
    const { payment, event, expectedVersion } = change;
    const trace = this.traceContext();
    const paymentPut =
      expectedVersion === 0
        ? { ConditionExpression: 'attribute_not_exists(paymentId)' }
        : {
            ConditionExpression: '#version = :expected',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':expected': expectedVersion },
          };
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      { Put: { TableName: this.tables.payments, Item: payment, ...paymentPut } },
      {
        Put: {
          TableName: this.tables.outbox,
          // Pending until the relay (or the sweeper) confirms the topic accepted it: the marker puts the
          // event in the sparse PendingEvents index, written in the same transaction as the event.
          Item: {
            ...event,
            expiresAt: expiresAt(event.occurredAt, this.retention.outboxDays),
            [PENDING_SHARD_ATTRIBUTE]: pendingShardOf(event.aggregateId),
            ...(trace && { [OUTBOX_TRACEPARENT_ATTRIBUTE]: formatTraceparent(trace) }),
          },
          ConditionExpression: 'attribute_not_exists(aggregateId)',
        },
      },
    ];
    if (idempotency) {
      items.push({
        Put: {
          TableName: this.tables.idempotency,
          Item: { ...idempotency, expiresAt: expiresAt(idempotency.createdAt, this.retention.idempotencyDays) },
          ConditionExpression: 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { '#key': 'key' },
        },
      });
    }
    const guardItems = this.attemptGuardItems(change.payment.paymentId, attempts);
    items.push(...guardItems);
    try {
      await storeCall(() => this.client.send(
        // The event id is unique per attempt, so an SDK-level retry of a transaction that did
        // commit is answered as a success instead of failing its own version condition.
        new TransactWriteCommand({ TransactItems: items, ClientRequestToken: event.eventId }),
      ));
    } catch (error) {
      throw translateCancellation(error, change, idempotency);
    }
  }

  async listAttempts(paymentId: string): Promise<PgAttempt[]> {
    const { Items = [] } = await storeCall(() => this.client.send(
      new QueryCommand({
        TableName: this.attemptsTable(),
        KeyConditionExpression: 'paymentId = :id',
        ExpressionAttributeValues: { ':id': paymentId },
        ConsistentRead: true,
      }),
    ));
    return Items.filter((item) => (PG_OPERATIONS as readonly unknown[]).includes(item.operation)).map(toAttempt);
  }

  async getCallbackSecret(paymentId: string): Promise<string | undefined> {
    const { Item } = await storeCall(() => this.client.send(
      new GetCommand({ TableName: this.attemptsTable(), Key: { paymentId, operation: CALLBACK_SECRET_SORT_KEY }, ConsistentRead: true }),
    ));
    return typeof Item?.callbackSecret === 'string' ? Item.callbackSecret : undefined;
  }

  async openAttempt(attempt: PgAttempt, replaces?: PgAttempt): Promise<void> {
    const attemptCondition = replaces
      ? {
          ConditionExpression: '#generation = :previous AND #status = :closed',
          ExpressionAttributeNames: { '#generation': 'generation', '#status': 'status' },
          ExpressionAttributeValues: { ':previous': replaces.generation, ':closed': 'closed' },
        }
      : { ConditionExpression: 'attribute_not_exists(paymentId)' };
    try {
      await storeCall(() => this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tables.payments,
                Key: { paymentId: attempt.paymentId },
                ConditionExpression: '#version = :version',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':version': attempt.paymentVersion },
              },
            },
            { Put: { TableName: this.attemptsTable(), Item: { ...attempt, [OPEN_SHARD_ATTRIBUTE]: OPEN_SHARD }, ...attemptCondition } },
          ],
        }),
      ));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        if (cancelledByThrottling(error.CancellationReasons ?? [])) throw new StoreUnavailableError(STORE_RETRY_AFTER_SECONDS, 'TransactionCanceledException: ThrottlingError');
        throw new PaymentVersionConflictError(attempt.paymentId, attempt.paymentVersion);
      }
      throw error;
    }
  }

  async closeAttempt(closed: PgAttempt): Promise<void> {
    try {
      await storeCall(() => this.client.send(
        new PutCommand({ TableName: this.attemptsTable(), Item: closed, ...openAt(closed.generation) }),
      ));
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') throw new PaymentVersionConflictError(closed.paymentId, closed.paymentVersion);
      throw error;
    }
  }

  async listOpenAttempts(limit: number): Promise<PgAttempt[]> {
    const attempts: PgAttempt[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await storeCall(() => this.client.send(
        new QueryCommand({
          TableName: this.attemptsTable(),
          IndexName: OPEN_ATTEMPTS_INDEX,
          KeyConditionExpression: '#shard = :open',
          ExpressionAttributeNames: { '#shard': OPEN_SHARD_ATTRIBUTE },
          ExpressionAttributeValues: { ':open': OPEN_SHARD },
          Limit: limit - attempts.length,
          ExclusiveStartKey: startKey,
        }),
      ));
      attempts.push(...(page.Items ?? []).map(toAttempt));
      startKey = page.LastEvaluatedKey;
    } while (startKey && attempts.length < limit);
    return attempts;
  }

  /** The attempt closed (its closed form, without the open-index marker), and open attempts ruled out. */
  private attemptGuardItems(paymentId: string, guard: AttemptGuard | undefined): NonNullable<TransactWriteCommandInput['TransactItems']> {
    if (!guard) return [];
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    if (guard.callbackSecret !== undefined) {
      items.push({
        Put: {
          TableName: this.attemptsTable(),
          Item: { paymentId, operation: CALLBACK_SECRET_SORT_KEY, callbackSecret: guard.callbackSecret },
          ConditionExpression: 'attribute_not_exists(paymentId)',
        },
      });
    }
    if (guard.close) items.push({ Put: { TableName: this.attemptsTable(), Item: guard.close, ...openAt(guard.close.generation) } });
    for (const operation of guard.noneOpen ?? []) {
      if (operation === guard.close?.operation) continue;
      items.push({
        ConditionCheck: {
          TableName: this.attemptsTable(),
          Key: { paymentId, operation },
          ConditionExpression: 'attribute_not_exists(paymentId) OR #status = :closed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':closed': 'closed' },
        },
      });
    }
    return items;
  }

  private attemptsTable(): string {
    if (this.tables.pgAttempts === undefined) throw new Error('This function has no PG attempts table (PG_ATTEMPTS_TABLE_NAME)');
    return this.tables.pgAttempts;
  }
}

/**
 * Sort key of the item holding a virtual-account payment's deposit-callback secret in the PG
 * attempts table: not an operation, so never listed as an attempt (and never in the open index).
 */
export const CALLBACK_SECRET_SORT_KEY = 'callback-secret';

/** Condition: the stored attempt is still open at this generation. */
function openAt(generation: number) {
  return {
    ConditionExpression: '#status = :open AND #generation = :generation',
    ExpressionAttributeNames: { '#status': 'status', '#generation': 'generation' },
    ExpressionAttributeValues: { ':open': 'open', ':generation': generation },
  };
}

function toIdempotencyRecord(item: Record<string, unknown>): IdempotencyRecord {
  const { expiresAt: _expiresAt, ...record } = item;
  return record as unknown as IdempotencyRecord;
}

function toAttempt(item: Record<string, unknown>): PgAttempt {
  const { [OPEN_SHARD_ATTRIBUTE]: _shard, ...attempt } = item;
  return attempt as unknown as PgAttempt;
}

function translateCancellation(error: unknown, change: PaymentChange, idempotency?: IdempotencyRecord): unknown {
  if (!(error instanceof TransactionCanceledException)) return error;
  const reasons = error.CancellationReasons ?? [];
  if (cancelledByThrottling(reasons)) return new StoreUnavailableError(STORE_RETRY_AFTER_SECONDS, 'TransactionCanceledException: ThrottlingError');
  if (idempotency && reasons[2]?.Code === 'ConditionalCheckFailed') {
    return new IdempotencyRecordExistsError(idempotency.key);
  }
  const lostRace = reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict');
  if (lostRace) return new PaymentVersionConflictError(change.payment.paymentId, change.expectedVersion);
  return error;
}

function expiresAt(isoTime: string, days: number): number {
  return Math.floor(Date.parse(isoTime) / 1000) + days * SECONDS_PER_DAY;
}

/** The fields of a stored payment, in the order the API presents them. */
const PAYMENT_FIELDS = [
  'paymentId',
  'orderId',
  'amount',
  'currency',
  'method',
  'status',
  'version',
  'createdAt',
  'updatedAt',
  'virtualAccount',
  'pgTransactionId',
  'approvedAt',
  'depositedAt',
  'failedAt',
  'failureReason',
  'cancelledAt',
  'cancelReason',
  'refundId',
] as const satisfies ReadonlyArray<keyof Payment>;

/**
 * DynamoDB returns attributes in no particular order; answers should not change shape between
 * reads. Known fields come first, in order; any other attribute follows, unchanged.
 */
function toPayment(item: Record<string, unknown>): Payment {
  const payment: Record<string, unknown> = {};
  for (const field of PAYMENT_FIELDS) {
    if (item[field] !== undefined) payment[field] = item[field];
  }
  return { ...payment, ...item } as unknown as Payment;
}
