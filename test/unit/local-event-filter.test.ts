/** Lambda event filtering (FilterCriteria) as the local pollers apply it (local/pollers/event-filter.ts). */
import { describe, expect, it } from 'vitest';
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

  it('refuses an operator it does not know instead of silently dropping records', () => {
    expect(() => compileFilters(['{"a":[{"wildcard":"x*"}]}'])).toThrow(/filter operator wildcard is not supported locally/);
  });
});
