/**
 * schemas/payment-event.schema.json: the envelope schema the consumers parse with
 * (lambdas/domain/payment-event-schema.ts) as JSON Schema draft 2020-12, each event type's envelope
 * and `data` under `$defs`, with the field descriptions below.
 */
import * as z from 'zod/mini';
import { toJSONSchema } from 'zod/v4/core';
import { ENVELOPE_SCHEMA_VERSION, PAYMENT_EVENT_TYPES, type EventEnvelope, type PaymentEventType } from '../../lambdas/domain/event-envelope';
import type { Payment } from '../../lambdas/domain/payment';
import {
  eventEnvelopeSchema,
  paymentEventDataSchemas,
  paymentEventEnvelopeSchemas,
  paymentSchema,
  virtualAccountSchema,
} from '../../lambdas/domain/payment-event-schema';

export type JsonSchema = Record<string, unknown>;

/** Repository path of the generated document. */
export const PAYMENT_EVENT_SCHEMA_PATH = 'schemas/payment-event.schema.json';

/** `payment.created` -> `PaymentCreated`: the stem of its `$defs` names. */
export function eventTypeName(type: PaymentEventType): string {
  return type
    .split('.')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/** `$defs` name of an event type's envelope, e.g. `PaymentCreatedEvent`. */
export const envelopeDefName = (type: PaymentEventType): string => `${eventTypeName(type)}Event`;

const EVENT_DESCRIPTIONS: Readonly<Record<PaymentEventType, string>> = {
  'payment.created':
    'A payment was created: READY for a card or easy-pay payment, WAITING_FOR_DEPOSIT with its virtualAccount for a virtual-account payment. Always sequence 1.',
  'payment.approved': 'The PG approved the payment: a card or easy-pay confirmation, or the deposit into the virtual account (depositedAt).',
  'payment.failed': 'The PG declined the confirmation (failureReason).',
  'payment.cancelled': 'The payment was cancelled; refundId when it had been approved and the PG refunded it.',
};

export const ENVELOPE_FIELD_DESCRIPTIONS: Readonly<Record<keyof EventEnvelope, string>> = {
  eventId: 'UUID of the event: the SQS FIFO deduplication id, the webhook-id, and the consumers\' idempotency key.',
  type: 'The event type; picks the shape of `data`.',
  aggregateType: 'Always `payment`.',
  aggregateId: 'The payment id: the FIFO message group id; equals `data.paymentId`.',
  sequence: '1, 2, 3, ... per payment, without gaps: equals `data.version`. Apply in this order; skip what was applied.',
  occurredAt: 'When the change was committed (ISO-8601, UTC).',
  schemaVersion: `The envelope's schema version (${ENVELOPE_SCHEMA_VERSION}); a breaking change gets a new one (see the README's schemaVersion policy).`,
  data: 'The payment after the change (a snapshot, not a diff). Fields may be added; ignore those you do not know.',
};

export const PAYMENT_FIELD_DESCRIPTIONS: Readonly<Record<keyof Payment, string>> = {
  paymentId: 'The payment id.',
  orderId: 'The caller\'s order id.',
  amount: 'Integer amount in the currency\'s minor unit.',
  currency: 'ISO 4217 code.',
  method: 'How the buyer pays.',
  status: 'The state after the change.',
  version: 'Events this payment has produced: the sequence of its latest event.',
  createdAt: 'When the payment was created.',
  updatedAt: 'When the payment last changed.',
  virtualAccount: 'The account the buyer deposits into (VIRTUAL_ACCOUNT payments only).',
  pgTransactionId: 'The PG\'s id of the payment.',
  approvedAt: 'When the payment was approved.',
  depositedAt: 'When the buyer\'s deposit reached the virtual account, as the PG reports it.',
  failedAt: 'When the PG declined the payment.',
  failureReason: 'Why the PG declined the payment.',
  cancelledAt: 'When the payment was cancelled.',
  cancelReason: 'The reason the caller gave for the cancellation.',
  refundId: 'The PG\'s reference of the refund of an approved payment that was cancelled.',
};

/** Descriptions by property name, added to every object property of that name that has none. */
export function describeProperties(node: unknown, descriptions: Readonly<Record<string, string>>): void {
  if (Array.isArray(node)) {
    for (const item of node) describeProperties(item, descriptions);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const properties = record.properties as Record<string, Record<string, unknown>> | undefined;
  if (properties !== undefined && typeof properties === 'object') {
    for (const [name, property] of Object.entries(properties)) {
      const description = descriptions[name];
      if (description !== undefined && property.description === undefined && property.$ref === undefined) property.description = description;
    }
  }
  for (const value of Object.values(record)) describeProperties(value, descriptions);
}

/** The schemas that get a `$defs` entry of their own, with their descriptions. */
function registry() {
  const entries = z.registry<{ id: string; title?: string; description?: string }>();
  entries.add(virtualAccountSchema, { id: 'VirtualAccount', description: PAYMENT_FIELD_DESCRIPTIONS.virtualAccount });
  for (const type of PAYMENT_EVENT_TYPES) {
    entries.add(paymentEventEnvelopeSchemas[type], { id: envelopeDefName(type), title: type, description: EVENT_DESCRIPTIONS[type] });
    entries.add(paymentEventDataSchemas[type], { id: `${eventTypeName(type)}Data`, description: `The payment after \`${type}\`.` });
  }
  return entries;
}

/** zod's JSON Schema of `schema`: as input (open objects stay open), failing on anything JSON Schema cannot say. */
export function jsonSchemaOf(schema: z.ZodMiniType, metadata?: ReturnType<typeof registry>): JsonSchema {
  return toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'throw',
    ...(metadata && { metadata }),
  }) as JsonSchema;
}

export function paymentEventJsonSchema(): JsonSchema {
  const { $schema, ...generated } = jsonSchemaOf(eventEnvelopeSchema, registry());
  const document: JsonSchema = {
    $schema,
    title: 'Payment event envelope',
    description:
      `Every payment event, as the SNS FIFO topic publishes it, each subscriber queue receives it and each webhook request carries it (the body). ` +
      `A union discriminated by \`type\`; \`data.paymentId\` always equals \`aggregateId\`. schemaVersion ${ENVELOPE_SCHEMA_VERSION}. ` +
      'Generated by `npm run schemas` from lambdas/domain/payment-event-schema.ts; do not edit.',
    ...generated,
  };
  describeProperties(document, { ...PAYMENT_FIELD_DESCRIPTIONS, ...ENVELOPE_FIELD_DESCRIPTIONS });
  return document;
}

/** The payment as the API answers it (OpenAPI component `Payment`). */
export function paymentJsonSchema(): JsonSchema {
  const { $schema: _schema, ...generated } = jsonSchemaOf(paymentSchema);
  const document = { description: 'A payment.', ...generated };
  describeProperties(document, PAYMENT_FIELD_DESCRIPTIONS);
  return document;
}
