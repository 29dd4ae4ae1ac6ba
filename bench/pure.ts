/**
 * CPU cost of the pure hot paths: request validation, the state machine, relay planning. Relay
 * planning uses the limits of the publisher the relay really has (SNS PublishBatch to
 * `payment-events.fifo`), so the plan is the relay's.
 */
import { randomUUID } from 'node:crypto';
import { createPaymentSchema, parseCommand } from '../lambdas/domain/commands';
import { confirmPayment, createPayment } from '../lambdas/domain/payment';
import { planRelay, type RelayRecord } from '../lambdas/domain/relay-plan';
import { SnsEventPublisher } from '../lambdas/adapters/sns-event-publisher';
import { SNSClient } from '@aws-sdk/client-sns';
import { round } from './stats';

function opsPerSecond(iterations: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn(i); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return iterations / seconds;
}

export function runPureBenchmarks() {
  const body = { orderId: 'order-1', amount: 15000, currency: 'KRW', method: 'CARD' };
  const validate = opsPerSecond(100_000, () => parseCommand(createPaymentSchema, body));

  const transitions = opsPerSecond(100_000, (i) => {
    const created = createPayment({ paymentId: `p${i}`, orderId: 'o', amount: 100, currency: 'USD', method: 'CARD' }, { now: '2026-11-25T00:00:00.000Z', eventId: 'e1' });
    confirmPayment(created.payment, { approved: true, pgTransactionId: 't' }, { now: '2026-11-25T00:00:01.000Z', eventId: 'e2' });
  });

  // A full stream batch (100 records: 50 payments × 2 events), planned into PublishBatch calls.
  const records: RelayRecord[] = [];
  for (let p = 0; p < 50; p++) {
    const change = createPayment({ paymentId: randomUUID(), orderId: 'o', amount: 100, currency: 'USD', method: 'CARD' }, { now: '2026-11-25T00:00:00.000Z', eventId: randomUUID() });
    const approved = confirmPayment(change.payment, { approved: true, pgTransactionId: 't' }, { now: '2026-11-25T00:00:01.000Z', eventId: randomUUID() });
    records.push({ kind: 'event', position: String(p * 2), envelope: change.event });
    records.push({ kind: 'event', position: String(p * 2 + 1), envelope: approved.event });
  }
  // Never sends: only its limits and message sizing are used.
  const publisher = new SnsEventPublisher(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo');
  const limits = { maxEntries: publisher.maxBatchEntries, maxBytes: publisher.maxBatchBytes, messageBytes: (e: Parameters<typeof publisher.messageBytes>[0]) => publisher.messageBytes(e) };
  const plan = planRelay(records, limits);
  const plans = opsPerSecond(5_000, () => planRelay(records, limits));

  return {
    validateCreatePaymentPerSecond: Math.round(validate),
    createAndConfirmTransitionsPerSecond: Math.round(transitions),
    relayPlansPer100RecordBatchPerSecond: Math.round(plans),
    relayEventsPlannedPerSecond: Math.round(plans * records.length),
    publishBatchCallsFor100Records: plan.batches.length,
    meanEntriesPerCall: round(records.length / plan.batches.length, 2),
  };
}
