/**
 * The contract every deployed function follows: it reads and validates its configuration from
 * an environment (a plain record: the Lambda's `process.env`, or the local runner's resolution of
 * the template), and a factory builds its handler from that configuration and a runtime (SDK
 * clients, clock, logger, metrics, tracer). The Lambda entry builds it once per cold start
 * (`platform/lambda-entry.ts`); the local runner, chaos and the benchmark build as many instances
 * as they need, each with its own configuration and clients, without touching `process.env`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Clock } from '../ports/clock';
import type { AwsClients } from './aws-clients';

/** Variables as a function sees them; never written to. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** What a handler is built with besides its configuration. */
export interface FunctionRuntime {
  readonly aws: AwsClients;
  readonly clock: Clock;
  /** This function instance's logger (Powertools). */
  readonly logger: Logger;
  /** This function instance's metrics; the handler's middy chain flushes them. */
  readonly metrics: Metrics;
  /** This function instance's X-Ray tracer (Powertools); records only on Lambda with active tracing. */
  readonly tracer: Tracer;
}

/** A deployed function: configuration reader + handler factory. */
export interface LambdaFunction<Config, Handler> {
  /**
   * Reads and validates the function's configuration.
   * @throws ConfigurationError naming the variable that is missing or malformed
   */
  readonly configFromEnv: (env: Environment) => Config;
  /** Builds the handler; called once per cold start (or per local instance). */
  readonly createHandler: (config: Config, runtime: FunctionRuntime) => Handler;
}

/** Keeps the config type flowing from `configFromEnv` into `createHandler`. */
export function defineFunction<Config, Handler>(definition: LambdaFunction<Config, Handler>): LambdaFunction<Config, Handler> {
  return definition;
}
