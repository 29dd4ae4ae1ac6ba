/**
 * Logger and metrics, one instance each per Lambda module (created at cold start).
 *
 * The service name comes from `POWERTOOLS_SERVICE_NAME` and the metrics namespace from
 * `POWERTOOLS_METRICS_NAMESPACE`, which the CDK base function sets; the defaults below only
 * apply when a handler runs without them (unit tests, ad-hoc scripts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'payment-outbox';

export const logger = new Logger({ serviceName });

export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'PaymentOutbox',
});

export { MetricUnit };
