/**
 * The W3C Trace Context rules of lambdas/domain/trace-context.ts: which `traceparent` values are
 * read (and which start a new trace instead), how an X-Ray header becomes a W3C context, and which
 * source an incoming request's context comes from.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  childTraceContext,
  formatTraceparent,
  parseTraceparent,
  requestTraceContext,
  traceContextFromXRay,
  TRACEPARENT,
  type TraceContext,
  type TraceIds,
} from '../../lambdas/domain/trace-context';

/** The example of the W3C Trace Context recommendation. */
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const SAMPLED = `00-${TRACE_ID}-${PARENT_ID}-01`;

/** The example of the X-Ray documentation: its W3C trace id is the root without `1-` and the dash. */
const XRAY_HEADER = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const XRAY_TRACE_ID = '5759e988bd862e3fe1be46a994272793';
const XRAY_PARENT_ID = '53995c3f42cd8ad8';

const NEW_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const NEW_SPAN_ID = 'b7ad6b7169203331';

/** Ids that are recognisably ours, with call counts. */
function fixedIds() {
  return { traceId: vi.fn(() => NEW_TRACE_ID), spanId: vi.fn(() => NEW_SPAN_ID) } satisfies TraceIds;
}

describe('parseTraceparent', () => {
  it('reads a sampled context (flags 01)', () => {
    expect(parseTraceparent(SAMPLED)).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, sampled: true });
  });

  it('reads a context the caller did not sample (flags 00)', () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-00`)).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, sampled: false });
  });

  it('takes the sampled decision from the lowest flag bit only', () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-03`)?.sampled).toBe(true);
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-02`)?.sampled).toBe(false);
  });

  it('normalises uppercase hex to the lowercase ids every hop logs', () => {
    expect(parseTraceparent(SAMPLED.toUpperCase())).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, sampled: true });
  });

  it('ignores whitespace around the header value', () => {
    expect(parseTraceparent(`  ${SAMPLED} `)).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, sampled: true });
  });

  it('rejects version 00 with fields after the flags (version 00 has exactly four)', () => {
    expect(parseTraceparent(`${SAMPLED}-extra`)).toBeUndefined();
    expect(parseTraceparent(`${SAMPLED}-`)).toBeUndefined();
  });

  it('reads a later version by its first four fields, extra fields and all', () => {
    expect(parseTraceparent(`cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`)).toEqual({
      traceId: TRACE_ID,
      parentId: PARENT_ID,
      sampled: true,
    });
    expect(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-00`)).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, sampled: false });
  });

  it('rejects version ff, which W3C reserves as invalid', () => {
    expect(parseTraceparent(`ff-${TRACE_ID}-${PARENT_ID}-01`)).toBeUndefined();
  });

  it('rejects an all-zero trace id or parent id', () => {
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT_ID}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${TRACE_ID}-${'0'.repeat(16)}-01`)).toBeUndefined();
  });

  it.each([
    ['a one-digit version', `0-${TRACE_ID}-${PARENT_ID}-01`],
    ['a 31-digit trace id', `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`],
    ['a 33-digit trace id', `00-${TRACE_ID}a-${PARENT_ID}-01`],
    ['a 15-digit parent id', `00-${TRACE_ID}-${PARENT_ID.slice(1)}-01`],
    ['a 17-digit parent id', `00-${TRACE_ID}-${PARENT_ID}a-01`],
    ['one-digit flags', `00-${TRACE_ID}-${PARENT_ID}-1`],
    ['three-digit flags', `00-${TRACE_ID}-${PARENT_ID}-011`],
    ['a non-hex digit', `00-${TRACE_ID.slice(0, 31)}g-${PARENT_ID}-01`],
    ['a missing field', `00-${TRACE_ID}-01`],
    ['underscores for dashes', `00_${TRACE_ID}_${PARENT_ID}_01`],
    ['an empty value', ''],
  ])('rejects %s', (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('answers undefined when there is no header', () => {
    expect(parseTraceparent(undefined)).toBeUndefined();
  });
});

describe('formatTraceparent', () => {
  it('writes version 00 with flags 01 or 00', () => {
    expect(formatTraceparent({ traceId: TRACE_ID, parentId: PARENT_ID, sampled: true })).toBe(SAMPLED);
    expect(formatTraceparent({ traceId: TRACE_ID, parentId: PARENT_ID, sampled: false })).toBe(`00-${TRACE_ID}-${PARENT_ID}-00`);
  });

  it('round-trips with parseTraceparent', () => {
    const contexts: TraceContext[] = [
      { traceId: TRACE_ID, parentId: PARENT_ID, sampled: true },
      { traceId: XRAY_TRACE_ID, parentId: XRAY_PARENT_ID, sampled: false },
    ];
    for (const context of contexts) expect(parseTraceparent(formatTraceparent(context))).toEqual(context);
    for (const value of [SAMPLED, `00-${TRACE_ID}-${PARENT_ID}-00`]) {
      const parsed = parseTraceparent(value);
      expect(parsed && formatTraceparent(parsed)).toBe(value);
    }
  });

  it('sends a later version on as version 00, the one it speaks', () => {
    const parsed = parseTraceparent(`cc-${TRACE_ID}-${PARENT_ID}-01-more`);
    expect(parsed && formatTraceparent(parsed)).toBe(SAMPLED);
  });
});

describe('traceContextFromXRay', () => {
  it('converts the root to a W3C trace id and keeps the parent and the sampling decision', () => {
    const newSpanId = vi.fn(() => NEW_SPAN_ID);

    expect(traceContextFromXRay(XRAY_HEADER, newSpanId)).toEqual({ traceId: XRAY_TRACE_ID, parentId: XRAY_PARENT_ID, sampled: true });
    expect(newSpanId).not.toHaveBeenCalled();
  });

  it('reads Sampled=0 as not sampled', () => {
    expect(traceContextFromXRay(XRAY_HEADER.replace('Sampled=1', 'Sampled=0'), () => NEW_SPAN_ID)?.sampled).toBe(false);
  });

  it('takes a new span id when the header has no Parent (the root segment has none yet)', () => {
    const newSpanId = vi.fn(() => NEW_SPAN_ID);

    expect(traceContextFromXRay('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1', newSpanId)).toEqual({
      traceId: XRAY_TRACE_ID,
      parentId: NEW_SPAN_ID,
      sampled: true,
    });
    expect(newSpanId).toHaveBeenCalledTimes(1);
  });

  it('takes a new span id for an all-zero Parent', () => {
    expect(traceContextFromXRay(XRAY_HEADER.replace(XRAY_PARENT_ID, '0'.repeat(16)), () => NEW_SPAN_ID)?.parentId).toBe(NEW_SPAN_ID);
  });

  it('reads the fields in any order, with Lambda’s Lineage field, in any case of hex', () => {
    const header = `Lineage=a87bd80c:0;Sampled=0;Parent=${XRAY_PARENT_ID.toUpperCase()};Root=1-5759E988-BD862E3FE1BE46A994272793`;

    expect(traceContextFromXRay(header, () => NEW_SPAN_ID)).toEqual({ traceId: XRAY_TRACE_ID, parentId: XRAY_PARENT_ID, sampled: false });
  });

  it('counts a header without a sampling decision as sampled, like a new trace', () => {
    expect(traceContextFromXRay('Root=1-5759e988-bd862e3fe1be46a994272793', () => NEW_SPAN_ID)?.sampled).toBe(true);
  });

  it.each([
    ['garbage', 'garbage'],
    ['an empty header', ''],
    ['a root of another version', 'Root=2-5759e988-bd862e3fe1be46a994272793;Sampled=1'],
    ['a short root', 'Root=1-5759e988-bd862e3fe1be46a99427279;Sampled=1'],
    ['a non-hex root', 'Root=1-5759e988-bd862e3fe1be46a99427279z;Sampled=1'],
    ['an all-zero root', `Root=1-00000000-${'0'.repeat(24)};Parent=${XRAY_PARENT_ID}`],
    ['only a Parent', `Parent=${XRAY_PARENT_ID};Sampled=1`],
  ])('answers undefined for %s', (_, header) => {
    expect(traceContextFromXRay(header, () => NEW_SPAN_ID)).toBeUndefined();
  });

  it('answers undefined when there is no header', () => {
    expect(traceContextFromXRay(undefined, () => NEW_SPAN_ID)).toBeUndefined();
  });
});

describe('childTraceContext', () => {
  it('keeps the trace and its sampling decision, with this hop’s span as the parent', () => {
    const parent: TraceContext = { traceId: TRACE_ID, parentId: PARENT_ID, sampled: false };

    expect(childTraceContext(parent, NEW_SPAN_ID)).toEqual({ traceId: TRACE_ID, parentId: NEW_SPAN_ID, sampled: false });
    expect(parent.parentId).toBe(PARENT_ID);
  });
});

describe('requestTraceContext', () => {
  const callerHeaders = { [TRACEPARENT]: `00-${TRACE_ID}-${PARENT_ID}-00`, 'X-Amzn-Trace-Id': XRAY_HEADER };

  it('continues the caller’s traceparent: the same trace, a new span of ours, the caller’s sampling decision', () => {
    const ids = fixedIds();

    const context = requestTraceContext(callerHeaders, ids, 'Root=1-11111111-111111111111111111111111');

    expect(context).toEqual({ traceId: TRACE_ID, parentId: NEW_SPAN_ID, sampled: false });
    expect(context.parentId).not.toBe(PARENT_ID);
    expect(ids.traceId).not.toHaveBeenCalled();
  });

  it.each(['traceparent', 'Traceparent', 'TRACEPARENT', 'TraceParent'])('finds the caller’s header written %s', (name) => {
    expect(requestTraceContext({ [name]: SAMPLED }, fixedIds())).toEqual({ traceId: TRACE_ID, parentId: NEW_SPAN_ID, sampled: true });
  });

  it('else takes API Gateway’s X-Amzn-Trace-Id (any case) over the function’s X-Ray environment', () => {
    const environment = 'Root=1-11111111-111111111111111111111111;Parent=2222222222222222;Sampled=1';

    for (const name of ['X-Amzn-Trace-Id', 'x-amzn-trace-id']) {
      expect(requestTraceContext({ [name]: XRAY_HEADER }, fixedIds(), environment)).toEqual({
        traceId: XRAY_TRACE_ID,
        parentId: XRAY_PARENT_ID,
        sampled: true,
      });
    }
  });

  it('else takes the function’s X-Ray environment header, with a new span id when it has no Parent', () => {
    const ids = fixedIds();

    expect(requestTraceContext({ 'content-type': 'application/json' }, ids, 'Root=1-5759e988-bd862e3fe1be46a994272793')).toEqual({
      traceId: XRAY_TRACE_ID,
      parentId: NEW_SPAN_ID,
      sampled: true,
    });
    expect(ids.traceId).not.toHaveBeenCalled();
  });

  it('else starts a new sampled trace from the ids it is given', () => {
    for (const headers of [{}, null, undefined, { 'content-type': 'application/json' }]) {
      expect(requestTraceContext(headers, fixedIds())).toEqual({ traceId: NEW_TRACE_ID, parentId: NEW_SPAN_ID, sampled: true });
    }
  });

  it('falls through a malformed traceparent to the X-Ray header, and a malformed X-Ray header to the environment', () => {
    const environment = 'Root=1-11111111-111111111111111111111111;Parent=2222222222222222;Sampled=1';

    expect(requestTraceContext({ traceparent: `ff-${TRACE_ID}-${PARENT_ID}-01`, 'X-Amzn-Trace-Id': XRAY_HEADER }, fixedIds())).toEqual({
      traceId: XRAY_TRACE_ID,
      parentId: XRAY_PARENT_ID,
      sampled: true,
    });
    expect(requestTraceContext({ traceparent: 'not a traceparent', 'X-Amzn-Trace-Id': 'garbage' }, fixedIds(), environment)).toEqual({
      traceId: '11111111111111111111111111111111',
      parentId: '2222222222222222',
      sampled: true,
    });
    expect(requestTraceContext({ traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` }, fixedIds(), 'garbage')).toEqual({
      traceId: NEW_TRACE_ID,
      parentId: NEW_SPAN_ID,
      sampled: true,
    });
  });
});
