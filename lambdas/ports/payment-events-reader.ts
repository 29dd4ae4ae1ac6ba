import type { PublishedEvent } from '../domain/delivery-state';

/** Port for what the delivery status query reads about a payment: that it exists, and its outbox events. */
export interface PaymentEventsReader {
  paymentExists(paymentId: string): Promise<boolean>;
  /** The payment's outbox events in sequence order, each with `publishedAt` once confirmed published. */
  listPublishedEvents(paymentId: string): Promise<PublishedEvent[]>;
}
