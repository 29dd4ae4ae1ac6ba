/**
 * @payment-outbox/consumer: what a service that consumes payment events needs, from the code the
 * stack itself runs (nothing here is a copy; the build bundles these modules into dist/index.js):
 * - the envelope types and `parseEvent`, the validator of the published contract
 *   (schemas/payment-event.schema.json);
 * - the guarded FIFO consumer: inbox by event id, sequence check per payment, partial batch responses;
 * - `verifyWebhook`, Standard Webhooks verification of the stack's webhook requests;
 * - the trace context (W3C `traceparent`) each message and webhook request carries, to continue
 *   the trace of the API call that caused the event (`messageTraceContext`, `childTraceContext`).
 * No AWS SDK: the DynamoDB inbox is in `@payment-outbox/consumer/dynamodb` and takes the caller's client.
 */
export { parseEnvelope as parseEvent, InvalidEnvelopeError, SequenceGapError, decideSequence, type SequenceDecision } from '../../../lambdas/domain/consumer-rules';
export { paymentProjectionEffect, type PaymentProjectionEffect } from '../../../lambdas/domain/consumer-rules';
export { ENVELOPE_SCHEMA_VERSION, PAYMENT_EVENT_TYPES, type EventEnvelope, type PaymentEventType } from '../../../lambdas/domain/event-envelope';
export type { Payment, PaymentStatus, PaymentMethod, VirtualAccount } from '../../../lambdas/domain/payment';
export { guardedFifoConsumer, messageTraceContext, type ApplyContext, type GuardedFifoConsumerOptions, type GuardedFifoHandler } from '../../../lambdas/consumer-guard';
export { childTraceContext, formatTraceparent, parseTraceparent, TRACEPARENT, type TraceContext } from '../../../lambdas/consumer-guard';
export { ApplyContentionError, type ApplyOutcome, type InboxCommitResult, type InboxStore } from '../../../lambdas/consumer-guard';
export {
  verifyWebhook,
  STANDARD_WEBHOOK_HEADERS,
  WEBHOOK_HEADERS,
  DEFAULT_TOLERANCE_SECONDS,
  WebhookSecretFormatError,
  type VerifyWebhookInput,
  type VerifyWebhookResult,
  type WebhookRejection,
  type WebhookHeaders,
  type WebhookEventFields,
} from '../../../lambdas/domain/webhook-signature';
