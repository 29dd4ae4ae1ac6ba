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
  /** ARN of the Secrets Manager secret holding the PG webhook HMAC key (deployed stack). */
  pgWebhookSecretArn: 'PG_WEBHOOK_SECRET_ARN',
  /** The PG webhook HMAC key itself (local mode and tests); takes precedence over the ARN. */
  pgWebhookSecret: 'PG_WEBHOOK_SECRET',
} as const;
