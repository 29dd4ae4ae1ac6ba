import type { EventEnvelope } from '../domain/event-envelope';

/** Outcome of one publish call: the events the broker did not accept, with the reason. */
export interface PublishOutcome {
  readonly failed: ReadonlyArray<{ readonly eventId: string; readonly reason: string }>;
}

/**
 * Port for the broker the relay publishes to. `publish` receives at most one broker batch,
 * in the order it must be delivered; it reports per-event failures instead of throwing
 * when the broker accepted part of the batch.
 */
export interface EventPublisher {
  readonly maxBatchEntries: number;
  readonly maxBatchBytes: number;
  /** Bytes the broker counts for this event against `maxBatchBytes` (body and attributes). */
  messageBytes(event: EventEnvelope): number;
  publish(events: readonly EventEnvelope[]): Promise<PublishOutcome>;
}
