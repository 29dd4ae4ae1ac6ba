import type { EventEnvelope } from '../domain/event-envelope';

/** What a conditional commit of one event and its effect came to. */
export type InboxCommitResult =
  /** The inbox record and the effect were written together. */
  | 'applied'
  /** The event id is already in the inbox: the effect was applied before; nothing was written. */
  | 'duplicate-event'
  /** The aggregate is no longer at `previousSequence` (or the write raced another): nothing was written; decide again. */
  | 'sequence-moved';

/**
 * Port for a consumer's inbox: remembers which events were applied, and where each aggregate
 * stands, so that every event takes effect exactly once and in sequence order. `E` is the
 * consumer's effect, written in the same transaction as the inbox record.
 */
export interface InboxStore<E> {
  /** The last sequence applied for the aggregate, 0 when none; a strongly consistent read. */
  lastAppliedSequence(aggregateId: string): Promise<number>;
  /**
   * Records `envelope.eventId` and applies `effect` atomically, on condition that the event id
   * is new and the aggregate is still at `previousSequence` (the last sequence read before
   * deciding: `envelope.sequence - 1` for a consumer that receives every event, lower for one
   * whose subscription filters event types).
   */
  commit(envelope: EventEnvelope, effect: E, previousSequence: number): Promise<InboxCommitResult>;
}
