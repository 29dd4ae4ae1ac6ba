import { describe, expect, it } from 'vitest';
import {
  acceptsEventType,
  parseSubscribers,
  parseSubscribersJson,
  serializeSubscribers,
  snsFilterPolicy,
  SubscriberConfigError,
  subscriberDlqName,
  subscriberQueueName,
  webhookUrlProblem,
} from '../../lambdas/domain/subscribers';

function problemsOf(input: unknown): readonly string[] {
  try {
    parseSubscribers(input);
  } catch (error) {
    if (error instanceof SubscriberConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a SubscriberConfigError');
}

const webhook = (delivery: Record<string, unknown> = {}) => ({
  name: 'shop',
  delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks', ...delivery },
});

describe('parseSubscribers', () => {
  it('applies the webhook defaults: 5 s timeout, 8 attempts, backoff 2 s doubling up to 300 s', () => {
    const [subscriber] = parseSubscribers([webhook()]);

    expect(subscriber).toEqual({
      name: 'shop',
      delivery: {
        kind: 'webhook',
        url: 'https://shop.example.com/hooks',
        timeoutSeconds: 5,
        maxAttempts: 8,
        backoff: { baseSeconds: 2, maxSeconds: 300 },
      },
    });
  });

  it('keeps explicit webhook settings and fills only the missing backoff bound', () => {
    const [subscriber] = parseSubscribers([webhook({ timeoutSeconds: 29, maxAttempts: 1, backoff: { baseSeconds: 10 } })]);

    expect(subscriber?.delivery).toMatchObject({ timeoutSeconds: 29, maxAttempts: 1, backoff: { baseSeconds: 10, maxSeconds: 300 } });
  });

  it('takes a queue subscriber with every event type when eventTypes is omitted', () => {
    const [subscriber] = parseSubscribers([{ name: 'ledger', delivery: { kind: 'queue' } }]);

    expect(subscriber).toEqual({ name: 'ledger', delivery: { kind: 'queue' } });
    expect(subscriber && acceptsEventType(subscriber, 'payment.failed')).toBe(true);
  });

  it('returns event types in the canonical order, whatever order they were listed in', () => {
    const [subscriber] = parseSubscribers([
      { name: 'ledger', eventTypes: ['payment.cancelled', 'payment.created'], delivery: { kind: 'queue' } },
    ]);

    expect(subscriber?.eventTypes).toEqual(['payment.created', 'payment.cancelled']);
  });

  it.each([
    ['an upper-case name', { name: 'Shop', delivery: { kind: 'queue' } }, 'subscribers[0] (Shop).name: must be kebab case (a-z, 0-9, single hyphens between words)'],
    ['a double hyphen', { name: 'a--b', delivery: { kind: 'queue' } }, 'subscribers[0] (a--b).name: must be kebab case (a-z, 0-9, single hyphens between words)'],
    ['an empty name', { name: '', delivery: { kind: 'queue' } }, 'subscribers[0].name: must not be empty'],
    ['a 41-character name', { name: 'a'.repeat(41), delivery: { kind: 'queue' } }, `subscribers[0] (${'a'.repeat(41)}).name: must be at most 40 characters`],
    ['a name ending in -dlq', { name: 'shop-dlq', delivery: { kind: 'queue' } }, 'subscribers[0] (shop-dlq).name: must not end in -dlq (reserved for dead-letter queues)'],
    ['a missing name', { delivery: { kind: 'queue' } }, 'subscribers[0].name: is required'],
    ['a missing delivery', { name: 'shop' }, 'subscribers[0] (shop).delivery: is required'],
    ['an unknown kind', { name: 'shop', delivery: { kind: 'email' } }, 'subscribers[0] (shop).delivery.kind: must be "queue" or "webhook"'],
    ['an unknown field', { name: 'shop', colour: 'red', delivery: { kind: 'queue' } }, 'subscribers[0] (shop): unknown field colour'],
    ['an unknown delivery field', webhook({ retries: 3 }), 'subscribers[0] (shop).delivery: unknown field retries'],
    ['no event types', { name: 'shop', eventTypes: [], delivery: { kind: 'queue' } }, 'subscribers[0] (shop).eventTypes: must list at least one event type (omit it for all)'],
    ['an unknown event type', { name: 'shop', eventTypes: ['payment.refunded'], delivery: { kind: 'queue' } }, 'subscribers[0] (shop).eventTypes[0]: must be one of payment.created, payment.approved, payment.failed, payment.cancelled'],
    ['a repeated event type', { name: 'shop', eventTypes: ['payment.failed', 'payment.failed'], delivery: { kind: 'queue' } }, 'subscribers[0] (shop).eventTypes: must not repeat an event type'],
    ['a missing url', { name: 'shop', delivery: { kind: 'webhook' } }, 'subscribers[0] (shop).delivery.url: is required'],
    ['a plain-http url', webhook({ url: 'http://shop.example.com/hooks' }), 'subscribers[0] (shop).delivery.url: must use https (plain http only for localhost or 127.0.0.1)'],
    ['a relative url', webhook({ url: '/hooks' }), 'subscribers[0] (shop).delivery.url: must be an absolute URL'],
    ['a timeout of 30 s', webhook({ timeoutSeconds: 30 }), 'subscribers[0] (shop).delivery.timeoutSeconds: must be between 1 and 29'],
    ['a fractional timeout', webhook({ timeoutSeconds: 2.5 }), 'subscribers[0] (shop).delivery.timeoutSeconds: must be an integer number of seconds'],
    ['0 attempts', webhook({ maxAttempts: 0 }), 'subscribers[0] (shop).delivery.maxAttempts: must be between 1 and 20'],
    ['21 attempts', webhook({ maxAttempts: 21 }), 'subscribers[0] (shop).delivery.maxAttempts: must be between 1 and 20'],
    ['a string attempt count', webhook({ maxAttempts: '8' }), 'subscribers[0] (shop).delivery.maxAttempts: must be a number'],
    ['a backoff above 12 hours', webhook({ backoff: { maxSeconds: 43_201 } }), 'subscribers[0] (shop).delivery.backoff.maxSeconds: must be between 1 and 43200'],
    ['a base above the max', webhook({ backoff: { baseSeconds: 60, maxSeconds: 30 } }), 'subscribers[0] (shop).delivery.backoff: baseSeconds must not exceed maxSeconds'],
  ])('refuses %s with a precise message', (_case, subscriber, problem) => {
    expect(problemsOf([subscriber])).toEqual([problem]);
  });

  it('lists every problem of every subscriber', () => {
    const problems = problemsOf([
      webhook({ timeoutSeconds: 0 }),
      { name: 'ledger', delivery: { kind: 'queue' } },
      { name: 'Bad', delivery: { kind: 'queue' } },
    ]);

    expect(problems).toEqual([
      'subscribers[0] (shop).delivery.timeoutSeconds: must be between 1 and 29',
      'subscribers[2] (Bad).name: must be kebab case (a-z, 0-9, single hyphens between words)',
    ]);
  });

  it('refuses two subscribers with the same name (their queues would collide)', () => {
    expect(problemsOf([webhook(), { name: 'shop', delivery: { kind: 'queue' } }])).toEqual([
      'subscribers[1] (shop).name: duplicates subscribers[0].name "shop"',
    ]);
  });

  it('refuses a configuration that is not a list', () => {
    expect(problemsOf({ name: 'shop' })).toEqual(['subscribers: must be an array of subscribers']);
  });

  it('accepts an empty list', () => {
    expect(parseSubscribers([])).toEqual([]);
  });

  it('puts every problem in the error message', () => {
    expect(() => parseSubscribers([webhook({ maxAttempts: 0 })])).toThrow(
      'Invalid subscriber configuration: subscribers[0] (shop).delivery.maxAttempts: must be between 1 and 20',
    );
  });
});

describe('webhookUrlProblem', () => {
  it.each([
    'https://shop.example.com/hooks/payments',
    'https://shop.example.com:8443/hooks?tenant=7',
    'http://localhost:3001/',
    'http://127.0.0.1:3001/webhooks',
  ])('accepts %s', (url) => {
    expect(webhookUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ['http://10.0.0.5/hook', 'must use https (plain http only for localhost or 127.0.0.1)'],
    ['http://localhost.example.com/hook', 'must use https (plain http only for localhost or 127.0.0.1)'],
    ['ftp://shop.example.com/hook', 'must use https'],
    ['https://user:pass@shop.example.com/hook', 'must not carry credentials (the request is signed instead)'],
    ['https://shop.example.com/hook#part', 'must not have a fragment'],
    ['shop.example.com/hook', 'must be an absolute URL'],
  ])('refuses %s', (url, problem) => {
    expect(webhookUrlProblem(url)).toBe(problem);
  });
});

describe('SUBSCRIBERS_JSON', () => {
  it('round-trips through JSON unchanged, defaults included', () => {
    const subscribers = parseSubscribers([
      { name: 'ledger', delivery: { kind: 'queue' } },
      { ...webhook({ backoff: { baseSeconds: 1, maxSeconds: 60 } }), eventTypes: ['payment.approved'] },
    ]);

    expect(parseSubscribersJson(serializeSubscribers(subscribers))).toEqual(subscribers);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseSubscribersJson('[{name:')).toThrow('subscribers: is not valid JSON');
  });

  it('validates what the JSON holds', () => {
    expect(() => parseSubscribersJson('[{"name":"x","delivery":{"kind":"webhook","url":"http://x.example"}}]')).toThrow(
      'subscribers[0] (x).delivery.url: must use https',
    );
  });
});

describe('queue names', () => {
  it('names the queue <name>.fifo and its DLQ <name>-dlq.fifo', () => {
    expect(subscriberQueueName('shop-orders')).toBe('shop-orders.fifo');
    expect(subscriberDlqName('shop-orders')).toBe('shop-orders-dlq.fifo');
  });

  it('keeps the longest name within the 80-character SQS limit', () => {
    expect(subscriberDlqName('a'.repeat(40)).length).toBeLessThanOrEqual(80);
  });
});

describe('snsFilterPolicy', () => {
  it('is absent for a subscriber of every event type', () => {
    expect(snsFilterPolicy({})).toBeUndefined();
  });

  it('is absent when the subscriber lists every event type', () => {
    expect(
      snsFilterPolicy({ eventTypes: ['payment.created', 'payment.approved', 'payment.failed', 'payment.cancelled'] }),
    ).toBeUndefined();
  });

  it('matches the eventType message attribute against the listed types', () => {
    expect(snsFilterPolicy({ eventTypes: ['payment.approved', 'payment.cancelled'] })).toEqual({
      eventType: ['payment.approved', 'payment.cancelled'],
    });
  });
});

describe('acceptsEventType', () => {
  it('accepts only the listed types', () => {
    const subscriber = { eventTypes: ['payment.approved'] as const };

    expect(acceptsEventType(subscriber, 'payment.approved')).toBe(true);
    expect(acceptsEventType(subscriber, 'payment.created')).toBe(false);
  });
});
