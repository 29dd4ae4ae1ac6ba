/**
 * Where each event stands with each subscriber, pure: the record a webhook dispatcher keeps per
 * (subscriber, event), the Deliveries table's sort key, and the view `GET
 * /payments/{paymentId}/deliveries` answers with.
 *
 * A webhook delivery is `pending` until its first attempt (no record), then `retrying` (attempt
 * count, last error, next attempt) until it ends `delivered` (status code, time) or
 * `dead-lettered` (last status / error, time). A queue subscriber's event is `enqueued` once the
 * relay (or the sweeper) had it accepted by the broker, `pending` before.
 *
 * The CDK stack (the table definition) and the local runner import the table's names from here.
 */
import type { EventEnvelope, PaymentEventType } from './event-envelope';
import { acceptsEventType, type Subscriber } from './subscribers';

/** Partition key of the Deliveries table (type S): the payment id. */
export const DELIVERIES_PARTITION_KEY = 'paymentId';
/** Sort key of the Deliveries table (type S): `deliverySortKey(subscriber, sequence)`. */
export const DELIVERIES_SORT_KEY = 'sk';
/** TTL attribute of the Deliveries table (epoch seconds). */
export const DELIVERIES_TTL_ATTRIBUTE = 'expiresAt';

/** Digits of the sequence in the sort key, so that keys sort in sequence order. */
export const DELIVERY_SEQUENCE_DIGITS = 10;

/** `<subscriber>#<sequence, zero-padded to 10 digits>`. */
export function deliverySortKey(subscriber: string, sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 1 || sequence >= 10 ** DELIVERY_SEQUENCE_DIGITS) {
    throw new RangeError(`sequence must be an integer in [1, 10^${DELIVERY_SEQUENCE_DIGITS}), got ${sequence}`);
  }
  return `${subscriber}#${String(sequence).padStart(DELIVERY_SEQUENCE_DIGITS, '0')}`;
}

interface DeliveryRecordBase {
  readonly subscriber: string;
  readonly paymentId: string;
  readonly sequence: number;
  readonly eventId: string;
  readonly eventType: PaymentEventType;
  readonly occurredAt: string;
  /** The SQS message whose attempts `attempts` counts (a redriven or replayed copy starts again at 1). */
  readonly messageId: string;
  /** POSTs made for `messageId` so far. */
  readonly attempts: number;
  readonly updatedAt: string;
}

export type DeliveryRecord = DeliveryRecordBase &
  (
    | {
        readonly state: 'retrying';
        readonly lastError: string;
        readonly lastStatusCode?: number;
        readonly nextAttemptAt: string;
      }
    | {
        readonly state: 'delivered';
        readonly statusCode: number;
        readonly deliveredAt: string;
        /** From `occurredAt` to the 2xx answer. */
        readonly latencyMs: number;
      }
    | {
        readonly state: 'dead-lettered';
        readonly reason: 'rejected' | 'attempts-exhausted';
        readonly lastError: string;
        readonly lastStatusCode?: number;
        readonly deadLetteredAt: string;
      }
  );

export type DeliveryState = DeliveryRecord['state'];

/** One event as the status endpoint shows it for one subscriber. */
export type EventDeliveryView = {
  readonly eventId: string;
  readonly type: PaymentEventType;
  readonly sequence: number;
} & (
  | { readonly state: 'pending' }
  | { readonly state: 'enqueued'; readonly enqueuedAt: string }
  | {
      readonly state: 'retrying';
      readonly attempts: number;
      readonly lastError: string;
      readonly lastStatusCode?: number;
      readonly nextAttemptAt: string;
    }
  | {
      readonly state: 'delivered';
      readonly attempts: number;
      readonly statusCode: number;
      readonly deliveredAt: string;
      readonly latencyMs: number;
    }
  | {
      readonly state: 'dead-lettered';
      readonly attempts: number;
      readonly reason: 'rejected' | 'attempts-exhausted';
      readonly lastError: string;
      readonly lastStatusCode?: number;
      readonly deadLetteredAt: string;
    }
);

export interface SubscriberDeliveriesView {
  readonly name: string;
  readonly kind: Subscriber['delivery']['kind'];
  readonly events: readonly EventDeliveryView[];
}

export interface PaymentDeliveriesView {
  readonly paymentId: string;
  readonly subscribers: readonly SubscriberDeliveriesView[];
}

/** An outbox event and, once confirmed published, when. */
export interface PublishedEvent {
  readonly envelope: EventEnvelope;
  readonly publishedAt?: string;
}

/**
 * Per subscriber (in configuration order), each of the payment's events its filter accepts, in
 * sequence order, with its state. `records` are the payment's delivery records (any subscriber);
 * a record of an event the outbox no longer holds is not shown.
 */
export function paymentDeliveriesView(input: {
  readonly paymentId: string;
  readonly subscribers: readonly Subscriber[];
  readonly events: readonly PublishedEvent[];
  readonly records: readonly DeliveryRecord[];
}): PaymentDeliveriesView {
  const events = [...input.events].sort((a, b) => a.envelope.sequence - b.envelope.sequence);
  const records = new Map(input.records.map((record) => [deliverySortKey(record.subscriber, record.sequence), record]));
  return {
    paymentId: input.paymentId,
    subscribers: input.subscribers.map((subscriber) => ({
      name: subscriber.name,
      kind: subscriber.delivery.kind,
      events: events
        .filter(({ envelope }) => acceptsEventType(subscriber, envelope.type))
        .map((event) =>
          subscriber.delivery.kind === 'queue'
            ? queueEventView(event)
            : webhookEventView(event.envelope, records.get(deliverySortKey(subscriber.name, event.envelope.sequence))),
        ),
    })),
  };
}

function identity(envelope: EventEnvelope) {
  return { eventId: envelope.eventId, type: envelope.type, sequence: envelope.sequence };
}

function queueEventView({ envelope, publishedAt }: PublishedEvent): EventDeliveryView {
  return publishedAt === undefined
    ? { ...identity(envelope), state: 'pending' }
    : { ...identity(envelope), state: 'enqueued', enqueuedAt: publishedAt };
}

function webhookEventView(envelope: EventEnvelope, record: DeliveryRecord | undefined): EventDeliveryView {
  // A record of another event under the same key (the outbox item was replaced) does not count.
  if (!record || record.eventId !== envelope.eventId) return { ...identity(envelope), state: 'pending' };
  const lastStatus = (code: number | undefined) => (code === undefined ? {} : { lastStatusCode: code });
  switch (record.state) {
    case 'retrying':
      return {
        ...identity(envelope),
        state: 'retrying',
        attempts: record.attempts,
        lastError: record.lastError,
        ...lastStatus(record.lastStatusCode),
        nextAttemptAt: record.nextAttemptAt,
      };
    case 'delivered':
      return {
        ...identity(envelope),
        state: 'delivered',
        attempts: record.attempts,
        statusCode: record.statusCode,
        deliveredAt: record.deliveredAt,
        latencyMs: record.latencyMs,
      };
    case 'dead-lettered':
      return {
        ...identity(envelope),
        state: 'dead-lettered',
        attempts: record.attempts,
        reason: record.reason,
        lastError: record.lastError,
        ...lastStatus(record.lastStatusCode),
        deadLetteredAt: record.deadLetteredAt,
      };
  }
}
