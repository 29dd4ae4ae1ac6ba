/**
 * apiHandler (lambdas/http-api/api-handler.ts) runs each route in its request's trace context and
 * logs the request's outcome with that trace id, also when one handler serves several requests at once.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PaymentNotFoundError } from '../../lambdas/domain/errors';
import type { TraceContext } from '../../lambdas/domain/trace-context';
import { apiHandler, type ApiRoute } from '../../lambdas/http-api/api-handler';
import { jsonResponse } from '../../lambdas/http-api/responses';
import type { FunctionRuntime } from '../../lambdas/platform/function-runtime';
import { currentTraceContext } from '../../lambdas/platform/trace-scope';
import { apiEvent, lambdaContext } from '../support/api-events';
import { testRuntime } from '../support/function-runtime';
import { captureLogLines } from '../support/log-capture';

const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_PARENT_ID = '00f067aa0ba902b7';
const CALLER_TRACEPARENT = `00-${CALLER_TRACE_ID}-${CALLER_PARENT_ID}-01`;
const OTHER_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const OTHER_TRACEPARENT = `00-${OTHER_TRACE_ID}-b7ad6b7169203331-00`;

let runtime: FunctionRuntime;
let lines: Array<Record<string, unknown>>;

beforeEach(() => {
  lines = captureLogLines();
  runtime = testRuntime({ logger: new Logger({ serviceName: 'api-trace-test', logLevel: 'INFO' }) });
});
afterEach(() => vi.restoreAllMocks());

/** A route that answers 200 after `delayOf(event)` ms, recording the trace context it saw before and after waiting. */
function recordingRoute(delayOf: (event: APIGatewayProxyEvent) => number = () => 0) {
  const seen: Array<{ path: string; before: TraceContext | undefined; after: TraceContext | undefined }> = [];
  const route: ApiRoute = async (event) => {
    const before = currentTraceContext();
    await sleep(delayOf(event));
    seen.push({ path: event.path, before, after: currentTraceContext() });
    return jsonResponse(200, { ok: true });
  };
  return { route, seen };
}

const invoke = (route: ApiRoute, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
  apiHandler(route, runtime)(event, lambdaContext as unknown as Context);

const linesWith = (message: string) => lines.filter((line) => line.message === message);

describe('apiHandler: the request’s trace context', () => {
  it('runs the route in the caller’s trace, as a new span of ours', async () => {
    const { route, seen } = recordingRoute();

    const response = await invoke(route, apiEvent({ method: 'GET', path: '/payments/pay-1', headers: { traceparent: CALLER_TRACEPARENT } }));

    expect(response.statusCode).toBe(200);
    const after = seen[0]?.after;
    expect(after).toMatchObject({ traceId: CALLER_TRACE_ID, sampled: true });
    expect(after?.parentId).toMatch(/^(?!0+$)[0-9a-f]{16}$/);
    expect(after?.parentId).not.toBe(CALLER_PARENT_ID);
    expect(seen[0]?.before).toBe(after);
  });

  it('reads the caller’s header whatever its case', async () => {
    const { route, seen } = recordingRoute();

    await invoke(route, apiEvent({ method: 'GET', path: '/payments/pay-1', headers: { Traceparent: OTHER_TRACEPARENT } }));

    expect(seen[0]?.after).toMatchObject({ traceId: OTHER_TRACE_ID, sampled: false });
  });

  it('gives two concurrent requests of one handler each its own caller’s trace, through the route’s awaits', async () => {
    const { route, seen } = recordingRoute((event) => (event.path.endsWith('/slow') ? 20 : 1));
    const handler = apiHandler(route, runtime);
    const context = lambdaContext as unknown as Context;

    await Promise.all([
      handler(apiEvent({ method: 'GET', path: '/payments/pay-a/slow', headers: { traceparent: CALLER_TRACEPARENT } }), context),
      handler(apiEvent({ method: 'GET', path: '/payments/pay-b', headers: { traceparent: OTHER_TRACEPARENT } }), context),
    ]);

    // The fast request finished while the slow one still waited: they overlapped.
    expect(seen.map(({ path }) => path)).toEqual(['/payments/pay-b', '/payments/pay-a/slow']);
    const traceOf = Object.fromEntries(seen.map(({ path, after }) => [path, after?.traceId]));
    expect(traceOf).toEqual({ '/payments/pay-a/slow': CALLER_TRACE_ID, '/payments/pay-b': OTHER_TRACE_ID });
    const loggedTraceOf = Object.fromEntries(linesWith('Request handled').map((line) => [line.path, line.traceId]));
    expect(loggedTraceOf).toEqual(traceOf);
  });

  it('takes API Gateway’s X-Amzn-Trace-Id when the caller sent no traceparent', async () => {
    const { route, seen } = recordingRoute();

    await invoke(
      route,
      apiEvent({ method: 'GET', path: '/payments/pay-1', headers: { 'X-Amzn-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0' } }),
    );

    expect(seen[0]?.after).toEqual({ traceId: '5759e988bd862e3fe1be46a994272793', parentId: '53995c3f42cd8ad8', sampled: false });
  });

  it('takes the function’s own X-Ray trace (read by the tracer) when the request carries none', async () => {
    vi.spyOn(runtime.tracer, 'getRootXrayTraceId').mockReturnValue('1-5759e988-bd862e3fe1be46a994272793');
    vi.spyOn(runtime.tracer, 'isTraceSampled').mockReturnValue(false);
    const { route, seen } = recordingRoute();

    await invoke(route, apiEvent({ method: 'GET', path: '/payments/pay-1' }));

    // X-Ray's sampling decision is kept.
    expect(seen[0]?.after).toMatchObject({ traceId: '5759e988bd862e3fe1be46a994272793', sampled: false });
  });

  it('starts a new trace for a request that carries none, another for each request', async () => {
    const { route, seen } = recordingRoute();
    const handler = apiHandler(route, runtime);

    await handler(apiEvent({ method: 'GET', path: '/payments/pay-1' }), lambdaContext as unknown as Context);
    await handler(apiEvent({ method: 'GET', path: '/payments/pay-1', headers: { traceparent: 'garbage' } }), lambdaContext as unknown as Context);

    const traceIds = seen.map(({ after }) => after?.traceId);
    for (const traceId of traceIds) expect(traceId).toMatch(/^(?!0+$)[0-9a-f]{32}$/);
    expect(new Set(traceIds).size).toBe(2);
  });

  it('leaves no trace context behind once the request is answered', async () => {
    await invoke(recordingRoute().route, apiEvent({ method: 'GET', path: '/payments/pay-1', headers: { traceparent: CALLER_TRACEPARENT } }));

    expect(currentTraceContext()).toBeUndefined();
  });
});

describe('apiHandler: the request’s log line', () => {
  it('names a created payment, which only the answer carries (POST /payments has no path parameter)', async () => {
    await invoke(
      async () => ({ statusCode: 201, body: JSON.stringify({ paymentId: 'pay-new', status: 'READY' }) }),
      apiEvent({ method: 'POST', path: '/payments', headers: { traceparent: CALLER_TRACEPARENT } }),
    );
    await invoke(async () => ({ statusCode: 200, body: 'not json' }), apiEvent({ method: 'GET', path: '/health' }));

    expect(linesWith('Request handled').map((line) => [line.path, line.paymentId])).toEqual([
      ['/payments', 'pay-new'],
      ['/health', undefined],
    ]);
  });

  it('logs Request handled at INFO with method, path, paymentId, status and the trace id the route ran in', async () => {
    const { route, seen } = recordingRoute();

    await invoke(
      route,
      apiEvent({ method: 'GET', path: '/payments/pay-1', pathParameters: { paymentId: 'pay-1' }, headers: { traceparent: CALLER_TRACEPARENT } }),
    );

    expect(linesWith('Request handled')).toEqual([
      expect.objectContaining({ level: 'INFO', method: 'GET', path: '/payments/pay-1', paymentId: 'pay-1', statusCode: 200, traceId: CALLER_TRACE_ID }),
    ]);
    expect(seen[0]?.after?.traceId).toBe(CALLER_TRACE_ID);
  });

  it('logs the trace id of a new trace on the line too', async () => {
    const { route, seen } = recordingRoute();

    await invoke(route, apiEvent({ method: 'GET', path: '/payments/pay-1' }));

    expect(linesWith('Request handled')[0]?.traceId).toBe(seen[0]?.after?.traceId);
  });

  it('logs Request refused with the status and the trace id when the route refuses the request', async () => {
    let traceOfRoute: TraceContext | undefined;
    const refusing: ApiRoute = async () => {
      traceOfRoute = currentTraceContext();
      await sleep(1);
      throw new PaymentNotFoundError('pay-404');
    };

    const response = await invoke(
      refusing,
      apiEvent({ method: 'GET', path: '/payments/pay-404', pathParameters: { paymentId: 'pay-404' }, headers: { traceparent: CALLER_TRACEPARENT } }),
    );

    expect(response.statusCode).toBe(404);
    expect(traceOfRoute?.traceId).toBe(CALLER_TRACE_ID);
    expect(linesWith('Request refused')).toEqual([
      expect.objectContaining({ level: 'INFO', method: 'GET', path: '/payments/pay-404', paymentId: 'pay-404', statusCode: 404, traceId: CALLER_TRACE_ID }),
    ]);
    expect(linesWith('Request handled')).toEqual([]);
  });

  it('logs an unexpected error with the trace id, and answers 500', async () => {
    const failing: ApiRoute = async () => {
      throw new Error('table gone');
    };

    const response = await invoke(failing, apiEvent({ method: 'POST', path: '/payments', headers: { traceparent: CALLER_TRACEPARENT } }));

    expect(response.statusCode).toBe(500);
    expect(linesWith('Unexpected error while handling the request')).toEqual([
      expect.objectContaining({ level: 'ERROR', method: 'POST', path: '/payments', traceId: CALLER_TRACE_ID }),
    ]);
  });
});
