/**
 * Drives payments through the local stack's HTTP API the way a caller and the PG would, and reads
 * the tables and queues to check the results. Shared by the integration tests.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import type { Payment, PaymentMethod } from '../../lambdas/domain/payment';
import { signPgBody } from '../../lambdas/functions/pg-deposit-callback/pg-callback-signature';
import { callApi, type ApiResponse, type LocalStack } from './local-stack-harness';

/** Every item of a table (small test tables only). */

let orderCounter = 0;

export function newOrderId(): string {
  orderCounter += 1;
  return `order-${process.pid}-${Date.now()}-${orderCounter}`;
}

export async function createPayment(
  stack: LocalStack,
  method: PaymentMethod,
  options: { amount?: number; currency?: string; idempotencyKey?: string; orderId?: string } = {},
): Promise<Payment> {
  const response = await callApi(stack, 'POST', '/payments', {
    body: { orderId: options.orderId ?? newOrderId(), amount: options.amount ?? 15_000, currency: options.currency ?? 'KRW', method },
    headers: options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {},
  });
  expect(response.status, response.text).toBe(201);
  return response.body as Payment;
}

export async function confirm(stack: LocalStack, paymentId: string, cardToken = 'tok_visa'): Promise<ApiResponse> {
  return callApi(stack, 'POST', `/payments/${paymentId}/confirm`, { body: { cardToken } });
}

export async function cancel(stack: LocalStack, paymentId: string, reason = 'customer request'): Promise<ApiResponse> {
  return callApi(stack, 'POST', `/payments/${paymentId}/cancel`, { body: { reason } });
}

/** Sends the PG's deposit callback, signed with the stack's webhook secret unless `secret` says otherwise. */
export async function deposit(
  stack: LocalStack,
  payment: Pick<Payment, 'paymentId' | 'amount'>,
  options: { pgTransactionId?: string; amount?: number; secret?: string; rawBody?: string } = {},
): Promise<ApiResponse> {
  const body =
    options.rawBody ??
    JSON.stringify({
      pgTransactionId: options.pgTransactionId ?? `pg-${payment.paymentId}`,
      paymentId: payment.paymentId,
      amount: options.amount ?? payment.amount,
      depositedAt: '2026-11-25T10:00:00+09:00',
    });
  return callApi(stack, 'POST', '/pg/webhooks/deposits', {
    body,
    headers: { 'X-PG-Signature': signPgBody(body, options.secret ?? stack.endpoints.pgCallbackSecret) },
  });
}

export async function events(stack: LocalStack, paymentId: string): Promise<EventEnvelope[]> {
  const response = await callApi(stack, 'GET', `/payments/${paymentId}/events`);
  expect(response.status, response.text).toBe(200);
  return (response.body as { events: EventEnvelope[] }).events;
}

/** The envelope in a queue message, with the FIFO attributes the relay set. */
export function decodeMessage(message: Message) {
  const envelope = JSON.parse(message.Body ?? '') as EventEnvelope;
  return {
    envelope,
    groupId: message.Attributes?.MessageGroupId,
    deduplicationId: message.Attributes?.MessageDeduplicationId,
    eventTypeAttribute: message.MessageAttributes?.eventType?.StringValue,
    sequenceAttribute: message.MessageAttributes?.sequence?.StringValue,
  };
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last !== undefined) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
