import { describe, expect, it } from 'vitest';
import { envelopeFromOutboxItem } from '../../lambdas/domain/event-envelope';
import {
  PENDING_EVENTS_INDEX_NAME,
  PENDING_SHARD_ATTRIBUTE,
  PENDING_SHARD_COUNT,
  PENDING_SHARDS,
  PENDING_SORT_ATTRIBUTE,
  PUBLISHED_AT_ATTRIBUTE,
  pendingShardName,
  pendingShardOf,
} from '../../lambdas/domain/pending-shards';
import { envelope } from '../support/stream-events';

describe('pending shards', () => {
  it('names the index and its keys as the CDK stack and the local runner must create them', () => {
    expect(PENDING_EVENTS_INDEX_NAME).toBe('PendingEvents');
    expect(PENDING_SHARD_ATTRIBUTE).toBe('pendingShard');
    expect(PENDING_SORT_ATTRIBUTE).toBe('occurredAt');
    expect(PUBLISHED_AT_ATTRIBUTE).toBe('publishedAt');
  });

  it('lists 16 shards p00..p15', () => {
    expect(PENDING_SHARD_COUNT).toBe(16);
    expect(PENDING_SHARDS).toHaveLength(16);
    expect(PENDING_SHARDS[0]).toBe('p00');
    expect(PENDING_SHARDS[15]).toBe('p15');
    expect(new Set(PENDING_SHARDS).size).toBe(16);
  });

  it('refuses a shard number outside the range', () => {
    expect(() => pendingShardName(16)).toThrow(RangeError);
    expect(() => pendingShardName(-1)).toThrow(RangeError);
    expect(() => pendingShardName(1.5)).toThrow(RangeError);
  });

  it('derives a stable shard from the aggregate id (the value is stored, so it must never change)', () => {
    // 32-bit FNV-1a of the UTF-8 bytes, modulo 16; pinned so a refactor cannot move stored items.
    expect(pendingShardOf('')).toBe('p05');
    expect(pendingShardOf('a')).toBe('p12');
    expect(pendingShardOf('pay_0001')).toBe(pendingShardOf('pay_0001'));
    expect(pendingShardOf('결제-1')).toMatch(/^p(0\d|1[0-5])$/);
  });

  it('spreads payment ids over every shard roughly evenly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_200; i++) {
      const shard = pendingShardOf(`pay_${i.toString(36)}_${(i * 7919).toString(16)}`);
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...PENDING_SHARDS]);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(120);
      expect(count).toBeLessThan(280);
    }
  });
});

describe('envelopeFromOutboxItem and the publication bookkeeping', () => {
  it('keeps pendingShard, publishedAt and expiresAt out of the envelope', () => {
    const event = envelope('pay-1', 2);
    const item = { ...event, expiresAt: 1_800_000_000, pendingShard: 'p07', publishedAt: '2026-11-25T00:00:02.000Z' };

    const result = envelopeFromOutboxItem(item);

    expect(result).toEqual(event);
    expect(result).not.toHaveProperty('pendingShard');
    expect(result).not.toHaveProperty('publishedAt');
  });
});
