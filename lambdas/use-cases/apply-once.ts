/**
 * The core of the consumer guard: applies an event's effect exactly once and in sequence order
 * per aggregate, whatever the broker redelivers. Consumer-agnostic: the effect and where it is
 * written are the `InboxStore`'s business. The reusable SQS FIFO wrapper around it is
 * `consumer-guard/`.
 */
import { decideSequence, SequenceGapError, type SequenceRule } from '../domain/consumer-rules';
import type { EventEnvelope } from '../domain/event-envelope';
import type { InboxStore } from '../ports/inbox-store';

export type ApplyOutcome =
  | { readonly status: 'applied' }
  /** The event id was already recorded: a redelivery. */
  | { readonly status: 'duplicate' }
  /** The aggregate is already past this sequence: an old or repeated event. */
  | { readonly status: 'stale'; readonly lastApplied: number };

/**
 * Computes the effect of an event that is next for its aggregate. Called only when the event is
 * to be applied (never for a duplicate or an old sequence), possibly more than once if a
 * concurrent delivery wins the race; the result is committed with the inbox record, atomically.
 */
export type EffectOf<E> = (envelope: EventEnvelope) => E | Promise<E>;

export type ApplyOnce<E> = (envelope: EventEnvelope, effectOf: EffectOf<E>) => Promise<ApplyOutcome>;

/** The commit kept losing to concurrent writers of the same aggregate; the message is retried later. */
export class ApplyContentionError extends Error {
  constructor(
    readonly eventId: string,
    readonly attempts: number,
  ) {
    super(`Event ${eventId} could not be applied after ${attempts} attempts: the aggregate kept changing`);
    this.name = 'ApplyContentionError';
  }
}

export interface ApplyOnceOptions {
  /** Read-decide-commit rounds before giving up. @default 3 */
  readonly maxAttempts?: number;
  /** `increasing` when the consumer's subscription filters event types. @default 'contiguous' */
  readonly sequenceRule?: SequenceRule;
}

/**
 * Returns `applyOnce(envelope, effectOf)`: read where the aggregate stands, decide by sequence,
 * compute the effect, then commit the inbox record with the effect conditionally. A lost race
 * re-reads and decides again, a bounded number of times.
 *
 * @throws SequenceGapError when earlier events of the aggregate have not been applied yet
 * @throws ApplyContentionError when every attempt lost a race
 */
export function makeApplyOnce<E>(store: InboxStore<E>, options: ApplyOnceOptions = {}): ApplyOnce<E> {
  const maxAttempts = options.maxAttempts ?? 3;
  return async (envelope, effectOf) => {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const lastApplied = await store.lastAppliedSequence(envelope.aggregateId);
      const decision = decideSequence(envelope.sequence, lastApplied, options.sequenceRule);
      if (decision.action === 'skip') return { status: 'stale', lastApplied };
      if (decision.action === 'gap') {
        throw new SequenceGapError(envelope.aggregateId, decision.expectedSequence, envelope.sequence);
      }
      const result = await store.commit(envelope, await effectOf(envelope), lastApplied);
      if (result === 'applied') return { status: 'applied' };
      if (result === 'duplicate-event') return { status: 'duplicate' };
    }
    throw new ApplyContentionError(envelope.eventId, maxAttempts);
  };
}
