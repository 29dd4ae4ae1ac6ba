import { PaymentNotFoundError } from '../domain/errors';
import type { EventEnvelope } from '../domain/event-envelope';
import type { Payment } from '../domain/payment';
import type { PaymentRepository } from '../ports/payment-repository';

export async function getPaymentUseCase(repository: PaymentRepository, paymentId: string): Promise<Payment> {
  const payment = await repository.getPayment(paymentId);
  if (!payment) throw new PaymentNotFoundError(paymentId);
  return payment;
}

/** The payment's events in sequence order; 404 when the payment does not exist. */
export async function listPaymentEventsUseCase(repository: PaymentRepository, paymentId: string): Promise<EventEnvelope[]> {
  const [payment, events] = await Promise.all([repository.getPayment(paymentId), repository.listEvents(paymentId)]);
  if (!payment) throw new PaymentNotFoundError(paymentId);
  return events;
}
