import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { deliverySortKey, paymentDeliveriesView, type DeliveryRecord, type PublishedEvent } from '../../lambdas/domain/delivery-state';
import { PaymentNotFoundError } from '../../lambdas/domain/errors';
import { parseSubscribers } from '../../lambdas/domain/subscribers';
import { listPaymentDeliveries } from '../../lambdas/functions/list-payment-deliveries/list-payment-deliveries';
import { paymentDeliveriesUseCase } from '../../lambdas/use-cases/delivery-status';
import { apiEvent, lambdaContext } from '../support/api-events';
import { testRuntime } from '../support/function-runtime';
import { envelope } from '../support/stream-events';

const subscribers = parseSubscribers([
  { name: 'ledger', delivery: { kind: 'queue' } },
  { name: 'shop', eventTypes: ['payment.approved', 'payment.cancelled'], delivery: { kind: 'webhook', url: 'https://shop.example.com/h' } },
  { name: 'crm', delivery: { kind: 'webhook', url: 'https://crm.example.com/h' } },
]);

const created = envelope('pay-1', 1, { type: 'payment.created' });
const approved = envelope('pay-1', 2, { type: 'payment.approved' });
const cancelled = envelope('pay-1', 3, { type: 'payment.cancelled' });

const base = (event: typeof created, subscriber: string) => ({
  subscriber,
  paymentId: 'pay-1',
  sequence: event.sequence,
  eventId: event.eventId,
  eventType: event.type,
  occurredAt: event.occurredAt,
  messageId: `m-${subscriber}-${event.sequence}`,
  updatedAt: '2026-11-25T00:00:09.000Z',
});

const records: DeliveryRecord[] = [
  { ...base(approved, 'shop'), attempts: 2, state: 'delivered', statusCode: 204, deliveredAt: '2026-11-25T00:00:03.000Z', latencyMs: 3000 },
  {
    ...base(cancelled, 'shop'),
    attempts: 3,
    state: 'retrying',
    lastError: 'HTTP 503',
    lastStatusCode: 503,
    nextAttemptAt: '2026-11-25T00:00:17.000Z',
  },
  { ...base(created, 'crm'), attempts: 1, state: 'dead-lettered', reason: 'rejected', lastError: 'HTTP 400: bad', lastStatusCode: 400, deadLetteredAt: '2026-11-25T00:00:01.000Z' },
  { ...base(approved, 'crm'), attempts: 2, state: 'retrying', lastError: 'timeout after 5000 ms', nextAttemptAt: '2026-11-25T00:00:12.000Z' },
];

const events: PublishedEvent[] = [
  { envelope: cancelled },
  { envelope: created, publishedAt: '2026-11-25T00:00:00.300Z' },
  { envelope: approved, publishedAt: '2026-11-25T00:00:00.900Z' },
];

describe('paymentDeliveriesView', () => {
  it('shows, per subscriber in configuration order, each accepted event in sequence order with its state', () => {
    const view = paymentDeliveriesView({ paymentId: 'pay-1', subscribers, events, records });

    expect(view).toEqual({
      paymentId: 'pay-1',
      subscribers: [
        {
          name: 'ledger',
          kind: 'queue',
          events: [
            { eventId: created.eventId, type: 'payment.created', sequence: 1, state: 'enqueued', enqueuedAt: '2026-11-25T00:00:00.300Z' },
            { eventId: approved.eventId, type: 'payment.approved', sequence: 2, state: 'enqueued', enqueuedAt: '2026-11-25T00:00:00.900Z' },
            { eventId: cancelled.eventId, type: 'payment.cancelled', sequence: 3, state: 'pending' },
          ],
        },
        {
          name: 'shop',
          kind: 'webhook',
          events: [
            {
              eventId: approved.eventId,
              type: 'payment.approved',
              sequence: 2,
              state: 'delivered',
              attempts: 2,
              statusCode: 204,
              deliveredAt: '2026-11-25T00:00:03.000Z',
              latencyMs: 3000,
            },
            {
              eventId: cancelled.eventId,
              type: 'payment.cancelled',
              sequence: 3,
              state: 'retrying',
              attempts: 3,
              lastError: 'HTTP 503',
              lastStatusCode: 503,
              nextAttemptAt: '2026-11-25T00:00:17.000Z',
            },
          ],
        },
        {
          name: 'crm',
          kind: 'webhook',
          events: [
            {
              eventId: created.eventId,
              type: 'payment.created',
              sequence: 1,
              state: 'dead-lettered',
              attempts: 1,
              reason: 'rejected',
              lastError: 'HTTP 400: bad',
              lastStatusCode: 400,
              deadLetteredAt: '2026-11-25T00:00:01.000Z',
            },
            {
              eventId: approved.eventId,
              type: 'payment.approved',
              sequence: 2,
              state: 'retrying',
              attempts: 2,
              lastError: 'timeout after 5000 ms',
              nextAttemptAt: '2026-11-25T00:00:12.000Z',
            },
            { eventId: cancelled.eventId, type: 'payment.cancelled', sequence: 3, state: 'pending' },
          ],
        },
      ],
    });
  });

  it('shows a webhook event as pending when its record belongs to another event id under the same key', () => {
    const stale = { ...records[0], eventId: 'evt-replaced' } as DeliveryRecord;

    const view = paymentDeliveriesView({ paymentId: 'pay-1', subscribers, events, records: [stale] });

    expect(view.subscribers[1]?.events[0]).toMatchObject({ sequence: 2, state: 'pending' });
  });

  it('answers an empty subscriber list with no subscribers', () => {
    expect(paymentDeliveriesView({ paymentId: 'pay-1', subscribers: [], events, records })).toEqual({ paymentId: 'pay-1', subscribers: [] });
  });
});

describe('deliverySortKey', () => {
  it('zero-pads the sequence to 10 digits so keys sort by sequence', () => {
    expect(deliverySortKey('shop', 7)).toBe('shop#0000000007');
    expect([deliverySortKey('a', 10), deliverySortKey('a', 9)].sort()).toEqual(['a#0000000009', 'a#0000000010']);
  });

  it.each([0, -1, 1.5, 10_000_000_000])('refuses sequence %d', (sequence) => {
    expect(() => deliverySortKey('shop', sequence)).toThrow(RangeError);
  });
});

describe('paymentDeliveriesUseCase', () => {
  const deps = (exists: boolean) => {
    const deliveries = { get: vi.fn(), put: vi.fn(), listForPayment: vi.fn(async () => records) };
    return {
      deliveries,
      deps: {
        subscribers,
        events: { paymentExists: async () => exists, listPublishedEvents: async () => events },
        deliveries,
      },
    };
  };

  it('answers the view of an existing payment', async () => {
    const { deps: d } = deps(true);

    const view = await paymentDeliveriesUseCase(d, 'pay-1');

    expect(view.subscribers.map((s) => s.name)).toEqual(['ledger', 'shop', 'crm']);
  });

  it('refuses an unknown payment with PAYMENT_NOT_FOUND', async () => {
    const { deps: d } = deps(false);

    await expect(paymentDeliveriesUseCase(d, 'nope')).rejects.toBeInstanceOf(PaymentNotFoundError);
  });

  it('does not read the delivery log when every subscriber reads a queue', async () => {
    const { deps: d, deliveries } = deps(true);

    await paymentDeliveriesUseCase({ ...d, subscribers: subscribers.slice(0, 1) }, 'pay-1');

    expect(deliveries.listForPayment).not.toHaveBeenCalled();
  });
});

describe('GET /payments/{paymentId}/deliveries handler', () => {
  /** The function's configuration, read the way its Lambda entry reads it. */
  const config = listPaymentDeliveries.configFromEnv({
    PAYMENTS_TABLE_NAME: 'Payments',
    OUTBOX_TABLE_NAME: 'Outbox',
    DELIVERIES_TABLE_NAME: 'Deliveries',
    SUBSCRIBERS_JSON: JSON.stringify([
      { name: 'ledger', delivery: { kind: 'queue' } },
      { name: 'shop', eventTypes: ['payment.approved'], delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks' } },
    ]),
  });
  const dynamo = mockClient(DynamoDBDocumentClient);
  let handler: ReturnType<typeof listPaymentDeliveries.createHandler>;
  beforeEach(() => {
    dynamo.reset();
    handler = listPaymentDeliveries.createHandler(config, testRuntime());
  });

  const get = (paymentId: string) =>
    handler(
      apiEvent({ method: 'GET', path: `/payments/${paymentId}/deliveries`, resource: '/payments/{paymentId}/deliveries', pathParameters: { paymentId } }),
      lambdaContext,
    ) as Promise<APIGatewayProxyResult>;

  it('answers 200 with the subscribers of SUBSCRIBERS_JSON and the states from the Outbox and Deliveries tables', async () => {
    dynamo.on(GetCommand, { TableName: 'Payments' }).resolves({ Item: { paymentId: 'pay-1' } });
    dynamo.on(QueryCommand, { TableName: 'Outbox' }).resolves({
      Items: [
        { ...created, expiresAt: 1, publishedAt: '2026-11-25T00:00:00.300Z' },
        { ...approved, expiresAt: 1, pendingShard: 'p01' },
      ],
    });
    dynamo.on(QueryCommand, { TableName: 'Deliveries' }).resolves({
      Items: [{ ...records[0], subscriber: 'shop', sk: 'shop#0000000002', expiresAt: 1 }],
    });

    const response = await get('pay-1');

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      paymentId: 'pay-1',
      subscribers: [
        {
          name: 'ledger',
          kind: 'queue',
          events: [
            { eventId: created.eventId, type: 'payment.created', sequence: 1, state: 'enqueued', enqueuedAt: '2026-11-25T00:00:00.300Z' },
            { eventId: approved.eventId, type: 'payment.approved', sequence: 2, state: 'pending' },
          ],
        },
        {
          name: 'shop',
          kind: 'webhook',
          events: [
            {
              eventId: approved.eventId,
              type: 'payment.approved',
              sequence: 2,
              state: 'delivered',
              attempts: 2,
              statusCode: 204,
              deliveredAt: '2026-11-25T00:00:03.000Z',
              latencyMs: 3000,
            },
          ],
        },
      ],
    });
  });

  it('answers 404 PAYMENT_NOT_FOUND for an unknown payment', async () => {
    dynamo.on(GetCommand).resolves({});
    dynamo.on(QueryCommand).resolves({ Items: [] });

    const response = await get('nope');

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'PAYMENT_NOT_FOUND', message: 'Payment nope does not exist' } });
  });

  it('answers 400 for a malformed payment id without reading any table', async () => {
    const response = await get('bad id!');

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('VALIDATION_ERROR');
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('answers 500 without details when a table cannot be read', async () => {
    dynamo.on(GetCommand).rejects(new Error('ResourceNotFoundException: Deliveries'));
    dynamo.on(QueryCommand).resolves({ Items: [] });

    const response = await get('pay-1');

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('ResourceNotFoundException');
  });
});
