/**
 * A `FunctionRuntime` for unit tests: what `platform/lambda-entry.ts` gives a handler on Lambda,
 * without reading `process.env`. The SDK clients get a fixed region and dummy credentials, so no
 * credential chain or region lookup runs; `aws-sdk-client-mock`'s `mockClient(SNSClient)` (etc.)
 * stubs the client classes' prototypes, so these new instances are mocked too. The logger is
 * silent and the metrics' own warnings go to a separate silent logger, so a test can spy on
 * `runtime.logger` / `runtime.metrics` and count exactly what the handler logs and records.
 * Metrics are not written out while POWERTOOLS_METRICS_DISABLED is set (vitest.config.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { systemClock } from '../../lambdas/adapters/system-clock';
import { createAwsClients } from '../../lambdas/platform/aws-clients';
import type { FunctionRuntime } from '../../lambdas/platform/function-runtime';

export const TEST_REGION = 'us-east-1';
export const TEST_SERVICE_NAME = 'unit-test';
export const TEST_METRICS_NAMESPACE = 'UnitTest';

/** A new runtime per call (its own clients, logger and metrics); `overrides` replace any part. */
export function testRuntime(overrides: Partial<FunctionRuntime> = {}): FunctionRuntime {
  return {
    aws: createAwsClients({ region: TEST_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    clock: systemClock,
    logger: new Logger({ serviceName: TEST_SERVICE_NAME, logLevel: 'SILENT' }),
    metrics: new Metrics({
      serviceName: TEST_SERVICE_NAME,
      namespace: TEST_METRICS_NAMESPACE,
      logger: new Logger({ serviceName: TEST_SERVICE_NAME, logLevel: 'SILENT' }),
    }),
    tracer: new Tracer({ serviceName: TEST_SERVICE_NAME, enabled: false }),
    ...overrides,
  };
}
