/**
 * The trace scope of lambdas/platform/trace-scope.ts: each request's context stays with the work
 * that request started, however that work interleaves with another request's (the local runner
 * handles several requests in one function instance at once).
 */
import { randomBytes } from 'node:crypto';
import type * as NodeCrypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TraceContext } from '../../lambdas/domain/trace-context';
import { currentTraceContext, randomTraceIds, runInTrace, xrayHeaderOf } from '../../lambdas/platform/trace-scope';

// The real generator, observable: a test can make it answer zeros once.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  return { ...actual, randomBytes: vi.fn(actual.randomBytes) };
});

afterEach(() => vi.mocked(randomBytes).mockClear());

const first: TraceContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', sampled: true };
const second: TraceContext = { traceId: '5759e988bd862e3fe1be46a994272793', parentId: '53995c3f42cd8ad8', sampled: false };

/** A promise resolved from outside, to interleave two chains in a chosen order. */
function gate(): { readonly opened: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('runInTrace / currentTraceContext', () => {
  it('has no context outside a scope', () => {
    expect(currentTraceContext()).toBeUndefined();
  });

  it('gives the function its context and answers what the function answers', async () => {
    expect(runInTrace(first, () => currentTraceContext())).toBe(first);
    await expect(runInTrace(first, async () => currentTraceContext()?.traceId)).resolves.toBe(first.traceId);
  });

  it('keeps each of two interleaved requests in its own context across awaits, timers and gates opened from outside', async () => {
    const seen: Array<[string, string | undefined]> = [];
    const secondMayGoOn = gate();
    const firstMayGoOn = gate();
    const record = (who: string) => seen.push([who, currentTraceContext()?.traceId]);

    const firstRequest = runInTrace(first, async () => {
      record('first');
      await sleep(5);
      record('first');
      secondMayGoOn.open();
      await firstMayGoOn.opened;
      record('first');
      await new Promise<void>((resolve) => setImmediate(resolve));
      record('first');
    });
    const secondRequest = runInTrace(second, async () => {
      record('second');
      await secondMayGoOn.opened;
      record('second');
      firstMayGoOn.open();
      await sleep(1);
      record('second');
      await new Promise<void>((resolve) => {
        setTimeout(() => {
          record('second');
          resolve();
        }, 0);
      });
    });
    await Promise.all([firstRequest, secondRequest]);

    // Both chains ran in turns (the order proves it), and every step saw its own request's trace.
    expect(seen.map(([who]) => who).slice(0, 4)).toEqual(['first', 'second', 'first', 'second']);
    expect(seen).toHaveLength(8);
    for (const [who, traceId] of seen) expect(traceId).toBe(who === 'first' ? first.traceId : second.traceId);
  });

  it('lets an inner scope override the outer one and restores the outer one after it', async () => {
    await runInTrace(first, async () => {
      await runInTrace(second, async () => {
        await sleep(1);
        expect(currentTraceContext()).toBe(second);
      });
      expect(currentTraceContext()).toBe(first);
    });
  });

  it('leaves no context behind once the scope’s work is done, or when it throws', async () => {
    await runInTrace(first, async () => sleep(1));
    expect(currentTraceContext()).toBeUndefined();

    expect(() =>
      runInTrace(first, () => {
        throw new Error('route failed');
      }),
    ).toThrow('route failed');
    expect(currentTraceContext()).toBeUndefined();
  });
});

describe('randomTraceIds', () => {
  it('makes 32-digit trace ids and 16-digit span ids of lowercase hex, not all zero, each new', () => {
    const traceIds = Array.from({ length: 50 }, () => randomTraceIds.traceId());
    const spanIds = Array.from({ length: 50 }, () => randomTraceIds.spanId());

    for (const id of traceIds) expect(id).toMatch(/^(?!0+$)[0-9a-f]{32}$/);
    for (const id of spanIds) expect(id).toMatch(/^(?!0+$)[0-9a-f]{16}$/);
    expect(new Set(traceIds).size).toBe(50);
    expect(new Set(spanIds).size).toBe(50);
  });

  it('draws again when the random bytes are all zero (W3C forbids all-zero ids)', () => {
    vi.mocked(randomBytes).mockImplementationOnce(() => Buffer.alloc(16));
    const traceId = randomTraceIds.traceId();
    vi.mocked(randomBytes).mockImplementationOnce(() => Buffer.alloc(8));
    const spanId = randomTraceIds.spanId();

    expect(traceId).toMatch(/^(?!0+$)[0-9a-f]{32}$/);
    expect(spanId).toMatch(/^(?!0+$)[0-9a-f]{16}$/);
    expect(vi.mocked(randomBytes).mock.calls.map(([size]) => size)).toEqual([16, 16, 8, 8]);
  });
});

describe('xrayHeaderOf', () => {
  it('writes the invocation’s X-Ray root and sampling decision as a header, and nothing off Lambda', () => {
    const root = () => '1-5759e988-bd862e3fe1be46a994272793';
    expect(xrayHeaderOf({ getRootXrayTraceId: root, isTraceSampled: () => true })).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
    expect(xrayHeaderOf({ getRootXrayTraceId: root, isTraceSampled: () => false })).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0');
    expect(xrayHeaderOf({ getRootXrayTraceId: () => undefined, isTraceSampled: () => true })).toBeUndefined();
    expect(xrayHeaderOf({ getRootXrayTraceId: () => '', isTraceSampled: () => true })).toBeUndefined();
  });
});
