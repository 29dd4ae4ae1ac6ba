/** Lambda event filtering (FilterCriteria) as the local pollers apply it (local/pollers/event-filter.ts). */
import { describe, expect, it } from 'vitest';
import { RELAY_STREAM_FILTER } from '../../lib/constructs/outbox-relay';
import { compileFilters } from '../../local/pollers/event-filter';

describe('event filtering (FilterCriteria)', () => {
  it('matches literal values, nested keys and the documented operators', () => {
    const insertOnly = compileFilters(['{"eventName":["INSERT"]}']);
    expect([insertOnly({ eventName: 'INSERT' }), insertOnly({ eventName: 'REMOVE' }), insertOnly({ eventName: 'UNKNOWN_TO_SDK_VERSION' })]).toEqual([true, false, false]);

    const nested = compileFilters(['{"dynamodb":{"NewImage":{"type":{"S":[{"prefix":"payment."}]},"amount":{"N":[{"exists":true}]}}}}']);
    expect(nested({ dynamodb: { NewImage: { type: { S: 'payment.approved' }, amount: { N: '5' } } } })).toBe(true);
    expect(nested({ dynamodb: { NewImage: { type: { S: 'refund.created' }, amount: { N: '5' } } } })).toBe(false);
    expect(nested({ dynamodb: { NewImage: { type: { S: 'payment.approved' } } } })).toBe(false);

    const operators = compileFilters(['{"a":[{"anything-but":["x"]}],"n":[{"numeric":[">",1,"<=",3]}],"s":[{"suffix":".fifo"}]}']);
    expect(operators({ a: 'y', n: 3, s: 'q.fifo' })).toBe(true);
    expect(operators({ a: 'x', n: 3, s: 'q.fifo' })).toBe(false);
    expect(operators({ a: 'y', n: 4, s: 'q.fifo' })).toBe(false);
  });

  it('passes a record that matches any of several filters, and everything without filters', () => {
    const either = compileFilters(['{"eventName":["INSERT"]}', '{"eventName":["MODIFY"]}']);
    expect([either({ eventName: 'INSERT' }), either({ eventName: 'MODIFY' }), either({ eventName: 'REMOVE' })]).toEqual([true, true, false]);
    expect(compileFilters([])({ anything: 1 })).toBe(true);
  });

  describe('the relay mapping filter (pending marker in the new image)', () => {
    // The pattern the relay's construct puts in the template, as the local runner reads it from there.
    const pending = compileFilters([RELAY_STREAM_FILTER.pattern as string]);
    const newImage = (image: Record<string, unknown>) => ({ dynamodb: { Keys: { aggregateId: { S: 'A' } }, NewImage: image } });

    it('passes the INSERT of a fresh outbox item, which carries pendingShard', () => {
      expect(pending({ eventName: 'INSERT', ...newImage({ aggregateId: { S: 'A' }, pendingShard: { S: 'p03' } }) })).toBe(true);
    });

    it('drops the MODIFY that marks an event published (pendingShard removed) and a TTL REMOVE (no new image)', () => {
      expect(pending({ eventName: 'MODIFY', ...newImage({ aggregateId: { S: 'A' }, publishedAt: { S: '2026-11-25T00:00:01.000Z' } }) })).toBe(false);
      expect(pending({ eventName: 'REMOVE', dynamodb: { Keys: { aggregateId: { S: 'A' } } } })).toBe(false);
      expect(pending({ eventName: 'UNKNOWN_TO_SDK_VERSION', dynamodb: { Keys: { aggregateId: { S: 'A' } } } })).toBe(false);
    });

    it('looks only at the dynamodb key: eventName plays no part (the relay skips a MODIFY that keeps the marker)', () => {
      expect(pending({ eventName: 'MODIFY', ...newImage({ pendingShard: { S: 'p03' } }) })).toBe(true);
    });

    it('does not match a marker of another attribute type than the pattern names', () => {
      expect(pending(newImage({ pendingShard: { N: '3' } }))).toBe(false);
    });
  });

  it('applies exists to leaf nodes only, as Lambda does: an attribute map is an intermediate node', () => {
    const intermediate = compileFilters(['{"dynamodb":{"NewImage":{"pendingShard":[{"exists":true}]}}}']);
    expect(intermediate({ dynamodb: { NewImage: { pendingShard: { S: 'p03' } } } })).toBe(false);

    const absent = compileFilters(['{"dynamodb":{"NewImage":{"pendingShard":{"S":[{"exists":false}]}}}}']);
    expect(absent({ dynamodb: { NewImage: { publishedAt: { S: 'x' } } } })).toBe(true);
    expect(absent({ dynamodb: { NewImage: { pendingShard: { S: 'p03' } } } })).toBe(false);
  });

  it('looks keys up in every element of an array, as in the documented list example', () => {
    const organizations = compileFilters(['{"dynamodb":{"NewImage":{"Organizations":{"L":{"S":[{"exists":true}]}}}}}']);
    expect(organizations({ dynamodb: { NewImage: { Organizations: { L: [{ S: 'Sales' }, { S: 'Support' }] } } } })).toBe(true);
    expect(organizations({ dynamodb: { NewImage: { Organizations: { L: [] } } } })).toBe(false);

    const member = compileFilters(['{"dynamodb":{"NewImage":{"Organizations":{"L":{"S":["Support"]}}}}}']);
    expect(member({ dynamodb: { NewImage: { Organizations: { L: [{ S: 'Sales' }, { S: 'Support' }] } } } })).toBe(true);
    expect(member({ dynamodb: { NewImage: { Organizations: { L: [{ S: 'Sales' }] } } } })).toBe(false);
  });

  it('refuses an operator it does not know instead of silently dropping records', () => {
    expect(() => compileFilters(['{"a":[{"wildcard":"x*"}]}'])).toThrow(/filter operator wildcard is not supported locally/);
  });
});
