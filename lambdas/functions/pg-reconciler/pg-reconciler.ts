/**
 * PG reconciler (scheduled): closes PG attempts left open past the grace period by asking the PG
 * what happened, and commits the outcome with its event (lambdas/use-cases/reconcile-attempts.ts).
 * Reports the age of the oldest attempt still open, which the stack alarms on. Returns the run's
 * summary (the local runner logs it).
 */
import { PgMisconfiguredError } from '../../domain/errors';
import { ENV } from '../../platform/env-names';
import { defineFunction, type Environment, type FunctionRuntime } from '../../platform/function-runtime';
import { observedHandler } from '../../platform/observed-handler';
import { randomTraceIds, runInTrace, xrayHeaderOf } from '../../platform/trace-scope';
import { requestTraceContext } from '../../domain/trace-context';
import { OUTBOX_METRICS } from '../../platform/metric-names';
import { MetricUnit, PG_MISCONFIGURED_LOG_MESSAGE } from '../../platform/observability';
import { positiveIntEnv, requiredEnv } from '../../platform/required-env';
import { reconcileAttempts } from '../../use-cases/reconcile-attempts';
import { createPaymentService, paymentApiConfigFromEnv, type PaymentApiConfig } from '../shared/payment-api';

/** Beyond the confirm/cancel functions' timeout and the PG's, so no request of the attempt is still in flight. */
export const DEFAULT_RECONCILER_GRACE_SECONDS = 120;
const DEFAULT_RECONCILER_MAX_ATTEMPTS = 200;

export interface PgReconcilerConfig extends PaymentApiConfig {
  readonly graceSeconds: number;
  readonly limit: number;
}

export function pgReconcilerConfigFromEnv(env: Environment): PgReconcilerConfig {
  requiredEnv(ENV.pgAttemptsTable, env);
  const config = paymentApiConfigFromEnv(env);
  // The sandbox answers lookups from its ledger; Toss from its API.
  if (config.paymentGateway.kind === 'sandbox') requiredEnv(ENV.sandboxPgLedgerTable, env);
  return {
    ...config,
    graceSeconds: positiveIntEnv(ENV.reconcilerGraceSeconds, DEFAULT_RECONCILER_GRACE_SECONDS, env),
    limit: positiveIntEnv(ENV.reconcilerMaxAttempts, DEFAULT_RECONCILER_MAX_ATTEMPTS, env),
  };
}

export interface ReconcileSummary {
  readonly reconciled: number;
  readonly failed: number;
  readonly stillOpen: number;
  readonly oldestOpenAgeSeconds: number;
}

export function createPgReconcilerHandler(config: PgReconcilerConfig, runtime: FunctionRuntime) {
  const { logger, metrics } = runtime;
  const service = createPaymentService(config, runtime);

  const reconcile = async (): Promise<ReconcileSummary> => {
    // A run is its own trace (the invocation's X-Ray trace on Lambda): the events it commits carry it.
    const trace = requestTraceContext(undefined, randomTraceIds, xrayHeaderOf(runtime.tracer));
    const report = await runInTrace(trace, () =>
      reconcileAttempts({ now: runtime.clock.now(), graceSeconds: config.graceSeconds, limit: config.limit }, service),
    );
    let reconciled = 0;
    let failed = 0;
    for (const result of report.results) {
      const keys = { paymentId: result.attempt.paymentId, operation: result.attempt.operation, pgIdempotencyKey: result.attempt.pgIdempotencyKey, traceId: trace.traceId };
      if ('failed' in result) {
        failed += 1;
        if (result.error instanceof PgMisconfiguredError) logger.error(PG_MISCONFIGURED_LOG_MESSAGE, { ...keys, pgMisconfigured: true, detail: result.error.detail });
        else logger.warn('PG attempt not reconciled; the next run tries again', { ...keys, reason: result.failed, ...(result.error instanceof Error && { error: result.error }) });
      } else {
        reconciled += 1;
        logger.info('PG attempt reconciled', { ...keys, outcome: result.outcome, committed: result.committed });
      }
    }
    metrics.addMetric(OUTBOX_METRICS.reconciler.oldestOpenAttemptAgeSeconds, MetricUnit.Seconds, report.oldestOpenAgeSeconds);
    metrics.addMetric(OUTBOX_METRICS.reconciler.reconciled, MetricUnit.Count, reconciled);
    metrics.addMetric(OUTBOX_METRICS.reconciler.failures, MetricUnit.Count, failed);
    const summary = { reconciled, failed, stillOpen: report.open, oldestOpenAgeSeconds: report.oldestOpenAgeSeconds };
    logger.info('PG reconciliation finished', { ...summary, graceSeconds: config.graceSeconds });
    return summary;
  };

  return observedHandler(reconcile, runtime);
}

export const pgReconciler = defineFunction({ configFromEnv: pgReconcilerConfigFromEnv, createHandler: createPgReconcilerHandler });
