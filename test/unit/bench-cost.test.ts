import { describe, expect, it } from 'vitest';
import type { PartyRequests } from '../../bench/aws-request-counter';
import { costPerMillionPayments, PRICES } from '../../bench/cost';

const party = (requests: Record<string, number>, capacity: PartyRequests['capacity'] = {}): PartyRequests => ({ requests, capacity, modelledCapacity: {} });

describe('cost per million card payments', () => {
  // GIVEN a million payments' worth of counts
  const input = {
    payments: 1_000_000,
    apiRequests: 2_000_000,
    subscriberQueues: 2,
    eventsCommitted: 2_000_000,
    requests: new Map([
      ['create-payment', party({ 'dynamodb:TransactWriteItems': 1_000_000 }, { Payments: { read: 0, write: 4_000_000 }, Ledger: { read: 9e9, write: 9e9 } })],
      ['outbox-relay', party({ 'sns:PublishBatch': 100_000, 'dynamodb:TransactWriteItems': 10_000 }, { Outbox: { read: 1_000_000, write: 0 } })],
      ['example-consumer', party({ 'sqs:DeleteMessageBatch': 200_000 })],
    ]),
    functions: new Map([['create-payment', { invocations: 1_000_000, meanDurationMs: 100, memoryMb: 1024 }]]),
    excludedTables: ['Ledger'],
  };

  it('prices each part by service from the counts, leaving the excluded tables out', () => {
    // WHEN
    const report = costPerMillionPayments(input);
    // THEN
    const lambda = 1_000_000 * PRICES.lambdaRequest.usd + 100_000 * PRICES.lambdaArmGbSecond.usd;
    expect(report.byPartAndService.api).toEqual({ apiGateway: 7, lambda: Math.round(lambda * 1000) / 1000 });
    expect(report.byPartAndService.paymentWrites).toEqual({ dynamodb: 2.5 });
    expect(report.byPartAndService.outboxMachinery).toEqual({ sns: 0.03, dynamodb: 0.125 });
    // The consumer's deletes, and two deliveries of each event into the subscriber queues.
    expect(report.byPartAndService.fanOut).toEqual({ sqs: 0.1 + 2 });
    expect(report.usdPerMillionPayments).toBeCloseTo(7 + lambda + 2.5 + 0.03 + 0.125 + 2.1, 2);
    expect(report.unitsSource).toBe('DynamoDB Local ConsumedCapacity');
  });

  it('scales counts of a smaller run to a million payments', () => {
    const half = costPerMillionPayments({ ...input, payments: 500_000 });
    expect(half.byService.apiGateway).toBe(14);
  });
});
