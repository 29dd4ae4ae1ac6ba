/**
 * A reusable SQS FIFO consumer of payment events: give it an inbox store and the effect of an
 * event, get a Lambda handler that
 * - parses each message into an envelope (a message that is not one fails; it reaches the DLQ
 *   after the queue's maxReceiveCount);
 * - applies each event at most once, by `eventId` (the inbox);
 * - acknowledges, without effect, a sequence its payment is already past;
 * - refuses a sequence beyond `lastSequence + 1` (SequenceGapError): the message fails and is
 *   retried after the visibility timeout, until the missing event was applied, or it reaches the
 *   DLQ, where the outbox DLQ tools redrive it in sequence order;
 * - answers with partial batch failures: a failed message fails the rest of its message group
 *   in the batch (`skipGroupOnError`), other groups go on;
 * - logs every line that handles an event with `eventId`, `paymentId` and `sequence`, and
 *   `traceId` when the message carries a `traceparent` attribute (the trace of the API call that
 *   caused the event; `apply` gets it to continue the trace in its own calls).
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { InvalidEnvelopeError, parseEnvelope, SequenceGapError } from '../domain/consumer-rules';
import { PAYMENT_EVENT_TYPES, type EventEnvelope, type PaymentEventType } from '../domain/event-envelope';
import { parseTraceparent, TRACEPARENT, type TraceContext } from '../domain/trace-context';
import type { InboxStore } from '../ports/inbox-store';
import { makeApplyOnce, type ApplyOutcome } from '../use-cases/apply-once';
import { OUTBOX_METRICS } from '../platform/metric-names';

export interface GuardedFifoConsumerOptions<E> {
  /**
   * Where applied events and each payment's last sequence are recorded; `commit` writes the
   * effect in the same transaction as the inbox record.
   */
  readonly store: InboxStore<E>;
  /**
   * The effect of an event that is next for its payment. Called only for an event about to be
   * committed (never for a duplicate or an old sequence), possibly again if a concurrent delivery
   * wins the race, so it should compute rather than act. The logger carries the event's keys;
   * `trace` is the message's trace context, to continue (`childTraceContext`) in calls it makes.
   */
  readonly apply: (envelope: EventEnvelope, context: ApplyContext) => E | Promise<E>;
  /** Lines about an event carry `eventId`, `paymentId`, `sequence`, `messageId`, `messageGroupId`, `traceId`. */
  readonly logger: Logger;
  /**
   * When given: EventsApplied, EventsSkipped, SequenceGaps, ApplyFailures, InvalidMessages (Count).
   * The caller flushes them (e.g. `logMetrics` middleware).
   */
  readonly metrics?: Metrics;
  /** Read-decide-commit rounds when concurrent deliveries race. @default 3 */
  readonly maxAttempts?: number;
  /**
   * The event types the queue's subscription delivers (its `eventTypes`, the SNS filter policy),
   * when it filters: the sequences of the other types never arrive, so the guard applies any
   * sequence above the last one applied instead of waiting for them, and acknowledges without
   * effect an event of another type. @default every type (each sequence must follow the last)
   */
  readonly eventTypes?: readonly PaymentEventType[];
}

/** What `apply` is given besides the event. */
export interface ApplyContext {
  readonly logger: Logger;
  /** The trace context the message carries (its `traceparent` attribute), if any. */
  readonly trace?: TraceContext;
}

/** The trace context an event message carries in its `traceparent` message attribute (raw SNS delivery or SQS). */
export function messageTraceContext(record: Pick<SQSRecord, 'messageAttributes'>): TraceContext | undefined {
  return parseTraceparent(record.messageAttributes?.[TRACEPARENT]?.stringValue);
}

/** The handler: SQS FIFO event in, partial batch response out. */
export type GuardedFifoHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function guardedFifoConsumer<E>(options: GuardedFifoConsumerOptions<E>): GuardedFifoHandler {
  const { store, apply, metrics } = options;
  const subscribed = new Set<string>(options.eventTypes ?? PAYMENT_EVENT_TYPES);
  const filtered = PAYMENT_EVENT_TYPES.some((type) => !subscribed.has(type));
  const applyOnce = makeApplyOnce(store, {
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    sequenceRule: filtered ? 'increasing' : 'contiguous',
  });
  const count = (name: string): void => {
    metrics?.addMetric(name, MetricUnit.Count, 1);
  };

  const handleRecord = async (record: SQSRecord): Promise<void> => {
    // A child per message: its keys cannot leak into other lines, even where several handlers
    // share one logger instance (the local runner loads every function into one process).
    const trace = messageTraceContext(record);
    const logger = options.logger.createChild({
      persistentKeys: { messageId: record.messageId, messageGroupId: record.attributes.MessageGroupId, ...(trace && { traceId: trace.traceId }) },
    });
    let envelope: EventEnvelope;
    try {
      envelope = parseEnvelope(record.body);
    } catch (error) {
      if (error instanceof InvalidEnvelopeError) {
        count(OUTBOX_METRICS.consumer.invalidMessages);
        logger.error('Message is not a payment event; it goes to the DLQ after its last receive', { error });
      }
      throw error;
    }
    logger.appendKeys({ eventId: envelope.eventId, paymentId: envelope.aggregateId, sequence: envelope.sequence });
    if (!subscribed.has(envelope.type)) {
      count(OUTBOX_METRICS.consumer.skipped);
      logger.warn('Event of a type this consumer does not subscribe to; acknowledged without effect', { type: envelope.type });
      return;
    }

    let outcome: ApplyOutcome;
    try {
      outcome = await applyOnce(envelope, (event) => apply(event, { logger, ...(trace && { trace }) }));
    } catch (error) {
      if (error instanceof SequenceGapError) {
        count(OUTBOX_METRICS.consumer.sequenceGaps);
        logger.warn('Earlier events are missing; message left for retry', {
          expectedSequence: error.expectedSequence,
          receiveCount: Number(record.attributes.ApproximateReceiveCount),
        });
      } else {
        count(OUTBOX_METRICS.consumer.applyFailures);
        logger.error('Event could not be applied; message left for retry', { error: error as Error });
      }
      throw error;
    }
    if (outcome.status === 'applied') {
      count(OUTBOX_METRICS.consumer.applied);
      logger.info('Event applied', { type: envelope.type });
    } else {
      count(OUTBOX_METRICS.consumer.skipped);
      logger.info('Event already applied; acknowledged without effect', { outcome });
    }
  };

  // A processor per invocation: it holds the batch's state, and the local runner may run two
  // invocations of one handler at the same time.
  return (event, context) =>
    processPartialResponse(event, handleRecord, new SqsFifoPartialProcessorAsync(), {
      context,
      skipGroupOnError: true,
      // A batch whose every message failed is answered with the full list rather than an error:
      // same retry, but an explicit response.
      throwOnFullBatchFailure: false,
    });
}
