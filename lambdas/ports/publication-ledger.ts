import type { EventEnvelope } from '../domain/event-envelope';

/** What marking events published came to. Never throws for a single event: failures are listed. */
export interface MarkOutcome {
  /** Events now marked published (their pending marker removed). */
  readonly marked: number;
  /** Events whose outbox item no longer exists (expired): nothing to mark. */
  readonly missing: readonly EventEnvelope[];
  /** Events that could not be marked; they stay pending and the sweeper may publish them again. */
  readonly failed: ReadonlyArray<{ readonly event: EventEnvelope; readonly reason: string; readonly error: unknown }>;
}

/** The outbox key of one event: its payment and sequence. */
export interface OutboxEventKey {
  readonly aggregateId: string;
  readonly sequence: number;
}

/** What a strongly consistent read found at one outbox key. */
export type PendingState =
  /** The event is still pending (not marked published). */
  | { readonly kind: 'pending'; readonly event: EventEnvelope }
  /** Marked published, or no such item (expired): nothing to publish. */
  | { readonly kind: 'notPending' }
  /** The key could not be read (left unprocessed after retries, a failed request, an unreadable item). */
  | { readonly kind: 'unread'; readonly reason: string };

/** An opaque position in a paginated pending listing. */
export type PendingCursor = Readonly<Record<string, unknown>>;

/** One page of pending events of a shard, oldest first. */
export interface PendingPage {
  readonly events: readonly EventEnvelope[];
  /** Pending items that cannot be read as envelopes (missing routing fields); never publishable. */
  readonly invalid: ReadonlyArray<{ readonly aggregateId: string; readonly sequence: unknown; readonly reason: string }>;
  /** Items the page read (`events` + `invalid`). */
  readonly scanned: number;
  /** Present when the shard has more items matching the query. */
  readonly cursor?: PendingCursor;
}

export interface ListPendingQuery {
  /** Only events that occurred strictly before this ISO-8601 instant. */
  readonly occurredBefore: string;
  /** Most items to read for this page. */
  readonly limit: number;
  readonly cursor?: PendingCursor;
}

/**
 * Port for the record of which outbox events were confirmed published. An event is pending from
 * its commit until `markPublished`; the relay and the sweeper mark events after the broker
 * accepted them, and both consult it to publish a payment's missing predecessors first.
 */
export interface PublicationLedger {
  /**
   * Marks events published. Idempotent; an event marked twice keeps its first publication time.
   * Only ever called with events the broker accepted.
   */
  markPublished(events: readonly EventEnvelope[]): Promise<MarkOutcome>;
  /**
   * Whether each key's event is still pending, in the order of `keys`: strongly consistent reads,
   * as few requests as the store allows. Never throws for a single key: see `PendingState`.
   */
  pendingStates(keys: readonly OutboxEventKey[]): Promise<PendingState[]>;
  /**
   * The aggregate's pending events with a sequence below `sequence`, in sequence order;
   * a strongly consistent read of the outbox, so an event marked published is never returned.
   */
  pendingBefore(aggregateId: string, sequence: number): Promise<EventEnvelope[]>;
  /** One page of pending events of `shard`, oldest first. Eventually consistent. */
  listPending(shard: string, query: ListPendingQuery): Promise<PendingPage>;
  /** `occurredAt` of the oldest pending event of `shard`, `undefined` when none. Eventually consistent. */
  oldestPendingOccurredAt(shard: string): Promise<string | undefined>;
}
