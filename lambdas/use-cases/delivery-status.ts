/**
 * GET /payments/{paymentId}/deliveries: per subscriber, each of the payment's events its filter
 * accepts and where it stands (see `domain/delivery-state.ts`).
 */
import { PaymentNotFoundError } from '../domain/errors';
import { paymentDeliveriesView, type PaymentDeliveriesView } from '../domain/delivery-state';
import type { Subscriber } from '../domain/subscribers';
import type { DeliveryLog } from '../ports/delivery-log';
import type { PaymentEventsReader } from '../ports/payment-events-reader';

export interface DeliveryStatusDeps {
  readonly subscribers: readonly Subscriber[];
  readonly events: PaymentEventsReader;
  readonly deliveries: DeliveryLog;
}

/** @throws PaymentNotFoundError when the payment does not exist */
export async function paymentDeliveriesUseCase(deps: DeliveryStatusDeps, paymentId: string): Promise<PaymentDeliveriesView> {
  const wantsRecords = deps.subscribers.some((subscriber) => subscriber.delivery.kind === 'webhook');
  const [exists, events, records] = await Promise.all([
    deps.events.paymentExists(paymentId),
    deps.events.listPublishedEvents(paymentId),
    wantsRecords ? deps.deliveries.listForPayment(paymentId) : Promise.resolve([]),
  ]);
  if (!exists) throw new PaymentNotFoundError(paymentId);
  return paymentDeliveriesView({ paymentId, subscribers: deps.subscribers, events, records });
}
