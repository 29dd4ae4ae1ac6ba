/**
 * Custom metrics the functions emit through Powertools Metrics (EMF), by the function that emits
 * them: the one definition the handlers write and the alarms and dashboard (lib/) read.
 * Powertools puts them in the function's `POWERTOOLS_METRICS_NAMESPACE` with the dimension
 * `service` = the function's `POWERTOOLS_SERVICE_NAME`; a webhook dispatcher's carry `subscriber` too.
 */
export const METRIC_DIMENSIONS = {
  service: 'service',
  /** The webhook subscriber's name, on every dispatcher metric. */
  subscriber: 'subscriber',
} as const;

export const OUTBOX_METRICS = {
  /** lambdas/functions/outbox-relay/outbox-relay.ts */
  relay: {
    eventsPublished: 'EventsPublished',
    publishFailures: 'PublishFailures',
    gapFilledEvents: 'GapFilledEvents',
    markPublishedFailures: 'MarkPublishedFailures',
    /** Publish time - `occurredAt`, milliseconds, one value per event. */
    relayLagMs: 'RelayLagMs',
  },
  /** lambdas/functions/outbox-sweeper/outbox-sweeper.ts */
  sweeper: {
    oldestPendingAgeSeconds: 'OldestPendingAgeSeconds',
    republished: 'SweeperRepublished',
    failures: 'SweeperFailures',
    markPublishedFailures: 'MarkPublishedFailures',
  },
  /** lambdas/functions/pg-reconciler/pg-reconciler.ts */
  reconciler: {
    /** Seconds the oldest PG attempt has been open after the run (0 when none). */
    oldestOpenAttemptAgeSeconds: 'OldestOpenPgAttemptAgeSeconds',
    reconciled: 'PgAttemptsReconciled',
    failures: 'PgReconcileFailures',
  },
  /** lambdas/consumer-guard/guarded-fifo-consumer.ts (the example consumer, and any consumer built on the guard) */
  consumer: {
    applied: 'EventsApplied',
    skipped: 'EventsSkipped',
    sequenceGaps: 'SequenceGaps',
    applyFailures: 'ApplyFailures',
    invalidMessages: 'InvalidMessages',
  },
  /** lambdas/functions/webhook-dispatcher/webhook-dispatcher.ts; with the `subscriber` dimension. */
  webhook: {
    delivered: 'WebhookDelivered',
    retries: 'WebhookRetries',
    deadLettered: 'WebhookDeadLettered',
    /** `occurredAt` to the 2xx answer, milliseconds. */
    deliveryLatencyMs: 'WebhookDeliveryLatency',
    /** One POST, milliseconds. */
    attemptDurationMs: 'WebhookAttemptDuration',
    alreadySettled: 'WebhookAlreadySettled',
    /** The attempt could not be made (a record or queue call failed before the POST). */
    dispatchErrors: 'WebhookDispatchErrors',
    /** A delivery record or DLQ step failed after the attempt. */
    deliveryRecordFailures: 'DeliveryRecordFailures',
  },
} as const;
