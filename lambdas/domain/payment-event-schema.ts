/**
 * The event envelope and the payment snapshot as schemas: what `parseEnvelope` (consumer-rules.ts)
 * accepts, and what `npm run schemas` turns into schemas/payment-event.schema.json, docs/openapi.yaml
 * and docs/asyncapi.yaml. Pure definitions, no rules of their own beyond the shapes.
 *
 * They describe the envelope as `newEnvelope` and the payment transitions (payment.ts) build it; the
 * type checks at the end fail to compile when an interface gains a field the schema does not describe.
 *
 * Objects are open: a consumer keeps working when a later version adds an optional field (the
 * snapshot keeps unknown fields, the envelope drops unknown top-level ones when parsed).
 */
import * as z from 'zod/mini';
import { ENVELOPE_SCHEMA_VERSION, PAYMENT_EVENT_TYPES, type EventEnvelope, type PaymentEventType } from './event-envelope';
import { PAYMENT_METHODS, PAYMENT_STATUSES, type Payment, type VirtualAccount } from './payment';

const text = z.string().check(z.minLength(1));
/** ISO-8601 date-time with `Z` or an offset (what `Date.toISOString()` writes). */
const timestamp = z.iso.datetime({ offset: true });
const positiveInt = z.number().check(z.int(), z.positive());

export const virtualAccountSchema = z.object({
  bank: text,
  accountNumber: text,
  dueAt: timestamp,
});

/** Every field of a payment snapshot; the event types below narrow some of them. */
const paymentShape = {
  paymentId: text,
  orderId: text,
  amount: positiveInt,
  currency: z.string().check(z.regex(/^[A-Z]{3}$/)),
  method: z.enum(PAYMENT_METHODS),
  status: z.enum(PAYMENT_STATUSES),
  version: positiveInt,
  createdAt: timestamp,
  updatedAt: timestamp,
  virtualAccount: z.optional(virtualAccountSchema),
  pgTransactionId: z.optional(text),
  approvedAt: z.optional(timestamp),
  depositedAt: z.optional(timestamp),
  failedAt: z.optional(timestamp),
  failureReason: z.optional(text),
  cancelledAt: z.optional(timestamp),
  cancelReason: z.optional(text),
  refundId: z.optional(text),
};

/** A payment as the API answers it and as any event carries it (`data`). */
export const paymentSchema = z.looseObject(paymentShape);

/** `data` of each event type: the snapshot after the change, with what that change always sets. */
export const paymentEventDataSchemas = {
  'payment.created': z.looseObject({
    ...paymentShape,
    status: z.enum(['READY', 'WAITING_FOR_DEPOSIT']),
  }),
  'payment.approved': z.looseObject({
    ...paymentShape,
    status: z.literal('APPROVED'),
    approvedAt: timestamp,
    pgTransactionId: text,
  }),
  'payment.failed': z.looseObject({
    ...paymentShape,
    status: z.literal('FAILED'),
    failedAt: timestamp,
    failureReason: text,
  }),
  'payment.cancelled': z.looseObject({
    ...paymentShape,
    status: z.literal('CANCELLED'),
    cancelledAt: timestamp,
    cancelReason: text,
  }),
} as const satisfies Record<PaymentEventType, z.ZodMiniType>;

const envelopeShape = {
  eventId: text,
  type: z.enum(PAYMENT_EVENT_TYPES),
  aggregateType: z.literal('payment'),
  aggregateId: text,
  sequence: positiveInt,
  occurredAt: timestamp,
  schemaVersion: z.literal(ENVELOPE_SCHEMA_VERSION),
  data: z.looseObject({}),
};

/**
 * What every envelope has whatever its type, `data` only as an object. `parseEnvelope` checks it before
 * {@link eventEnvelopeSchema}, so that an error names the first offending field in envelope order
 * (a discriminated union would look at `type` first).
 */
export const envelopeFieldsSchema = z.object(envelopeShape);

function envelopeOf<T extends PaymentEventType>(type: T) {
  return z.object({ ...envelopeShape, type: z.literal(type), data: paymentEventDataSchemas[type] });
}

/** One envelope schema per event type, in the order of `PAYMENT_EVENT_TYPES`. */
export const paymentEventEnvelopeSchemas = {
  'payment.created': envelopeOf('payment.created'),
  'payment.approved': envelopeOf('payment.approved'),
  'payment.failed': envelopeOf('payment.failed'),
  'payment.cancelled': envelopeOf('payment.cancelled'),
} as const satisfies Record<PaymentEventType, z.ZodMiniType>;

/**
 * The envelope: a union discriminated by `type`. `data.paymentId` equals `aggregateId` (a check JSON
 * Schema cannot express; the generated document says it in words).
 */
export const eventEnvelopeSchema = z
  .discriminatedUnion(
    'type',
    PAYMENT_EVENT_TYPES.map((type) => paymentEventEnvelopeSchemas[type]) as unknown as [
      (typeof paymentEventEnvelopeSchemas)['payment.created'],
      (typeof paymentEventEnvelopeSchemas)['payment.approved'],
      (typeof paymentEventEnvelopeSchemas)['payment.failed'],
      (typeof paymentEventEnvelopeSchemas)['payment.cancelled'],
    ],
  )
  .check(
    z.refine((envelope) => envelope.data.paymentId === envelope.aggregateId, {
      message: 'data.paymentId differs from aggregateId',
      path: ['data', 'paymentId'],
    }),
  );

// Compile-time guards against drift between the interfaces and the schemas: each type is `true` or
// fails to compile.
/** The named fields of `T`, without the index signature of an open object. */
type Named<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
type Described<T, S> = {
  [K in keyof T]-?: K extends keyof Named<S> ? (Exclude<T[K], undefined> extends Exclude<Named<S>[K], undefined> ? true : false) : false;
};
type AllTrue<T> = T[keyof T] extends true ? true : false;
type Assert<T extends true> = T;
/** Every field of Payment is in the schema, with a compatible type. */
export type PaymentFieldsDescribed = Assert<AllTrue<Described<Payment, z.output<typeof paymentSchema>>>>;
export type VirtualAccountFieldsDescribed = Assert<AllTrue<Described<VirtualAccount, z.output<typeof virtualAccountSchema>>>>;
/** Every envelope field is in the schema, and what the schema accepts is an EventEnvelope. */
export type EnvelopeFieldsDescribed = Assert<AllTrue<Described<Omit<EventEnvelope, 'data'>, z.output<typeof eventEnvelopeSchema>>>>;
export type ParsedEnvelopeIsAnEnvelope = Assert<z.output<typeof eventEnvelopeSchema> extends EventEnvelope ? true : false>;
