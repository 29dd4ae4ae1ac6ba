/**
 * The middy chain every function's handler shares: an X-Ray subsegment for the invocation (the
 * response is not recorded: it holds payment data), the Lambda context on every log line, and the
 * invocation's metrics flushed at its end.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { FunctionRuntime } from './function-runtime';

export function observedHandler<Event, Result>(
  handle: (event: Event, context: Context) => Promise<Result>,
  runtime: Pick<FunctionRuntime, 'logger' | 'metrics' | 'tracer'>,
  options: {
    /** `false` for handlers that record no metrics (Powertools warns on every empty flush). @default true */
    readonly flushMetrics?: boolean;
  } = {},
) {
  const chain = middy<Event, Result>(handle)
    .use(captureLambdaHandler(runtime.tracer, { captureResponse: false }))
    .use(injectLambdaContext(runtime.logger));
  return options.flushMetrics === false ? chain : chain.use(logMetrics(runtime.metrics));
}
