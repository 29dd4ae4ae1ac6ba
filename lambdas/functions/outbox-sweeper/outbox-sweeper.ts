/**
 * Outbox sweeper (scheduled): republishes events still pending after the grace period to the
 * SNS FIFO topic `payment-events.fifo` (every subscriber), marks them published, and reports the age of the oldest pending event.
 * Returns the run's summary (the local runner logs it).
 */
import { ENV } from '../../platform/env-names';
import { defineFunction, type Environment, type FunctionRuntime } from '../../platform/function-runtime';
import { observedHandler } from '../../platform/observed-handler';
import { eventTraceId } from '../../domain/event-envelope';
import { MetricUnit } from '../../platform/observability';
import { positiveIntEnv } from '../../platform/required-env';
import { sweepPending, type SweepSummary } from '../../use-cases/sweep-pending';
import { createOutboxPublication, outboxPublicationConfigFromEnv, type OutboxPublicationConfig } from '../shared/outbox-publication';
import { OUTBOX_METRICS } from '../../platform/metric-names';

/** Seconds an event may stay pending before the sweeper takes it, unless SWEEPER_GRACE_SECONDS says otherwise. */
const DEFAULT_SWEEPER_GRACE_SECONDS = 120;
/** Index items one run reads, unless SWEEPER_MAX_EVENTS says otherwise. */
const DEFAULT_SWEEPER_MAX_EVENTS = 1000;

export interface OutboxSweeperConfig extends OutboxPublicationConfig {
  readonly graceSeconds: number;
  /** Most pending index items one run reads. */
  readonly limit: number;
}

export function outboxSweeperConfigFromEnv(env: Environment): OutboxSweeperConfig {
  return {
    ...outboxPublicationConfigFromEnv(env),
    graceSeconds: positiveIntEnv(ENV.sweeperGraceSeconds, DEFAULT_SWEEPER_GRACE_SECONDS, env),
    limit: positiveIntEnv(ENV.sweeperMaxEvents, DEFAULT_SWEEPER_MAX_EVENTS, env),
  };
}

export function createOutboxSweeperHandler(config: OutboxSweeperConfig, runtime: FunctionRuntime) {
  const { logger, metrics } = runtime;
  const { graceSeconds, limit } = config;
  const { clock, publisher, ledger } = createOutboxPublication(config, runtime);

  const sweep = async (): Promise<SweepSummary> => {
    const report = await sweepPending({ now: clock.now(), graceSeconds, limit }, { ledger, publisher });

    metrics.addMetric(OUTBOX_METRICS.sweeper.oldestPendingAgeSeconds, MetricUnit.Seconds, report.oldestPendingAgeSeconds);
    metrics.addMetric(OUTBOX_METRICS.sweeper.republished, MetricUnit.Count, report.republished);
    metrics.addMetric(OUTBOX_METRICS.sweeper.failures, MetricUnit.Count, report.failed);
    metrics.addMetric(OUTBOX_METRICS.sweeper.markPublishedFailures, MetricUnit.Count, report.markFailures);

    for (const event of report.republishedEvents) {
      const traceId = eventTraceId(event);
      logger.info('Republished a pending event', { eventId: event.eventId, paymentId: event.aggregateId, sequence: event.sequence, ...(traceId !== undefined && { traceId }) });
    }
    for (const failure of report.failures) {
      logger.warn('Pending event not republished; the next run tries again', {
        ...(failure.eventId !== undefined && { eventId: failure.eventId }),
        paymentId: failure.aggregateId,
        ...(failure.sequence !== undefined && { sequence: failure.sequence }),
        reason: failure.reason,
      });
    }
    for (const { event, reason, error } of report.markFailureDetails) {
      logger.error('Republished event could not be marked published; the next run may send it again', {
        eventId: event.eventId,
        paymentId: event.aggregateId,
        sequence: event.sequence,
        reason,
        error: error as Error,
      });
    }

    const summary: SweepSummary = {
      scanned: report.scanned,
      republished: report.republished,
      failed: report.failed,
      oldestPendingAgeSeconds: report.oldestPendingAgeSeconds,
      markFailures: report.markFailures,
    };
    logger.info('Outbox sweep finished', { ...summary, graceSeconds, limit });
    return summary;
  };

  return observedHandler(sweep, runtime);
}

export const outboxSweeper = defineFunction({ configFromEnv: outboxSweeperConfigFromEnv, createHandler: createOutboxSweeperHandler });
