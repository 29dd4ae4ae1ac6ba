/**
 * What a Lambda entry file calls: the function's handler, built once per cold start from
 * `process.env` with clients the SDK configures from the environment.
 */
import { systemClock } from '../adapters/system-clock';
import { createAwsClients } from './aws-clients';
import type { LambdaFunction } from './function-runtime';
import { createObservability, observabilityConfigFromEnv } from './observability';

export function lambdaHandler<Config, Handler>(fn: LambdaFunction<Config, Handler>): Handler {
  const env = process.env;
  const config = fn.configFromEnv(env);
  return fn.createHandler(config, { aws: createAwsClients(), clock: systemClock, ...createObservability(observabilityConfigFromEnv(env)) });
}
