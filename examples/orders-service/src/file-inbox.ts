/**
 * The service's inbox: which payment events it applied and where each payment stands, in one JSON
 * file, so a restart neither applies an event twice nor waits for sequences it already has. A real
 * service keeps this in its own database, written in the same transaction as the effect (the
 * package's `@payment-outbox/consumer/dynamodb` entry does that on DynamoDB).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventEnvelope, InboxCommitResult, InboxStore, PaymentStatus } from '@payment-outbox/consumer';

/** What this service keeps of a payment: its order's payment status. */
export interface OrderPayment {
  readonly orderId: string;
  readonly paymentId: string;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
}

interface InboxFile {
  /** Event ids applied. */
  appliedEventIds: string[];
  /** Payment id -> last sequence applied. */
  lastSequence: Record<string, number>;
  /** Order id -> its payment. */
  orders: Record<string, OrderPayment>;
}

export class FileInbox implements InboxStore<OrderPayment> {
  private readonly state: InboxFile;
  private readonly applied: Set<string>;

  constructor(
    private readonly path: string,
    /** Called once per event applied, after it is recorded. */
    private readonly onApplied: (event: EventEnvelope, order: OrderPayment) => void = () => undefined,
  ) {
    this.state = FileInbox.load(path);
    this.applied = new Set(this.state.appliedEventIds);
  }

  async lastAppliedSequence(paymentId: string): Promise<number> {
    return this.state.lastSequence[paymentId] ?? 0;
  }

  async commit(event: EventEnvelope, effect: OrderPayment, previousSequence: number): Promise<InboxCommitResult> {
    if (this.applied.has(event.eventId)) return 'duplicate-event';
    if ((this.state.lastSequence[event.aggregateId] ?? 0) !== previousSequence) return 'sequence-moved';
    this.applied.add(event.eventId);
    this.state.appliedEventIds.push(event.eventId);
    this.state.lastSequence[event.aggregateId] = event.sequence;
    this.state.orders[effect.orderId] = effect;
    this.save();
    this.onApplied(event, effect);
    return 'applied';
  }

  get orderCount(): number {
    return Object.keys(this.state.orders).length;
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    // Written whole and renamed: a crash leaves the previous file, never half of one.
    writeFileSync(`${this.path}.tmp`, JSON.stringify(this.state, null, 2));
    renameSync(`${this.path}.tmp`, this.path);
  }

  private static load(path: string): InboxFile {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as InboxFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return { appliedEventIds: [], lastSequence: {}, orders: {} };
    }
  }
}
