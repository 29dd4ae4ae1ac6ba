/**
 * One webhook attempt for one message of the subscriber's queue: sign, POST, decide, act.
 *
 * - delivered (2xx): recorded; the caller acknowledges the message.
 * - retry: the message's visibility is set to the backoff delay (the next attempt), recorded as
 *   retrying; the caller reports the message as a batch item failure, which also holds back the
 *   payment's later events (same message group) until this one is delivered or dead-lettered.
 * - dead-letter: a copy goes to the subscriber's DLQ (same group, body unchanged, why in its
 *   attributes), recorded; the caller acknowledges the original.
 *
 * The attempt number counts this message's POSTs in the delivery log rather than SQS's
 * ApproximateReceiveCount: a message received behind a failed message of its group is handed
 * back without a POST, yet its receive count grows, so the count would dead-letter it early.
 * A redriven or replayed copy is a new message and starts again at attempt 1.
 *
 * The delivery log is read before the POST (a failure fails the message: it comes back after the
 * queue's visibility timeout); records after the POST are best effort (a failure is reported in
 * the outcome, never undoes what happened to the message).
 */
import { createHash } from 'node:crypto';
import { InvalidEnvelopeError, parseEnvelope } from '../domain/consumer-rules';
import type { DeliveryRecord } from '../domain/delivery-state';
import type { EventEnvelope } from '../domain/event-envelope';
import type { Clock } from '../ports/clock';
import type { DeliveryLog } from '../ports/delivery-log';
import type { QueueMessageRef, SubscriberQueue } from '../ports/subscriber-queue';
import type { WebhookClient } from '../ports/webhook-client';
import { decideDelivery, type DeadLetterReason, type RetryPolicy } from '../domain/webhook-delivery-policy';
import { signedWebhookHeaders } from '../domain/webhook-signature';
import { childTraceContext, formatTraceparent, TRACEPARENT, type TraceContext } from '../domain/trace-context';

export interface WebhookDispatchSettings {
  /** The subscriber's name (delivery records, dead-letter attributes). */
  readonly subscriber: string;
  readonly url: string;
  readonly timeoutSeconds: number;
  readonly policy: RetryPolicy;
}

export interface DispatchWebhookDeps {
  readonly settings: WebhookDispatchSettings;
  readonly client: WebhookClient;
  readonly queue: SubscriberQueue;
  readonly log: DeliveryLog;
  readonly clock: Clock;
  /** The signing key (cached by the provider). */
  readonly secret: () => Promise<string>;
  /** Uniform in [0, 1), for the backoff jitter. @default Math.random */
  readonly random?: () => number;
  /** A new span id (16 hex digits) for the request's `traceparent`. Without it, the message's own is sent on. */
  readonly newSpanId?: () => string;
}

/** A message of the subscriber's queue. */
export interface SubscriberMessage extends QueueMessageRef {
  readonly body: string;
  readonly messageGroupId: string;
  /** SQS's ApproximateReceiveCount (diagnostics only). */
  readonly receiveCount: number;
  /** The trace context of the message (its `traceparent` attribute): sent on as the request's `traceparent` header. */
  readonly trace?: TraceContext;
}

interface OutcomeBase {
  /** This message's attempt number (POSTs so far, this one included). */
  readonly attempt: number;
  /** Set when a best-effort step after the POST failed (delivery record, visibility change). */
  readonly warnings: ReadonlyArray<{ readonly step: string; readonly error: unknown }>;
}

export type DispatchOutcome =
  | (OutcomeBase & {
      readonly status: 'delivered';
      readonly event: EventEnvelope;
      readonly statusCode: number;
      readonly durationMs: number;
      readonly latencyMs: number;
    })
  | (OutcomeBase & {
      readonly status: 'retry-scheduled';
      readonly event: EventEnvelope;
      readonly delaySeconds: number;
      readonly delaySource: 'backoff' | 'retry-after';
      readonly nextAttemptAt: string;
      readonly error: string;
      readonly statusCode?: number;
      readonly durationMs: number;
    })
  | (OutcomeBase & {
      readonly status: 'dead-lettered';
      readonly event?: EventEnvelope;
      readonly reason: DeadLetterReason;
      readonly error: string;
      readonly statusCode?: number;
      readonly durationMs?: number;
    })
  /** This very message was delivered or dead-lettered before (its deletion failed): acknowledged without a POST. */
  | (OutcomeBase & { readonly status: 'already-settled'; readonly event: EventEnvelope; readonly state: 'delivered' | 'dead-lettered' });

export async function dispatchWebhook(message: SubscriberMessage, deps: DispatchWebhookDeps): Promise<DispatchOutcome> {
  const { settings, clock } = deps;
  const warnings: Array<{ step: string; error: unknown }> = [];

  let event: EventEnvelope;
  try {
    event = parseEnvelope(message.body);
  } catch (error) {
    if (!(error instanceof InvalidEnvelopeError)) throw error;
    await deps.queue.deadLetter({
      body: message.body,
      messageGroupId: message.messageGroupId,
      deduplicationId: deadLetterDeduplicationId(message.messageId, message.receiveCount),
      ...(message.trace && { traceparent: formatTraceparent(message.trace) }),
      details: {
        reason: 'invalid-message',
        attempts: 0,
        lastError: error.message,
        subscriber: settings.subscriber,
        deadLetteredAt: clock.now().toISOString(),
      },
    });
    return { status: 'dead-lettered', reason: 'invalid-message', error: error.message, attempt: 0, warnings };
  }

  const secret = await deps.secret();
  const previous = await deps.log.get(settings.subscriber, event.aggregateId, event.sequence);
  const sameMessage = previous !== undefined && previous.messageId === message.messageId && previous.eventId === event.eventId;
  if (sameMessage && (previous.state === 'delivered' || previous.state === 'dead-lettered')) {
    return { status: 'already-settled', event, state: previous.state, attempt: previous.attempts, warnings };
  }
  const attempt = sameMessage ? previous.attempts + 1 : 1;

  const startedAt = clock.now();
  const result = await deps.client.post({
    url: settings.url,
    body: message.body,
    headers: {
      ...signedWebhookHeaders({ event, body: message.body, secret, timestamp: Math.floor(startedAt.getTime() / 1000) }),
      ...(message.trace && { [TRACEPARENT]: formatTraceparent(deps.newSpanId ? childTraceContext(message.trace, deps.newSpanId()) : message.trace) }),
    },
    timeoutMs: settings.timeoutSeconds * 1000,
  });
  const now = clock.now();
  const durationMs = now.getTime() - startedAt.getTime();
  const decision = decideDelivery({
    result,
    attempt,
    policy: settings.policy,
    now,
    ...(deps.random !== undefined && { random: deps.random }),
  });

  const base = {
    subscriber: settings.subscriber,
    paymentId: event.aggregateId,
    sequence: event.sequence,
    eventId: event.eventId,
    eventType: event.type,
    occurredAt: event.occurredAt,
    messageId: message.messageId,
    attempts: attempt,
    updatedAt: now.toISOString(),
  };
  const record = async (entry: DeliveryRecord): Promise<void> => {
    try {
      await deps.log.put(entry);
    } catch (error) {
      warnings.push({ step: 'record delivery state', error });
    }
  };
  const lastStatus = decision.action !== 'delivered' && decision.statusCode !== undefined ? { lastStatusCode: decision.statusCode } : {};

  switch (decision.action) {
    case 'delivered': {
      const latencyMs = Math.max(0, now.getTime() - Date.parse(event.occurredAt));
      await record({ ...base, state: 'delivered', statusCode: decision.statusCode, deliveredAt: now.toISOString(), latencyMs });
      return { status: 'delivered', event, statusCode: decision.statusCode, attempt, durationMs, latencyMs, warnings };
    }
    case 'retry': {
      const nextAttemptAt = new Date(now.getTime() + decision.delaySeconds * 1000).toISOString();
      try {
        await deps.queue.retryAfter(message, decision.delaySeconds);
      } catch (error) {
        // The message still fails; it comes back after the queue's visibility timeout instead.
        warnings.push({ step: 'change message visibility', error });
      }
      await record({ ...base, state: 'retrying', lastError: decision.error, ...lastStatus, nextAttemptAt });
      return {
        status: 'retry-scheduled',
        event,
        attempt,
        delaySeconds: decision.delaySeconds,
        delaySource: decision.delaySource,
        nextAttemptAt,
        error: decision.error,
        ...(decision.statusCode !== undefined && { statusCode: decision.statusCode }),
        durationMs,
        warnings,
      };
    }
    case 'dead-letter': {
      const { reason } = decision;
      await deps.queue.deadLetter({
        body: message.body,
        messageGroupId: message.messageGroupId,
        deduplicationId: deadLetterDeduplicationId(event.eventId, attempt),
        event: { eventId: event.eventId, type: event.type, sequence: event.sequence, aggregateId: event.aggregateId },
        ...(message.trace && { traceparent: formatTraceparent(message.trace) }),
        details: {
          reason,
          attempts: attempt,
          lastError: decision.error,
          ...lastStatus,
          subscriber: settings.subscriber,
          deadLetteredAt: now.toISOString(),
        },
      });
      await record({ ...base, state: 'dead-lettered', reason, lastError: decision.error, ...lastStatus, deadLetteredAt: now.toISOString() });
      return {
        status: 'dead-lettered',
        event,
        reason,
        error: decision.error,
        ...(decision.statusCode !== undefined && { statusCode: decision.statusCode }),
        attempt,
        durationMs,
        warnings,
      };
    }
  }
}

/** A FIFO deduplication id holds at most 128 printable ASCII characters. */
const DEDUPLICATION_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * `<id>:dead:<attempt>`: the same for a retry of the same dead-lettering (deduplicated by the
 * DLQ within 5 minutes), different from an earlier copy's. An id that would not fit is replaced
 * by its SHA-256.
 */
export function deadLetterDeduplicationId(id: string, attempt: number): string {
  const candidate = `${id}:dead:${attempt}`;
  if (DEDUPLICATION_ID.test(candidate)) return candidate;
  return `${createHash('sha256').update(id).digest('hex')}:dead:${attempt}`;
}
