/**
 * The trace context that follows one payment change from the API call to every consumer: a W3C
 * Trace Context (`traceparent: 00-<trace id>-<parent id>-<flags>`), the format any service in any
 * language continues with a stock library (OpenTelemetry's propagators, X-Ray's W3C ids).
 *
 * Where it comes from, first match wins: the caller's own `traceparent` header (the calling service
 * continues its trace through us); API Gateway's (or Lambda's) X-Ray header, converted (an X-Ray
 * trace id `1-5759e988-bd862e3fe1be46a994272793` is the W3C trace id `5759e988bd862e3fe1be46a994272793`);
 * else a new trace. It is stored with each outbox item, sent as the `traceparent` message attribute
 * of every broker message and as the `traceparent` header of every webhook request. The envelope
 * itself does not change.
 */

export interface TraceContext {
  /** 32 lowercase hex digits, not all zero: the id every hop of the journey logs. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero: the span that sent this context. */
  readonly parentId: string;
  /** The caller's sampling decision (flag 01). */
  readonly sampled: boolean;
}

/** Header (API, webhook) and message attribute name, lowercase as W3C Trace Context writes it. */
export const TRACEPARENT = 'traceparent';

const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * Reads a `traceparent` value; `undefined` when absent or malformed (a malformed header starts a new
 * trace instead of failing the request, as the W3C recommendation says). Version ff is invalid;
 * a later version is read by its first four fields.
 */
export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT_PATTERN.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return undefined;
  return { traceId, parentId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.parentId}-${context.sampled ? '01' : '00'}`;
}

const XRAY_ROOT = /(?:^|;)\s*Root=1-([0-9a-f]{8})-([0-9a-f]{24})\s*(?:;|$)/i;
const XRAY_PARENT = /(?:^|;)\s*Parent=([0-9a-f]{16})\s*(?:;|$)/i;
const XRAY_SAMPLED = /(?:^|;)\s*Sampled=([01])\s*(?:;|$)/i;

/**
 * Reads an X-Ray trace header (`Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=1`, as API Gateway
 * sends it in `X-Amzn-Trace-Id` and Lambda sets `_X_AMZN_TRACE_ID`). Without a `Parent`, the span
 * id comes from `newSpanId` (the root segment has not started one yet).
 */
export function traceContextFromXRay(header: string | undefined, newSpanId: () => string): TraceContext | undefined {
  if (header === undefined) return undefined;
  const root = XRAY_ROOT.exec(header);
  if (!root) return undefined;
  const traceId = `${root[1]}${root[2]}`.toLowerCase();
  if (ALL_ZERO.test(traceId)) return undefined;
  const parent = XRAY_PARENT.exec(header)?.[1]?.toLowerCase();
  return {
    traceId,
    parentId: parent !== undefined && !ALL_ZERO.test(parent) ? parent : newSpanId(),
    sampled: XRAY_SAMPLED.exec(header)?.[1] !== '0',
  };
}

/** The context a hop sends on: the same trace, this hop's own span id. */
export function childTraceContext(parent: TraceContext, spanId: string): TraceContext {
  return { ...parent, parentId: spanId };
}

/** Random ids for a new trace or span (crypto-strength randomness, supplied by the caller). */
export interface TraceIds {
  /** 32 lowercase hex digits. */
  traceId(): string;
  /** 16 lowercase hex digits. */
  spanId(): string;
}

/** Header lookup that ignores case, as HTTP header names do. */
function headerValue(headers: Readonly<Record<string, string | undefined>> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * The trace context of an incoming request: the caller's `traceparent` continued (a new span of
 * ours under it), else API Gateway's `X-Amzn-Trace-Id` or the function's X-Ray environment, else
 * a new sampled trace.
 */
export function requestTraceContext(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
  ids: TraceIds,
  xrayEnvironmentHeader?: string,
): TraceContext {
  const caller = parseTraceparent(headerValue(headers, TRACEPARENT));
  if (caller) return childTraceContext(caller, ids.spanId());
  const xray = traceContextFromXRay(headerValue(headers, 'x-amzn-trace-id'), ids.spanId) ?? traceContextFromXRay(xrayEnvironmentHeader, ids.spanId);
  return xray ?? { traceId: ids.traceId(), parentId: ids.spanId(), sampled: true };
}
