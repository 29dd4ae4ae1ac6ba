/**
 * Environment variables the handlers read. The CDK stack sets them (lib/), the local
 * runner resolves them from the synthesized template (local/); both import these names.
 */
export const ENV = {
  paymentsTable: 'PAYMENTS_TABLE_NAME',
  outboxTable: 'OUTBOX_TABLE_NAME',
  idempotencyTable: 'IDEMPOTENCY_TABLE_NAME',
  inboxTable: 'INBOX_TABLE_NAME',
  outboxRetentionDays: 'OUTBOX_RETENTION_DAYS',
  /** Days the example consumer keeps its inbox (event#) items; optional, default 30. */
  inboxRetentionDays: 'INBOX_RETENTION_DAYS',
  paymentEventsQueueUrl: 'PAYMENT_EVENTS_QUEUE_URL',
  /** Outbox sweeper: seconds an event may stay pending before the sweeper republishes it; optional, default 120. */
  sweeperGraceSeconds: 'SWEEPER_GRACE_SECONDS',
  /** Outbox sweeper: most pending index items one run reads; optional, default 1000. */
  sweeperMaxEvents: 'SWEEPER_MAX_EVENTS',
  /** ARN of the Secrets Manager secret holding the PG callback HMAC key (deployed stack). */
  pgCallbackSecretArn: 'PG_CALLBACK_SECRET_ARN',
  /** The PG callback HMAC key itself (local mode and tests); takes precedence over the ARN. */
  pgCallbackSecret: 'PG_CALLBACK_SECRET',
  /** PG attempts table (PK paymentId, SK operation; sparse GSI OpenAttempts on openShard + startedAt): confirm, cancel, reconciler. */
  pgAttemptsTable: 'PG_ATTEMPTS_TABLE_NAME',
  /** Reconciler: seconds a PG attempt may stay open before it is reconciled; optional, default 120. */
  reconcilerGraceSeconds: 'RECONCILER_GRACE_SECONDS',
  /** Reconciler: most open attempts one run reads; optional, default 200. */
  reconcilerMaxAttempts: 'RECONCILER_MAX_ATTEMPTS',
  /** The sandbox PG's own ledger (PK pk): what the stand-in PG charged, refunded and answered per idempotency key. */
  sandboxPgLedgerTable: 'SANDBOX_PG_LEDGER_TABLE_NAME',
  /** The PG the API functions and the reconciler call: `sandbox` (default when unset) or `toss`. */
  paymentGateway: 'PAYMENT_GATEWAY',
  /** Toss Payments: the API's base URL; optional, default https://api.tosspayments.com. */
  tossApiBaseUrl: 'TOSS_API_BASE_URL',
  /** ARN of the Secrets Manager secret holding the Toss secret key (deployed stack). */
  tossSecretKeyArn: 'TOSS_SECRET_KEY_ARN',
  /** The Toss secret key itself (local mode and tests); takes precedence over the ARN. */
  tossSecretKey: 'TOSS_SECRET_KEY',
  /** Toss Payments: milliseconds to wait for an answer before the call is PG_UNAVAILABLE; optional, default 7000 (under the API functions' 10 s). */
  tossTimeoutMs: 'TOSS_TIMEOUT_MS',
  /** Toss Payments: the bank code virtual accounts are issued at; optional, default `20` (Woori Bank). */
  tossVirtualAccountBank: 'TOSS_VIRTUAL_ACCOUNT_BANK',
  /** Toss Payments: hours a virtual account accepts a deposit; optional, default 72. */
  tossVirtualAccountValidHours: 'TOSS_VIRTUAL_ACCOUNT_VALID_HOURS',
  /** ARN of the SNS FIFO topic `payment-events.fifo` the relay publishes to (fan-out to the subscribers' queues). */
  paymentEventsTopicArn: 'PAYMENT_EVENTS_TOPIC_ARN',
  /** The subscriber list as JSON (`serializeSubscribers`, lambdas/domain/subscribers.ts): list-payment-deliveries. */
  subscribersJson: 'SUBSCRIBERS_JSON',
  /** Deliveries table (PK paymentId, SK `<subscriber>#<sequence, 10 digits>`): webhook dispatchers, list-payment-deliveries. */
  deliveriesTable: 'DELIVERIES_TABLE_NAME',
  /** Days a delivery record is kept (TTL attribute `expiresAt`); optional, default 30. */
  deliveriesRetentionDays: 'DELIVERIES_RETENTION_DAYS',
  /** Webhook dispatcher: the subscriber it delivers for (kebab case). */
  subscriberName: 'SUBSCRIBER_NAME',
  /** Webhook dispatcher: the subscriber's FIFO queue it consumes (visibility changes for backoff). */
  subscriberQueueUrl: 'SUBSCRIBER_QUEUE_URL',
  /** Webhook dispatcher: the subscriber's FIFO DLQ it dead-letters into. */
  subscriberDlqUrl: 'SUBSCRIBER_DLQ_URL',
  /** Webhook dispatcher: the URL it POSTs events to. */
  webhookUrl: 'WEBHOOK_URL',
  /** ARN of the Secrets Manager secret holding the subscriber's webhook signing key (deployed stack). */
  webhookSecretArn: 'WEBHOOK_SECRET_ARN',
  /** The webhook signing key itself (local mode and tests); takes precedence over the ARN. */
  webhookSecret: 'WEBHOOK_SECRET',
  /** Webhook dispatcher: seconds per request, 1-29; optional, default 5. */
  webhookTimeoutSeconds: 'WEBHOOK_TIMEOUT_SECONDS',
  /** Webhook dispatcher: attempts before dead-lettering, 1-20; optional, default 8. */
  webhookMaxAttempts: 'WEBHOOK_MAX_ATTEMPTS',
  /** Webhook dispatcher: first backoff bound in seconds; optional, default 2. */
  webhookBackoffBaseSeconds: 'WEBHOOK_BACKOFF_BASE_SECONDS',
  /** Webhook dispatcher: largest delay in seconds (Retry-After included); optional, default 300. */
  webhookBackoffMaxSeconds: 'WEBHOOK_BACKOFF_MAX_SECONDS',
} as const;
