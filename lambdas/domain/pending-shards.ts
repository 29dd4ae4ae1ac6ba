/**
 * The "pending" marker of outbox items, pure.
 *
 * Every outbox item is written with `pendingShard`; the relay (or the sweeper) removes it once
 * the topic accepted the event. A sparse global secondary index on (`pendingShard`, `occurredAt`)
 * therefore holds exactly the events not yet confirmed published. The marker is spread over
 * `PENDING_SHARD_COUNT` values so that one index partition does not take every write.
 *
 * The CDK stack (the index definition) and the local runner import these names from here.
 */

/** Name of the sparse GSI of the Outbox table that holds the events not yet confirmed published. */
export const PENDING_EVENTS_INDEX_NAME = 'PendingEvents';
/** Partition key of `PendingEvents` (type S); present on an outbox item only while its event is pending. */
export const PENDING_SHARD_ATTRIBUTE = 'pendingShard';
/** Sort key of `PendingEvents` (type S): the envelope's ISO-8601 `occurredAt`, so a shard reads oldest first. */
export const PENDING_SORT_ATTRIBUTE = 'occurredAt';
/** Set (type S, ISO-8601) when an event is first confirmed published. Not part of the envelope. */
export const PUBLISHED_AT_ATTRIBUTE = 'publishedAt';

/**
 * Number of shard values. Items carry the value they were written with, and the sweeper reads
 * every value from 0 to this count - 1: the count may grow, but never shrink while items are pending.
 */
export const PENDING_SHARD_COUNT = 16;

/** `p00` .. `p15`. */
export function pendingShardName(shard: number): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= PENDING_SHARD_COUNT) {
    throw new RangeError(`shard must be an integer in [0, ${PENDING_SHARD_COUNT}), got ${shard}`);
  }
  return `p${String(shard).padStart(2, '0')}`;
}

/** Every shard value, in order: what the sweeper queries. */
export const PENDING_SHARDS: readonly string[] = Array.from({ length: PENDING_SHARD_COUNT }, (_, shard) =>
  pendingShardName(shard),
);

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/**
 * The stable shard of an aggregate: 32-bit FNV-1a of its id's UTF-8 bytes, modulo the shard
 * count. Stable across processes and releases (it is stored), and all of an aggregate's events
 * share one shard.
 */
export function pendingShardOf(aggregateId: string): string {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(aggregateId)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return pendingShardName(hash % PENDING_SHARD_COUNT);
}
