/** A message of the subscriber's queue, as the dispatcher received it. */
export interface QueueMessageRef {
  readonly messageId: string;
  readonly receiptHandle: string;
}

/** What a dead letter says about why it is there (sent as message attributes). */
export interface DeadLetterDetails {
  readonly reason: 'rejected' | 'attempts-exhausted' | 'invalid-message';
  readonly attempts: number;
  readonly lastError: string;
  readonly lastStatusCode?: number;
  readonly subscriber: string;
  readonly deadLetteredAt: string;
}

export interface DeadLetter {
  /** The message body, unchanged. */
  readonly body: string;
  /** The message's group (the payment), so the DLQ keeps the payment's order. */
  readonly messageGroupId: string;
  /** `<eventId>:dead:<attempt>` (or the message id for a message that is not an event). */
  readonly deduplicationId: string;
  /** The event's routing fields, when the body is an event (the same attributes the relay sends). */
  readonly event?: { readonly eventId: string; readonly type: string; readonly sequence: number; readonly aggregateId: string };
  /** The message's `traceparent` attribute, kept on the dead letter (whether or not the body is an event). */
  readonly traceparent?: string;
  readonly details: DeadLetterDetails;
}

/**
 * Port for the webhook subscriber's FIFO queue and DLQ, beyond what the event source mapping
 * does (delete on success, leave failures).
 */
export interface SubscriberQueue {
  /** Makes the message visible again after `delaySeconds` (its backoff); it stays in flight until then. */
  retryAfter(message: QueueMessageRef, delaySeconds: number): Promise<void>;
  /**
   * Makes messages visible again at once: messages the invocation did not attempt (behind a
   * failed message of their group, or out of time), so that only the failed message holds its group.
   */
  release(messages: readonly QueueMessageRef[]): Promise<void>;
  /** Sends a copy to the DLQ; the caller then acknowledges the original. */
  deadLetter(letter: DeadLetter): Promise<void>;
}
