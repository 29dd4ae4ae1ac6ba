import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { PgMisconfiguredError, StoreUnavailableError } from '../domain/errors';
import { requestTraceContext, type TraceContext } from '../domain/trace-context';
import type { FunctionRuntime } from '../platform/function-runtime';
import { PG_MISCONFIGURED_LOG_MESSAGE } from '../platform/observability';
import { observedHandler } from '../platform/observed-handler';
import { randomTraceIds, runInTrace, xrayHeaderOf } from '../platform/trace-scope';
import { mapError } from './error-mapper';

export type ApiRoute = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The trace context of each request being handled, for the lines logged after the route returned or threw. */
type RequestTraces = WeakMap<APIGatewayProxyEvent, TraceContext>;

/** Turns any error into the API's `{"error": {code, message}}` body; a 500 only for our own faults. */
function httpErrors(logger: Logger, traces: RequestTraces): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    after: async (request) => {
      const keys = requestKeys(request.event, traces);
      // A create names its new payment only in the answer.
      const created = keys.paymentId === undefined ? paymentIdOf(request.response?.body) : undefined;
      logger.info('Request handled', { ...keys, ...(created !== undefined && { paymentId: created }), statusCode: request.response?.statusCode });
    },
    onError: async (request) => {
      const { response, unexpected } = mapError(request.error);
      const keys = requestKeys(request.event, traces);
      if (request.error instanceof PgMisconfiguredError) logger.error(PG_MISCONFIGURED_LOG_MESSAGE, { ...keys, pgMisconfigured: true, detail: request.error.detail });
      else if (unexpected) logger.error('Unexpected error while handling the request', { ...keys, error: request.error });
      else if (request.error instanceof StoreUnavailableError) logger.warn('Payment store unavailable; the caller is told to retry', { ...keys, statusCode: response.statusCode, reason: request.error.message });
      else logger.info('Request refused', { ...keys, statusCode: response.statusCode, reason: request.error?.message });
      request.response = response;
    },
  };
}

function paymentIdOf(body: string | undefined): string | undefined {
  if (body === undefined || !body.startsWith('{')) return undefined;
  try {
    const { paymentId } = JSON.parse(body) as { paymentId?: unknown };
    return typeof paymentId === 'string' ? paymentId : undefined;
  } catch {
    return undefined;
  }
}

function requestKeys(event: APIGatewayProxyEvent, traces: RequestTraces): { paymentId?: string; traceId?: string; method: string; path: string } {
  const trace = traces.get(event);
  return {
    method: event.httpMethod,
    path: event.path,
    ...(event.pathParameters?.paymentId !== undefined && { paymentId: event.pathParameters.paymentId }),
    ...(trace && { traceId: trace.traceId }),
  };
}

/**
 * Wraps a route function in the chain every API handler shares. The route runs in the request's
 * trace context (the caller's `traceparent`, else API Gateway's X-Ray header; see
 * domain/trace-context.ts), which the payment store writes on the outbox items of the change.
 */
export function apiHandler(route: ApiRoute, runtime: Pick<FunctionRuntime, 'logger' | 'metrics' | 'tracer'>) {
  const traces: RequestTraces = new WeakMap();
  const traced = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    // API Gateway sends its X-Ray trace as X-Amzn-Trace-Id; Lambda's own (the tracer reads it) is the fallback.
    const trace = requestTraceContext(event.headers, randomTraceIds, xrayHeaderOf(runtime.tracer));
    traces.set(event, trace);
    // Searchable in X-Ray (annotation.traceId, annotation.paymentId) when the caller's trace is not X-Ray's own.
    runtime.tracer.putAnnotation('traceId', trace.traceId);
    if (event.pathParameters?.paymentId !== undefined) runtime.tracer.putAnnotation('paymentId', event.pathParameters.paymentId);
    return runInTrace(trace, () => route(event));
  };
  return observedHandler(traced, runtime, { flushMetrics: false }).use(httpErrors(runtime.logger, traces));
}

export type ApiHandler = ReturnType<typeof apiHandler>;
