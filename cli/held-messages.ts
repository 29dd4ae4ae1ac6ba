/**
 * Receiving messages to look at them without consuming them: each is held (invisible) for a set
 * time and handed back (visibility 0) when the command is done with it.
 *
 * FIFO queues show only part of their content this way. While a group's first message is held,
 * SQS hides the rest of that group; AWS may return several messages of one group in a single
 * ReceiveMessage call (in order), the local emulator (fauxqs) returns at most one per group per
 * call. So a listing shows the head of every group, plus on AWS sometimes a few messages behind it.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { fromSqsMessage, type ReceivedMessage } from './messages';

export interface ReceiveOptions {
  /** Seconds the received messages stay invisible to others. */
  readonly holdSeconds: number;
  /** Long-poll seconds of a receive (0 = return at once). */
  readonly waitSeconds: number;
  /** At most this many messages (1-10). @default 10 */
  readonly max?: number;
}

/** Messages this command holds on one queue, in the order they were received. */
export class HeldMessages {
  private readonly held = new Map<string, ReceivedMessage>();

  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
  ) {}

  get size(): number {
    return this.held.size;
  }

  /** One ReceiveMessage call; the messages are held until released or deleted. */
  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.min(options.max ?? 10, 10),
        VisibilityTimeout: options.holdSeconds,
        WaitTimeSeconds: options.waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const received = Messages.map(fromSqsMessage);
    for (const message of received) this.held.set(message.receiptHandle, message);
    return received;
  }

  /**
   * Receives until a long poll comes back empty (or `limit` messages are held): every message
   * the queue will show now. An empty long poll asks every SQS server, unlike a short one.
   */
  async receiveAll(options: { holdSeconds: number; limit: number; waitSeconds?: number }): Promise<ReceivedMessage[]> {
    const byId = new Map<string, ReceivedMessage>();
    // A message whose hold ran out during the loop comes back: keep its newest copy, count it once.
    const absorb = (batch: readonly ReceivedMessage[]): number => {
      let fresh = 0;
      for (const message of batch) {
        if (byId.has(message.messageId)) this.replaceStale(message);
        else fresh += 1;
        byId.set(message.messageId, message);
      }
      return fresh;
    };
    while (byId.size < options.limit) {
      const max = options.limit - byId.size;
      let fresh = absorb(await this.receive({ holdSeconds: options.holdSeconds, waitSeconds: 0, max }));
      if (fresh === 0) fresh = absorb(await this.receive({ holdSeconds: options.holdSeconds, waitSeconds: options.waitSeconds ?? 1, max }));
      if (fresh === 0) break;
    }
    return [...byId.values()];
  }

  /** The message was deleted (or moved): stop tracking it. */
  forget(message: ReceivedMessage): void {
    this.held.delete(message.receiptHandle);
  }

  /** Everything held now, in receive order. */
  all(): ReceivedMessage[] {
    return [...this.held.values()];
  }

  /**
   * A message received again (its hold had run out and SQS handed it out anew) replaces the
   * copy with the old, now useless receipt handle. Returns the copy it replaced, if any.
   */
  replaceStale(message: ReceivedMessage): ReceivedMessage | undefined {
    for (const [handle, held] of this.held) {
      if (held.messageId === message.messageId && handle !== message.receiptHandle) {
        this.held.delete(handle);
        return held;
      }
    }
    return undefined;
  }

  /** Extends one message's hold; false when the hold already ran out (the receipt handle is no longer valid). */
  async renew(message: ReceivedMessage, holdSeconds: number): Promise<boolean> {
    try {
      await this.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: holdSeconds }));
      return true;
    } catch {
      return false;
    }
  }

  /** Extends the hold of `messages` by `holdSeconds` from now; messages whose hold already ran out are skipped. */
  async extend(messages: readonly ReceivedMessage[], holdSeconds: number): Promise<void> {
    for (let start = 0; start < messages.length; start += 10) {
      const chunk = messages.slice(start, start + 10);
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.receiptHandle, VisibilityTimeout: holdSeconds })),
        }),
      );
    }
  }

  /**
   * Makes held messages visible again, the latest received first so that a queue that puts a
   * returned message back at the front of its group keeps the group's order. Returns the
   * messages that could not be released (their hold had already expired: they are visible anyway).
   */
  async release(messages: readonly ReceivedMessage[] = [...this.held.values()]): Promise<ReceivedMessage[]> {
    const failed: ReceivedMessage[] = [];
    for (const message of [...messages].reverse()) {
      try {
        await this.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: 0 }));
      } catch {
        failed.push(message);
      }
      this.held.delete(message.receiptHandle);
    }
    return failed;
  }
}
