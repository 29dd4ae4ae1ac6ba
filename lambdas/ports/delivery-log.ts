import type { DeliveryRecord } from '../domain/delivery-state';

/**
 * Port for the record of webhook deliveries: one record per (subscriber, event), replaced at
 * each attempt by the dispatcher, read by the delivery status query.
 */
export interface DeliveryLog {
  /** The subscriber's record of the payment's event `sequence`, `undefined` before the first attempt; a strongly consistent read. */
  get(subscriber: string, paymentId: string, sequence: number): Promise<DeliveryRecord | undefined>;
  /** Stores `record`, replacing the previous one of the same subscriber and event. */
  put(record: DeliveryRecord): Promise<void>;
  /** Every subscriber's records of the payment's events. */
  listForPayment(paymentId: string): Promise<DeliveryRecord[]>;
}
