/**
 * Replay rules, pure: Outbox items -> envelopes in per-payment sequence order -> broker batches.
 * Batching is the relay's own planner (lambdas/domain/relay-plan.ts): at most one event per
 * payment per batch, batches sent one after another, so a payment's event n+1 is only sent
 * after event n was accepted.
 */
import { envelopeFromOutboxItem, type EventEnvelope } from '../lambdas/domain/event-envelope';
import { planRelay, type BatchLimits, type PlannedBatch, type RelayRecord } from '../lambdas/domain/relay-plan';

/** One payment's part of a replay. */
export interface PaymentRange {
  readonly aggregateId: string;
  readonly count: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
  /** Sequences between first and last that the selection does not hold (expired, or never written). */
  readonly missing: readonly number[];
}

export interface ReplaySelectionResult {
  /** Every selected event, payment by payment, each payment in sequence order. */
  readonly byPayment: ReadonlyMap<string, readonly EventEnvelope[]>;
  readonly payments: readonly PaymentRange[];
  /** Outbox items that are not events (`<aggregateId>/<sequence>: reason`). */
  readonly invalid: readonly string[];
}

/** Reads Outbox items (unmarshalled) into envelopes grouped by payment, in sequence order. */
export function selectEvents(items: readonly Readonly<Record<string, unknown>>[]): ReplaySelectionResult {
  const byPayment = new Map<string, EventEnvelope[]>();
  const invalid: string[] = [];
  for (const item of items) {
    try {
      const envelope = envelopeFromOutboxItem(item);
      const list = byPayment.get(envelope.aggregateId) ?? [];
      list.push(envelope);
      byPayment.set(envelope.aggregateId, list);
    } catch (error) {
      invalid.push(`${String(item.aggregateId)}/${String(item.sequence)}: ${(error as Error).message}`);
    }
  }
  // Payments in the order of their first event, then by id: a stable, readable summary.
  const ordered = [...byPayment].map(([id, events]) => [id, [...events].sort((a, b) => a.sequence - b.sequence)] as const);
  ordered.sort(([idA, a], [idB, b]) => (a[0]?.occurredAt ?? '').localeCompare(b[0]?.occurredAt ?? '') || idA.localeCompare(idB));
  const payments = ordered.map(([aggregateId, events]) => paymentRange(aggregateId, events));
  return { byPayment: new Map(ordered), payments, invalid };
}

function paymentRange(aggregateId: string, events: readonly EventEnvelope[]): PaymentRange {
  const sequences = events.map((e) => e.sequence);
  const first = sequences[0] ?? 0;
  const last = sequences.at(-1) ?? 0;
  const present = new Set(sequences);
  const missing: number[] = [];
  for (let s = first + 1; s < last; s += 1) if (!present.has(s)) missing.push(s);
  return { aggregateId, count: events.length, firstSequence: first, lastSequence: last, missing };
}

/**
 * The send order: the first event of every payment, then the second of every payment, and so on
 * (so batches can hold many payments), each payment's events still in sequence order.
 */
export function sendOrder(byPayment: ReadonlyMap<string, readonly EventEnvelope[]>): EventEnvelope[] {
  const order: EventEnvelope[] = [];
  const lists = [...byPayment.values()];
  const rounds = Math.max(0, ...lists.map((l) => l.length));
  for (let round = 0; round < rounds; round += 1) {
    for (const list of lists) {
      const event = list[round];
      if (event) order.push(event);
    }
  }
  return order;
}

/** Cuts the events into SendMessageBatch calls with the relay's planner. */
export function planReplayBatches(events: readonly EventEnvelope[], limits: BatchLimits): { batches: readonly PlannedBatch[]; tooLarge?: string } {
  const records: RelayRecord[] = events.map((envelope, index) => ({ kind: 'event', position: String(index), envelope }));
  const plan = planRelay(records, limits);
  return { batches: plan.batches, ...(plan.halt && { tooLarge: plan.halt.reason }) };
}
