/**
 * docs/asyncapi.yaml: how payment events reach subscribers, as AsyncAPI 3.0. The SNS FIFO topic,
 * each subscriber's SQS FIFO queue with its DLQ and its subscription's DLQ, and the webhook
 * requests the dispatcher sends, with the names, attributes, headers and limits the code uses.
 * Payloads reference schemas/payment-event.schema.json.
 */
import { DEFAULT_MAX_RECEIVE_COUNT, subscriptionDlqName, VISIBILITY_TIMEOUT_FACTOR } from '../../lib/constructs/subscriber-queue';
import { WEBHOOK_USER_AGENT } from '../../lambdas/adapters/http-webhook-client';
import { eventMessageAttributes } from '../../lambdas/adapters/event-message';
import { ENVELOPE_SCHEMA_VERSION, PAYMENT_EVENT_TYPES, type PaymentEventType } from '../../lambdas/domain/event-envelope';
import { subscriberDlqName, subscriberQueueName, WEBHOOK_DEFAULTS, WEBHOOK_LIMITS } from '../../lambdas/domain/subscribers';
import { TRACEPARENT } from '../../lambdas/domain/trace-context';
import { MIN_RETRY_DELAY_SECONDS, WEBHOOK_GROUP_DEPTH_BOUND, WEBHOOK_REDRIVE_MARGIN } from '../../lambdas/domain/webhook-delivery-policy';
import { DEFAULT_TOLERANCE_SECONDS, STANDARD_WEBHOOK_HEADERS, WEBHOOK_HEADERS } from '../../lambdas/domain/webhook-signature';
import { PAYMENT_EVENTS_TOPIC_NAME } from '../../lambdas/platform/resource-names';
import { envelopeDefName, eventTypeName, PAYMENT_EVENT_SCHEMA_PATH, type JsonSchema } from './payment-event-json-schema';

/** Repository path of the generated document. */
export const ASYNCAPI_PATH = 'docs/asyncapi.yaml';

/** The consumer's default timeout (SubscriberQueue consumerTimeout), whose multiple is the queue's visibility timeout. */
const DEFAULT_CONSUMER_TIMEOUT_SECONDS = 30;

const SUBSCRIBER = '{subscriber}';

const payloadRef = (type: PaymentEventType) => ({ $ref: `../${PAYMENT_EVENT_SCHEMA_PATH}#/$defs/${envelopeDefName(type)}` });

/** W3C Trace Context as the stack writes it (formatTraceparent: version 00, lowercase hex). */
const TRACEPARENT_PATTERN = '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$';
/** The W3C Trace Context specification's own example, shown as the value's example. */
export const EXAMPLE_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
export const TRACEPARENT_FORMAT = 'W3C Trace Context `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`';

/**
 * The message attributes every event message carries, from the publisher's own function: the
 * properties from a sample with every optional attribute (so an attribute the publisher adds
 * without a description here fails the generation), `required` from one without them.
 */
function messageAttributesSchema(): JsonSchema {
  const fields = { type: PAYMENT_EVENT_TYPES[0], sequence: 1, aggregateId: 'p' };
  const sample = eventMessageAttributes(fields, EXAMPLE_TRACEPARENT);
  const descriptions: Record<string, JsonSchema> = {
    eventType: { type: 'string', enum: [...PAYMENT_EVENT_TYPES], description: 'The envelope\'s `type`; what SNS filter policies (`{"eventType": [...]}`) match.' },
    sequence: { type: 'string', pattern: '^[1-9][0-9]*$', description: 'The envelope\'s `sequence` (DataType Number).' },
    aggregateId: { type: 'string', description: 'The envelope\'s `aggregateId`: the payment id.' },
    [TRACEPARENT]: {
      type: 'string',
      pattern: TRACEPARENT_PATTERN,
      examples: [EXAMPLE_TRACEPARENT],
      description: `The trace of the API call that caused the event (or of the PG reconciler's run that settled it), as ${TRACEPARENT_FORMAT}. Present when the change was made under one, which every API call, PG callback and reconciler run is; absent otherwise (\`npm run outbox -- attempts reconcile\`, outbox items written before traces were kept). Continue the trace from it (\`messageTraceContext\` in @payment-outbox/consumer, or any W3C propagator); the webhook dispatcher's dead letters keep it.`,
    },
  };
  const properties = Object.fromEntries(
    Object.entries(sample).map(([name, attribute]) => {
      const schema = descriptions[name];
      if (schema === undefined) throw new Error(`tools/schemas/asyncapi.ts does not describe the message attribute ${name}`);
      return [name, { ...schema, 'x-sqs-data-type': attribute.DataType }];
    }),
  );
  return {
    type: 'object',
    description: 'SQS/SNS message attributes (StringValue of each; DataType in x-sqs-data-type), so a consumer can route without parsing the body.',
    required: Object.keys(eventMessageAttributes(fields)),
    properties,
  };
}

function webhookHeadersSchema(): JsonSchema {
  return {
    type: 'object',
    required: [...Object.values(STANDARD_WEBHOOK_HEADERS), ...Object.values(WEBHOOK_HEADERS), 'Content-Type'],
    properties: {
      'Content-Type': { type: 'string', const: 'application/json' },
      'User-Agent': { type: 'string', const: WEBHOOK_USER_AGENT },
      [STANDARD_WEBHOOK_HEADERS.id]: { type: 'string', description: 'The event id: the same on every retry of one event; deduplicate on it.' },
      [STANDARD_WEBHOOK_HEADERS.timestamp]: { type: 'string', pattern: '^[0-9]+$', description: 'When the request was signed, Unix seconds.' },
      [STANDARD_WEBHOOK_HEADERS.signature]: {
        type: 'string',
        pattern: '^v1,[A-Za-z0-9+/]{43}=( v1,[A-Za-z0-9+/]{43}=)*$',
        description:
          '`v1,` + base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>"), one space-separated entry per key during a rotation (Standard Webhooks). A key is `whsec_<base64>` or bare base64.',
      },
      [WEBHOOK_HEADERS.eventId]: { type: 'string', description: 'Copy of the body\'s `eventId` (not signed; must agree with the body).' },
      [WEBHOOK_HEADERS.eventType]: { type: 'string', enum: [...PAYMENT_EVENT_TYPES], description: 'Copy of the body\'s `type`.' },
      [WEBHOOK_HEADERS.sequence]: { type: 'string', pattern: '^[1-9][0-9]*$', description: 'Copy of the body\'s `sequence`.' },
      [WEBHOOK_HEADERS.aggregateId]: { type: 'string', description: 'Copy of the body\'s `aggregateId` (the payment id).' },
      [TRACEPARENT]: {
        type: 'string',
        pattern: TRACEPARENT_PATTERN,
        examples: [EXAMPLE_TRACEPARENT],
        description: `${TRACEPARENT_FORMAT}, sent when the event's message carries a \`${TRACEPARENT}\` attribute: the same trace id, a new parent id per request (each attempt is its own span). Not signed: use it to continue the trace, never to decide anything.`,
      },
    },
  };
}

const FIFO_MESSAGE_PROPERTIES = {
  messageGroupId: 'aggregateId (the payment id): order is kept per payment',
  messageDeduplicationId: 'eventId: a copy published again within 5 minutes is dropped',
};

function messages(): Record<string, JsonSchema> {
  const entries: Array<[string, JsonSchema]> = [];
  for (const type of PAYMENT_EVENT_TYPES) {
    const name = eventTypeName(type);
    entries.push([
      name,
      {
        name: type,
        title: type,
        summary: `A \`${type}\` event on the topic and the subscriber queues.`,
        contentType: 'application/json',
        headers: { $ref: '#/components/schemas/EventMessageAttributes' },
        payload: payloadRef(type),
        correlationId: { $ref: '#/components/correlationIds/EventId' },
        'x-fifo': FIFO_MESSAGE_PROPERTIES,
      },
    ]);
    entries.push([
      `${name}Webhook`,
      {
        name: `${type} webhook`,
        title: `${type} webhook request`,
        summary: `A \`${type}\` event POSTed to a webhook subscriber.`,
        contentType: 'application/json',
        headers: { $ref: '#/components/schemas/WebhookHeaders' },
        payload: payloadRef(type),
        correlationId: { $ref: '#/components/correlationIds/EventId' },
      },
    ]);
  }
  return Object.fromEntries(entries);
}

const eventMessageRefs = (suffix = '') =>
  Object.fromEntries(PAYMENT_EVENT_TYPES.map((type) => [`${eventTypeName(type)}${suffix}`, { $ref: `#/components/messages/${eventTypeName(type)}${suffix}` }]));

const subscriberParameter = {
  subscriber: { description: 'The subscriber\'s name (kebab case); a staged stack prefixes `<stage>-`.' },
};

export function asyncApiDocument(): Record<string, unknown> {
  const visibilityTimeout = DEFAULT_CONSUMER_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR;
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Payment events',
      version: String(ENVELOPE_SCHEMA_VERSION),
      description: [
        'How the payment service announces every state change of a payment. Each change commits the payment and one event (the envelope, schemas/payment-event.schema.json) in one DynamoDB transaction; the outbox relay publishes it to an SNS FIFO topic, which delivers it to each subscriber\'s own SQS FIFO queue (raw message delivery, filtered by `eventType`). A subscriber that offers only an HTTP endpoint gets each event POSTed by a webhook dispatcher that consumes its queue.',
        '',
        'Guarantees: at-least-once (deduplicate on `eventId`); in order per payment (`sequence` 1, 2, 3, ... without gaps; the FIFO message group is the payment id), no order across payments. A consumer applies event n + 1 only after n, skips what it applied already, and fails (retries) on a gap.',
        '',
        `The operations are the service's: it sends; consumers receive from their queue or endpoint. Version ${ENVELOPE_SCHEMA_VERSION} is the envelope's schemaVersion. Generated by \`npm run schemas\`; do not edit.`,
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      sns: { host: 'sns.{region}.amazonaws.com', protocol: 'sns', description: 'Amazon SNS of the stack\'s region.', variables: { region: { default: 'us-east-1' } } },
      sqs: { host: 'sqs.{region}.amazonaws.com', protocol: 'sqs', description: 'Amazon SQS of the stack\'s region.', variables: { region: { default: 'us-east-1' } } },
      webhookReceiver: {
        host: '{host}',
        protocol: 'https',
        description: 'The webhook subscriber\'s own server (its configured `url`; plain http only for localhost).',
        variables: { host: { description: 'Host of the subscriber\'s URL.' } },
      },
    },
    channels: {
      paymentEventsTopic: {
        address: PAYMENT_EVENTS_TOPIC_NAME,
        title: 'Payment events topic',
        description: `The SNS FIFO topic \`${PAYMENT_EVENTS_TOPIC_NAME}\` (\`<stage>-${PAYMENT_EVENTS_TOPIC_NAME}\` in a staged stack). Deduplication and throughput per message group (payment). One publish per event whatever the number of subscribers.`,
        servers: [{ $ref: '#/servers/sns' }],
        messages: eventMessageRefs(),
        bindings: { sns: { name: PAYMENT_EVENTS_TOPIC_NAME, ordering: { type: 'FIFO', contentBasedDeduplication: false }, bindingVersion: '0.1.0' } },
      },
      subscriberQueue: {
        address: subscriberQueueName(SUBSCRIBER),
        title: 'A subscriber\'s queue',
        description: [
          `Each subscriber's SQS FIFO queue, subscribed to the topic with raw message delivery (the body is the envelope, the attributes are the message attributes) and the filter policy of its \`eventTypes\` (all types when absent).`,
          `Receive, process, delete: a message not deleted within the visibility timeout (${VISIBILITY_TIMEOUT_FACTOR} × the consumer's timeout, ${visibilityTimeout} s by default) is received again; after maxReceiveCount receives (${DEFAULT_MAX_RECEIVE_COUNT} by default; a webhook subscriber's queue min(1000, maxAttempts × ${WEBHOOK_GROUP_DEPTH_BOUND} + ${WEBHOOK_REDRIVE_MARGIN})) it moves to the subscriber's DLQ. SQS hands out a payment's messages in order, and none while an earlier one of the same payment is in flight (one receive may return several, in order).`,
        ].join(' '),
        servers: [{ $ref: '#/servers/sqs' }],
        parameters: subscriberParameter,
        messages: eventMessageRefs(),
        bindings: {
          sqs: {
            queue: {
              name: subscriberQueueName(SUBSCRIBER),
              fifoQueue: true,
              deduplicationScope: 'messageGroup',
              fifoThroughputLimit: 'perMessageGroupId',
              visibilityTimeout,
              messageRetentionPeriod: 4 * 86_400,
              redrivePolicy: { deadLetterQueue: { name: subscriberDlqName(SUBSCRIBER) }, maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT },
            },
            deadLetterQueue: { name: subscriberDlqName(SUBSCRIBER), fifoQueue: true, messageRetentionPeriod: 14 * 86_400 },
            bindingVersion: '0.2.0',
          },
        },
      },
      subscriberDeadLetterQueue: {
        address: subscriberDlqName(SUBSCRIBER),
        title: 'A subscriber\'s DLQ',
        description: [
          'The FIFO dead-letter queue of a subscriber\'s queue (14 days), same message group and body.',
          'A webhook dispatcher dead-letters an event itself, adding the attributes `deadLetterReason` (rejected, attempts-exhausted, invalid-message), `attempts`, `lastError`, `lastStatusCode`, `subscriber` and `eventId` (the event\'s own, `traceparent` included, stay; when it was dead-lettered is the message\'s SentTimestamp: SQS takes 10 attributes at most).',
          'Redrive with `npm run outbox -- redrive`.',
        ].join(' '),
        servers: [{ $ref: '#/servers/sqs' }],
        parameters: subscriberParameter,
        messages: eventMessageRefs(),
      },
      subscriptionDeadLetterQueue: {
        address: subscriptionDlqName(SUBSCRIBER),
        title: 'A subscription\'s DLQ',
        description: 'The FIFO dead-letter queue of a subscriber\'s SNS subscription (14 days): the events SNS could not deliver to the subscriber\'s queue (a deleted queue, a broken queue policy). Alarmed on (<Subscriber>SnsDeadLetterQueueNotEmpty).',
        servers: [{ $ref: '#/servers/sqs' }],
        parameters: subscriberParameter,
        messages: eventMessageRefs(),
      },
      webhook: {
        address: null,
        title: 'A webhook subscriber\'s endpoint',
        description: 'The `url` of a webhook subscriber (https).',
        servers: [{ $ref: '#/servers/webhookReceiver' }],
        messages: eventMessageRefs('Webhook'),
      },
    },
    operations: {
      publishPaymentEvent: {
        action: 'send',
        channel: { $ref: '#/channels/paymentEventsTopic' },
        title: 'Publish a payment event',
        summary: 'The outbox relay publishes each committed event (PublishBatch), in sequence order per payment.',
        description: `MessageGroupId = ${FIFO_MESSAGE_PROPERTIES.messageGroupId}; MessageDeduplicationId = ${FIFO_MESSAGE_PROPERTIES.messageDeduplicationId}. An event is published at least once: after a failure it is published again (a later copy outside the 5-minute deduplication window reaches subscribers again), so consumers deduplicate on eventId.`,
        messages: Object.values(eventMessageRefs()).map(({ $ref }) => ({ $ref: $ref.replace('#/components/messages/', '#/channels/paymentEventsTopic/messages/') })),
      },
      deliverToSubscriberQueue: {
        action: 'send',
        channel: { $ref: '#/channels/subscriberQueue' },
        title: 'Deliver to a subscriber queue',
        summary: 'SNS delivers each event its filter accepts to the subscriber\'s queue; the subscriber receives it from there.',
        messages: Object.keys(eventMessageRefs()).map((name) => ({ $ref: `#/channels/subscriberQueue/messages/${name}` })),
      },
      deadLetterEvent: {
        action: 'send',
        channel: { $ref: '#/channels/subscriberDeadLetterQueue' },
        title: 'Dead-letter an event',
        summary: 'SQS redrive (maxReceiveCount) or the webhook dispatcher moves an event that cannot be processed to the subscriber\'s DLQ.',
        messages: Object.keys(eventMessageRefs()).map((name) => ({ $ref: `#/channels/subscriberDeadLetterQueue/messages/${name}` })),
      },
      deadLetterSubscriptionDelivery: {
        action: 'send',
        channel: { $ref: '#/channels/subscriptionDeadLetterQueue' },
        title: 'Dead-letter an undeliverable SNS delivery',
        summary: 'SNS moves an event it could not deliver to the subscriber\'s queue to the subscription\'s DLQ.',
        messages: Object.keys(eventMessageRefs()).map((name) => ({ $ref: `#/channels/subscriptionDeadLetterQueue/messages/${name}` })),
      },
      deliverWebhook: {
        action: 'send',
        channel: { $ref: '#/channels/webhook' },
        title: 'POST an event to a webhook subscriber',
        summary: 'The webhook dispatcher POSTs each event of the subscriber\'s queue to its URL, signed as Standard Webhooks says.',
        description: [
          'Verify with any Standard Webhooks library (the `standardwebhooks` package on npm, PyPI, Go, Java, Ruby, PHP, Rust, C#) and the subscriber\'s secret; refuse timestamps more than ' +
            `${DEFAULT_TOLERANCE_SECONDS} s from your clock. Trust the signed body, not the X- headers nor \`${TRACEPARENT}\` (not signed either; it continues the trace of the API call that caused the event). Answer 2xx once the event is processed.`,
          '',
          `Answers: 2xx delivered. 5xx, 429, 408, a timeout (${WEBHOOK_DEFAULTS.timeoutSeconds} s by default, ${WEBHOOK_LIMITS.timeoutSeconds.min}-${WEBHOOK_LIMITS.timeoutSeconds.max}) or a connection error: retried after min(maxSeconds, baseSeconds × 2^(attempt − 1)) seconds with full jitter (at least ${MIN_RETRY_DELAY_SECONDS} s; defaults base ${WEBHOOK_DEFAULTS.backoff.baseSeconds} s, max ${WEBHOOK_DEFAULTS.backoff.maxSeconds} s), or after Retry-After (seconds or HTTP date, capped at maxSeconds); after maxAttempts (${WEBHOOK_DEFAULTS.maxAttempts} by default, ${WEBHOOK_LIMITS.maxAttempts.min}-${WEBHOOK_LIMITS.maxAttempts.max}) dead-lettered as attempts-exhausted. Any other 4xx, and 3xx (redirects are not followed): dead-lettered at once as rejected.`,
          '',
          'Order: a payment\'s event n + 1 is not sent before event n got a 2xx or was dead-lettered. The same webhook-id can arrive more than once: deduplicate on it.',
        ].join('\n'),
        bindings: { http: { method: 'POST', bindingVersion: '0.3.0' } },
        messages: Object.keys(eventMessageRefs('Webhook')).map((name) => ({ $ref: `#/channels/webhook/messages/${name}` })),
        'x-retry-policy': {
          retryableStatuses: ['5xx', 429, 408],
          retryableFailures: ['timeout', 'connection error'],
          deadLetterAtOnce: ['other 4xx', '3xx'],
          defaults: { timeoutSeconds: WEBHOOK_DEFAULTS.timeoutSeconds, maxAttempts: WEBHOOK_DEFAULTS.maxAttempts, backoff: WEBHOOK_DEFAULTS.backoff },
          minDelaySeconds: MIN_RETRY_DELAY_SECONDS,
        },
      },
    },
    components: {
      schemas: {
        EventMessageAttributes: messageAttributesSchema(),
        WebhookHeaders: webhookHeadersSchema(),
      },
      messages: messages(),
      correlationIds: {
        EventId: { description: 'The event id: the deduplication id and the webhook-id.', location: '$message.payload#/eventId' },
      },
    },
  };
}
