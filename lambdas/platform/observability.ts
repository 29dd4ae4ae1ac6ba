/**
 * Logger, metrics and tracer of one function instance (Powertools), configured by the function's own
 * environment: `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_LOG_LEVEL`,
 * which the CDK base function sets. The tracer records X-Ray subsegments only on Lambda with active
 * tracing (Powertools disables it elsewhere: tests, the local runner), where the function's
 * SDK clients are captured (lambda-entry.ts). The defaults only apply when a function runs without them
 * (unit tests, ad-hoc scripts). Metrics are disabled by `POWERTOOLS_METRICS_DISABLED` in the
 * process environment (Powertools reads it there only): the local runner's start-up sets it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Environment } from './function-runtime';

export { MetricUnit } from '@aws-lambda-powertools/metrics';

export interface ObservabilityConfig {
  readonly serviceName: string;
  readonly metricsNamespace: string;
  /** Powertools log level (DEBUG, INFO, WARN, ERROR, SILENT). @default Powertools' (INFO) */
  readonly logLevel?: string;
}

export const DEFAULT_SERVICE_NAME = 'payment-outbox';
export const DEFAULT_METRICS_NAMESPACE = 'PaymentOutbox';

export function observabilityConfigFromEnv(env: Environment): ObservabilityConfig {
  const logLevel = env.POWERTOOLS_LOG_LEVEL?.trim();
  return {
    serviceName: env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME,
    metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
    ...(logLevel && { logLevel }),
  };
}

export function createObservability(config: ObservabilityConfig): { logger: Logger; metrics: Metrics; tracer: Tracer } {
  const logger = new Logger({
    serviceName: config.serviceName,
    ...(config.logLevel !== undefined && { logLevel: config.logLevel as NonNullable<ConstructorParameters<typeof Logger>[0]>['logLevel'] }),
  });
  // Metrics' own warnings (e.g. nothing to publish) go through the function's logger, at its level.
  return {
    logger,
    metrics: new Metrics({ serviceName: config.serviceName, namespace: config.metricsNamespace, logger }),
    tracer: new Tracer({ serviceName: config.serviceName }),
  };
}

export { PG_MISCONFIGURED_LOG_FIELD } from './payment-gateways';

/**
 * Logged (level ERROR, with `pgMisconfigured: true`) whenever the PG refuses this service's own
 * credentials or request; the stack's PgMisconfigured alarm counts these lines.
 */
export const PG_MISCONFIGURED_LOG_MESSAGE = "The payment gateway refused this service's own request: check the PG secret key and configuration";
