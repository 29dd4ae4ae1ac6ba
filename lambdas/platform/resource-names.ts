/**
 * Names of the broker resources every part of the project refers to: the CDK stack creates them,
 * the local runner, the CLI, chaos and the tests look them up by them. One definition.
 */
import { subscriberDlqName, subscriberQueueName } from '../domain/subscribers';

/** The SNS FIFO topic the relay and the sweeper publish every payment event to. */
export const PAYMENT_EVENTS_TOPIC_NAME = 'payment-events.fifo';

/** The relay's on-failure destination (a standard queue: stream records the relay gave up on). */
export const RELAY_FAILURES_QUEUE_NAME = 'relay-failures';

/** The queue subscriber the example consumer reads (`payment-events.fifo`, DLQ `payment-events-dlq.fifo`). */
export const EXAMPLE_CONSUMER_SUBSCRIBER = 'payment-events';
export const EXAMPLE_CONSUMER_QUEUE_NAME = subscriberQueueName(EXAMPLE_CONSUMER_SUBSCRIBER);
export const EXAMPLE_CONSUMER_DLQ_NAME = subscriberDlqName(EXAMPLE_CONSUMER_SUBSCRIBER);

export { subscriberDlqName, subscriberQueueName };
