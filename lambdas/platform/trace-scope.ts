/**
 * The trace context of the invocation (or request) being handled, held in an AsyncLocalStorage so
 * that what a handler writes (the outbox items of its change) carries the context of the request
 * that caused it, even when one function instance handles several requests at once (the local
 * runner does). The handler enters the scope; adapters read it through the `TraceContextSource`
 * they were built with, never from a global.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { TraceContext, TraceIds } from '../domain/trace-context';

const scope = new AsyncLocalStorage<TraceContext>();

/** What an adapter is given to read the current trace context. */
export type TraceContextSource = () => TraceContext | undefined;

/** Runs `fn` with `context` as the current trace context (for everything it awaits). */
export function runInTrace<T>(context: TraceContext, fn: () => T): T {
  return scope.run(context, fn);
}

/** The trace context of the request being handled, if its handler entered one. */
export const currentTraceContext: TraceContextSource = () => scope.getStore();

const hex = (bytes: number): string => {
  for (;;) {
    const id = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(id)) return id;
  }
};

/** Random trace and span ids (W3C: never all zero). */
export const randomTraceIds: TraceIds = { traceId: () => hex(16), spanId: () => hex(8) };

/**
 * The invocation's X-Ray trace as a header (`Root=1-...;Sampled=0|1`), read by the tracer from the
 * Lambda environment, so a context started from it keeps X-Ray's sampling decision; `undefined` off Lambda.
 */
export function xrayHeaderOf(tracer: Pick<Tracer, 'getRootXrayTraceId' | 'isTraceSampled'>): string | undefined {
  const root = tracer.getRootXrayTraceId();
  return root === undefined || root === '' ? undefined : `Root=${root};Sampled=${tracer.isTraceSampled() ? '1' : '0'}`;
}
