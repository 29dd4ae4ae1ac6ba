import { describe, expect, it, vi } from 'vitest';
import { SequenceGapError } from '../../lambdas/domain/consumer-rules';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import type { InboxCommitResult, InboxStore } from '../../lambdas/ports/inbox-store';
import { ApplyContentionError, makeApplyOnce } from '../../lambdas/use-cases/apply-once';
import { envelope } from '../support/stream-events';

/** An inbox store whose reads and commit results are scripted, recording what was committed. */
class ScriptedStore implements InboxStore<string> {
  readonly committed: Array<{ eventId: string; effect: string }> = [];
  reads = 0;
  constructor(
    private readonly lastApplied: number[],
    private readonly results: InboxCommitResult[] = [],
  ) {}
  async lastAppliedSequence(): Promise<number> {
    const value = this.lastApplied[Math.min(this.reads, this.lastApplied.length - 1)] ?? 0;
    this.reads += 1;
    return value;
  }
  async commit(event: EventEnvelope, effect: string): Promise<InboxCommitResult> {
    const result = this.results.shift() ?? 'applied';
    if (result === 'applied') this.committed.push({ eventId: event.eventId, effect });
    return result;
  }
}

describe('applyOnce', () => {
  it('commits the next event of an aggregate with its effect', async () => {
    const store = new ScriptedStore([1]);

    const outcome = await makeApplyOnce(store)(envelope('A', 2), (e) => `effect-${e.sequence}`);

    expect(outcome).toEqual({ status: 'applied' });
    expect(store.committed).toEqual([{ eventId: 'evt-A-2', effect: 'effect-2' }]);
  });

  it('computes the effect only for an event it is about to commit', async () => {
    const effectOf = vi.fn(() => 'effect');

    await makeApplyOnce(new ScriptedStore([5]))(envelope('A', 3), effectOf);
    await expect(makeApplyOnce(new ScriptedStore([1]))(envelope('A', 4), effectOf)).rejects.toBeInstanceOf(SequenceGapError);
    expect(effectOf).not.toHaveBeenCalled();

    await makeApplyOnce(new ScriptedStore([1]))(envelope('A', 2), effectOf);
    expect(effectOf).toHaveBeenCalledTimes(1);
  });

  it('awaits an asynchronous effect before committing it', async () => {
    const store = new ScriptedStore([0]);

    await makeApplyOnce(store)(envelope('A', 1), async (e) => `async-${e.eventId}`);

    expect(store.committed).toEqual([{ eventId: 'evt-A-1', effect: 'async-evt-A-1' }]);
  });

  it('skips an event the aggregate is already past, without committing', async () => {
    const store = new ScriptedStore([5]);

    const outcome = await makeApplyOnce(store)(envelope('A', 3), () => 'effect');

    expect(outcome).toEqual({ status: 'stale', lastApplied: 5 });
    expect(store.committed).toEqual([]);
  });

  it('throws SequenceGapError for an event ahead of a gap, without committing', async () => {
    const store = new ScriptedStore([1]);

    await expect(makeApplyOnce(store)(envelope('A', 4), () => 'effect')).rejects.toThrow(new SequenceGapError('A', 2, 4));
    expect(store.committed).toEqual([]);
  });

  it('acknowledges an event whose id the inbox already holds', async () => {
    const store = new ScriptedStore([1], ['duplicate-event']);

    await expect(makeApplyOnce(store)(envelope('A', 2), () => 'effect')).resolves.toEqual({ status: 'duplicate' });
    expect(store.reads).toBe(1);
  });

  it('re-reads and decides again when the aggregate moved between read and commit', async () => {
    const store = new ScriptedStore([1, 2], ['sequence-moved']);

    const outcome = await makeApplyOnce(store)(envelope('A', 2), () => 'effect');

    expect(outcome).toEqual({ status: 'stale', lastApplied: 2 });
    expect(store.reads).toBe(2);
  });

  it('gives up after the configured number of lost races', async () => {
    const store = new ScriptedStore([1], ['sequence-moved', 'sequence-moved']);

    await expect(makeApplyOnce(store, { maxAttempts: 2 })(envelope('A', 2), () => 'effect')).rejects.toBeInstanceOf(
      ApplyContentionError,
    );
    expect(store.reads).toBe(2);
    expect(store.committed).toEqual([]);
  });
});
