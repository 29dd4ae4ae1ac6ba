/**
 * The answer of `GET /payments/{paymentId}/deliveries` (PaymentDeliveriesView in
 * lambdas/domain/delivery-state.ts) as a schema, for the OpenAPI document only: nothing parses it.
 * The type check at the end keeps it from drifting from the domain type.
 */
import * as z from 'zod/mini';
import type { PaymentDeliveriesView } from '../../lambdas/domain/delivery-state';
import { PAYMENT_EVENT_TYPES } from '../../lambdas/domain/event-envelope';

const timestamp = z.iso.datetime({ offset: true });
const count = z.number().check(z.int(), z.nonnegative());
const identity = {
  eventId: z.string(),
  type: z.enum(PAYMENT_EVENT_TYPES),
  sequence: z.number().check(z.int(), z.positive()),
};
const deadLetterReason = z.enum(['rejected', 'attempts-exhausted']);

const eventDeliveryViewSchema = z.discriminatedUnion('state', [
  z.object({ ...identity, state: z.literal('pending') }),
  z.object({ ...identity, state: z.literal('enqueued'), enqueuedAt: timestamp }),
  z.object({
    ...identity,
    state: z.literal('retrying'),
    attempts: count,
    lastError: z.string(),
    lastStatusCode: z.optional(z.number().check(z.int())),
    nextAttemptAt: timestamp,
  }),
  z.object({
    ...identity,
    state: z.literal('delivered'),
    attempts: count,
    statusCode: z.number().check(z.int()),
    deliveredAt: timestamp,
    latencyMs: z.number(),
  }),
  z.object({
    ...identity,
    state: z.literal('dead-lettered'),
    attempts: count,
    reason: deadLetterReason,
    lastError: z.string(),
    lastStatusCode: z.optional(z.number().check(z.int())),
    deadLetteredAt: timestamp,
  }),
]);

export const paymentDeliveriesViewSchema = z.object({
  paymentId: z.string(),
  subscribers: z.array(
    z.object({
      name: z.string(),
      kind: z.enum(['queue', 'webhook']),
      events: z.array(eventDeliveryViewSchema),
    }),
  ),
});

// Both ways: the view the domain builds fits the schema, and the schema describes nothing else.
type Assert<T extends true> = T;
type Equivalent<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type DeepMutable<T> = T extends readonly (infer U)[] ? DeepMutable<U>[] : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
export type DeliveriesViewDescribed = Assert<Equivalent<DeepMutable<PaymentDeliveriesView>, z.output<typeof paymentDeliveriesViewSchema>>>;
