/**
 * Subscribers as configuration, pure: who receives payment events, which event types, and how
 * (their own SQS FIFO queue, or a webhook the project calls). The CDK stack derives each
 * subscriber's queue, DLQ, SNS subscription filter and dispatcher from this; Lambdas receive the
 * list as JSON in `SUBSCRIBERS_JSON`.
 *
 * ```ts
 * const subscribers = parseSubscribers([
 *   { name: 'ledger', delivery: { kind: 'queue' } },
 *   { name: 'shop', eventTypes: ['payment.approved'], delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks/payments' } },
 * ]);
 * ```
 */
import * as z from 'zod/mini';
import { PAYMENT_EVENT_TYPES, type PaymentEventType } from './event-envelope';
import { ENGLISH_ISSUE_MESSAGES, valueAt } from './commands';
import {
  rangeMessage,
  SUBSCRIBER_NAME_MAX_LENGTH,
  SUBSCRIBER_NAME_MESSAGES,
  SUBSCRIBER_NAME_PATTERN,
  WEBHOOK_DEFAULTS,
  WEBHOOK_LIMITS,
  webhookUrlProblem,
} from './webhook-settings';

export { SUBSCRIBER_NAME_MAX_LENGTH, WEBHOOK_DEFAULTS, WEBHOOK_LIMITS, webhookUrlProblem };

export interface WebhookBackoff {
  /** First retry waits up to this long; doubles per attempt. */
  readonly baseSeconds: number;
  /** Upper bound of any delay, `Retry-After` included. */
  readonly maxSeconds: number;
}

export interface QueueDelivery {
  readonly kind: 'queue';
}

export interface WebhookDelivery {
  readonly kind: 'webhook';
  /** https, or http://localhost / http://127.0.0.1 for local use. */
  readonly url: string;
  /** Per request, 1-29. */
  readonly timeoutSeconds: number;
  /** Attempts before the event is dead-lettered, 1-20. */
  readonly maxAttempts: number;
  readonly backoff: WebhookBackoff;
}

export type SubscriberDelivery = QueueDelivery | WebhookDelivery;

/** A subscriber with every default applied (what `parseSubscribers` returns). */
export interface Subscriber {
  /** Kebab case, 1-40 characters; names its queues (`<name>.fifo`, `<name>-dlq.fifo`). */
  readonly name: string;
  /** The event types it receives, in the canonical order; absent: all of them. */
  readonly eventTypes?: readonly PaymentEventType[];
  readonly delivery: SubscriberDelivery;
}

export type WebhookSubscriber = Subscriber & { readonly delivery: WebhookDelivery };

/** Thrown when the subscriber configuration is invalid; lists every problem with its path. */
export class SubscriberConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid subscriber configuration: ${problems.join('; ')}`);
    this.name = 'SubscriberConfigError';
  }
}

const intIn = (label: string, { min, max }: { min: number; max: number }) =>
  z
    .number({ error: 'must be a number' })
    .check(
      z.int(`must be an integer number of ${label}`),
      z.minimum(min, rangeMessage({ min, max })),
      z.maximum(max, rangeMessage({ min, max })),
    );

const webhookUrl = z.string({ error: 'must be a string' }).check(
  z.superRefine((value, ctx) => {
    const problem = webhookUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

const webhookSchema = z.strictObject({
  kind: z.literal('webhook'),
  url: webhookUrl,
  timeoutSeconds: z._default(intIn('seconds', WEBHOOK_LIMITS.timeoutSeconds), WEBHOOK_DEFAULTS.timeoutSeconds),
  maxAttempts: z._default(intIn('attempts', WEBHOOK_LIMITS.maxAttempts), WEBHOOK_DEFAULTS.maxAttempts),
  backoff: z
    ._default(
      z.strictObject({
        baseSeconds: z._default(intIn('seconds', WEBHOOK_LIMITS.backoffBaseSeconds), WEBHOOK_DEFAULTS.backoff.baseSeconds),
        maxSeconds: z._default(intIn('seconds', WEBHOOK_LIMITS.backoffMaxSeconds), WEBHOOK_DEFAULTS.backoff.maxSeconds),
      }),
      { ...WEBHOOK_DEFAULTS.backoff },
    )
    .check(
      z.refine((backoff) => backoff.baseSeconds <= backoff.maxSeconds, {
        message: 'baseSeconds must not exceed maxSeconds',
      }),
    ),
});

const deliverySchema = z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('queue') }), webhookSchema], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'must be "queue" or "webhook"' : 'must be an object with a kind',
});

const subscriberSchema = z.strictObject({
  name: z
    .string({ error: 'must be a string' })
    .check(
      z.minLength(1, { error: SUBSCRIBER_NAME_MESSAGES.empty, abort: true }),
      z.maxLength(SUBSCRIBER_NAME_MAX_LENGTH, SUBSCRIBER_NAME_MESSAGES.tooLong),
      z.regex(SUBSCRIBER_NAME_PATTERN, SUBSCRIBER_NAME_MESSAGES.notKebab),
      z.refine((name) => !name.endsWith('-dlq'), SUBSCRIBER_NAME_MESSAGES.reserved),
    ),
  eventTypes: z.optional(
    z
      .array(z.enum(PAYMENT_EVENT_TYPES, { error: `must be one of ${PAYMENT_EVENT_TYPES.join(', ')}` }), {
        error: 'must be an array of event types',
      })
      .check(
        z.minLength(1, 'must list at least one event type (omit it for all)'),
        z.refine((types) => new Set(types).size === types.length, 'must not repeat an event type'),
      ),
  ),
  delivery: deliverySchema,
});

const subscribersSchema = z.array(subscriberSchema, { error: 'must be an array of subscribers' }).check(
  z.superRefine((subscribers, ctx) => {
    const seen = new Map<string, number>();
    subscribers.forEach((subscriber, index) => {
      const first = seen.get(subscriber.name);
      if (first === undefined) seen.set(subscriber.name, index);
      else ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicates subscribers[${first}].name "${subscriber.name}"` });
    });
  }),
);

/**
 * Validates a subscriber list and applies the defaults. Event types come back in the canonical
 * order of `PAYMENT_EVENT_TYPES`.
 * @throws SubscriberConfigError listing every problem, e.g. `subscribers[1].delivery.url: must use https`
 */
export function parseSubscribers(input: unknown): Subscriber[] {
  const result = subscribersSchema.safeParse(input, ENGLISH_ISSUE_MESSAGES);
  if (!result.success) {
    throw new SubscriberConfigError(
      result.error.issues.map((issue) => `${issuePath(issue.path, input)}: ${issueMessage(issue, input)}`),
    );
  }
  return result.data.map((subscriber) => {
    const { eventTypes, ...rest } = subscriber;
    const types = eventTypes === undefined ? undefined : PAYMENT_EVENT_TYPES.filter((type) => eventTypes.includes(type));
    return { ...rest, ...(types !== undefined && { eventTypes: types }) } as Subscriber;
  });
}

/** Parses `SUBSCRIBERS_JSON`. @throws SubscriberConfigError */
export function parseSubscribersJson(json: string): Subscriber[] {
  let input: unknown;
  try {
    input = JSON.parse(json);
  } catch {
    throw new SubscriberConfigError(['subscribers: is not valid JSON']);
  }
  return parseSubscribers(input);
}

/** The JSON for `SUBSCRIBERS_JSON`; `parseSubscribersJson` reads it back unchanged. */
export function serializeSubscribers(subscribers: readonly Subscriber[]): string {
  return JSON.stringify(subscribers);
}

/** `<name>.fifo`: the subscriber's FIFO queue. */
export function subscriberQueueName(name: string): string {
  return `${name}.fifo`;
}

/** `<name>-dlq.fifo`: the subscriber's FIFO dead-letter queue. */
export function subscriberDlqName(name: string): string {
  return `${name}-dlq.fifo`;
}

/** True when the subscriber receives events of `type`. */
export function acceptsEventType(subscriber: Pick<Subscriber, 'eventTypes'>, type: string): boolean {
  return subscriber.eventTypes === undefined || (subscriber.eventTypes as readonly string[]).includes(type);
}

/** The SNS subscription filter policy (scope MessageAttributes) on the `eventType` attribute. */
export interface EventTypeFilterPolicy {
  readonly eventType: readonly PaymentEventType[];
}

/**
 * The filter policy of the subscriber's SNS subscription, or `undefined` when it takes every
 * event type (no policy: a new event type reaches it without a configuration change).
 */
export function snsFilterPolicy(subscriber: Pick<Subscriber, 'eventTypes'>): EventTypeFilterPolicy | undefined {
  const types = subscriber.eventTypes;
  if (types === undefined || PAYMENT_EVENT_TYPES.every((type) => types.includes(type))) return undefined;
  return { eventType: [...types] };
}

export function isWebhookSubscriber(subscriber: Subscriber): subscriber is WebhookSubscriber {
  return subscriber.delivery.kind === 'webhook';
}

function issuePath(path: readonly PropertyKey[], input: unknown): string {
  const [index, ...rest] = path;
  if (index === undefined) return 'subscribers';
  const name = Array.isArray(input) ? (input[Number(index)] as { name?: unknown } | undefined)?.name : undefined;
  const label = typeof name === 'string' && name !== '' ? `subscribers[${String(index)}] (${name})` : `subscribers[${String(index)}]`;
  return rest.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`),
    label,
  );
}

function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) return 'is required';
  return issue.message;
}
