/**
 * The smoke test's own view of the topic: a temporary SQS FIFO queue `smoke-<runid>.fifo`,
 * subscribed to the payment-events topic with raw delivery, so the test reads its payment's events
 * as every subscriber receives them without taking a message from a real consumer's queue.
 *
 * The subscription starts without a filter (the payment id is not known yet: no event may be
 * missed) and is narrowed to `aggregateId = <payment id>` (the attribute the relay sets, see
 * lambdas/adapters/event-message.ts) once the payment exists; both policies let the payment's own
 * events through, so SNS's delay in applying a filter change cannot lose one. Messages of other
 * payments that arrive meanwhile are deleted from the temporary queue and ignored.
 */
import { SubscribeCommand, SetSubscriptionAttributesCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** One payment event as the queue delivered it. */
export interface ReceivedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly sequence: number;
  readonly aggregateId: string;
  /** Milliseconds since the wait began. */
  readonly receivedAfterMs: number;
}

/** What the test expects, in sequence order. */
export interface ExpectedEvent {
  readonly type: string;
  readonly sequence: number;
}

export interface EventQueueClients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

/** Errors of SNS / SQS that mean "the caller may not do this here" (the fallback to the API applies). */
const ACCESS_ERRORS = new Set(['AuthorizationError', 'AuthorizationErrorException', 'AccessDenied', 'AccessDeniedException', 'KMSAccessDeniedException']);

export function isAccessError(error: unknown): boolean {
  return error instanceof Error && (ACCESS_ERRORS.has(error.name) || ACCESS_ERRORS.has((error as { Code?: string }).Code ?? ''));
}

/** `smoke-<runid>.fifo` (SQS: at most 80 characters of `[A-Za-z0-9_-]`, `.fifo` included). */
export function smokeQueueName(runId: string): string {
  const name = `smoke-${runId.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 75);
  return `${name}.fifo`;
}

/** The queue policy that lets exactly this topic send to the queue. */
export function topicSendPolicy(queueArn: string, topicArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'PaymentEventsTopicSends',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  });
}

export class SmokeEventQueue {
  private subscriptionArn: string | undefined;
  private queueUrl: string | undefined;

  private constructor(
    private readonly clients: EventQueueClients,
    readonly name: string,
    private readonly topicArn: string,
  ) {}

  /**
   * Creates the queue, lets the topic send to it and subscribes it. On any failure, whatever was
   * created is removed before the error is rethrown.
   */
  static async open(clients: EventQueueClients, options: { readonly topicArn: string; readonly queueName: string }): Promise<SmokeEventQueue> {
    const queue = new SmokeEventQueue(clients, options.queueName, options.topicArn);
    try {
      await queue.create();
    } catch (error) {
      await queue.close().catch(() => undefined);
      throw error;
    }
    return queue;
  }

  private async create(): Promise<void> {
    const { sqs, sns } = this.clients;
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: this.name,
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', MessageRetentionPeriod: '3600', VisibilityTimeout: '30' },
      }),
    );
    if (!created.QueueUrl) throw new Error(`CreateQueue ${this.name} returned no URL`);
    this.queueUrl = created.QueueUrl;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = Attributes?.QueueArn;
    if (!queueArn) throw new Error(`GetQueueAttributes ${this.name} returned no QueueArn`);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: this.queueUrl, Attributes: { Policy: topicSendPolicy(queueArn, this.topicArn) } }));
    const subscribed = await sns.send(
      new SubscribeCommand({
        TopicArn: this.topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'true' },
        ReturnSubscriptionArn: true,
      }),
    );
    if (!subscribed.SubscriptionArn || subscribed.SubscriptionArn === 'pending confirmation') {
      throw new Error(`Subscribe ${this.name} to the topic returned ${subscribed.SubscriptionArn ?? 'no subscription ARN'}`);
    }
    this.subscriptionArn = subscribed.SubscriptionArn;
  }

  /** Narrows the subscription to one payment's events. */
  async narrowTo(paymentId: string): Promise<void> {
    if (!this.subscriptionArn) throw new Error('the smoke queue is not subscribed');
    await this.clients.sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: this.subscriptionArn,
        AttributeName: 'FilterPolicy',
        AttributeValue: JSON.stringify({ aggregateId: [paymentId] }),
      }),
    );
  }

  /**
   * Receives (and deletes: the queue is ours) until the payment's events arrived, in the given
   * order; other payments' messages are dropped, repeated copies of an event skipped.
   * @throws Error on an event out of order, on a message that is not an event, or on timeout (saying what arrived)
   */
  async waitForEvents(paymentId: string, expected: readonly ExpectedEvent[], timeoutMs: number): Promise<ReceivedEvent[]> {
    if (!this.queueUrl) throw new Error('the smoke queue does not exist');
    const started = Date.now();
    const deadline = started + timeoutMs;
    const received: ReceivedEvent[] = [];
    const seen = new Set<string>();
    while (received.length < expected.length) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const got = received.map(describe).join(', ') || 'nothing';
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${expected.slice(received.length).map(describe).join(', ')} (received ${got})`);
      }
      const { Messages = [] } = await this.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: Math.max(0, Math.min(5, Math.floor(remaining / 1000))),
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) continue;
      await this.delete(Messages);
      for (const message of Messages) {
        const event = parseEvent(message, Date.now() - started);
        if (event.aggregateId !== paymentId || seen.has(event.eventId)) continue;
        seen.add(event.eventId);
        const want = expected[received.length];
        if (!want || want.type !== event.type || want.sequence !== event.sequence) {
          throw new Error(`expected ${want ? describe(want) : 'no more events'}, received ${describe(event)} (after ${received.map(describe).join(', ') || 'nothing'})`);
        }
        received.push(event);
      }
    }
    return received;
  }

  /** Unsubscribes and deletes the queue (whatever exists); throws the first failure after trying both. */
  async close(): Promise<void> {
    const failures: string[] = [];
    if (this.subscriptionArn) {
      const arn = this.subscriptionArn;
      await this.clients.sns.send(new UnsubscribeCommand({ SubscriptionArn: arn })).then(
        () => (this.subscriptionArn = undefined),
        (error: unknown) => failures.push(`unsubscribe ${arn}: ${message(error)}`),
      );
    }
    if (this.queueUrl) {
      const url = this.queueUrl;
      await this.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).then(
        () => (this.queueUrl = undefined),
        (error: unknown) => failures.push(`delete queue ${url}: ${message(error)}`),
      );
    }
    if (failures.length > 0) throw new Error(`${failures.join('; ')}; remove it by hand`);
  }

  private async delete(messages: readonly Message[]): Promise<void> {
    await this.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
}

function parseEvent(message: Message, receivedAfterMs: number): ReceivedEvent {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    body = undefined;
  }
  const envelope = body as Partial<Record<'eventId' | 'type' | 'aggregateId', unknown>> & { sequence?: unknown } | undefined;
  if (
    !envelope ||
    typeof envelope.eventId !== 'string' ||
    typeof envelope.type !== 'string' ||
    typeof envelope.aggregateId !== 'string' ||
    typeof envelope.sequence !== 'number'
  ) {
    // Raw delivery is on: anything else is an SNS notification wrapper or a foreign message.
    throw new Error(`message ${message.MessageId ?? '?'} on the smoke queue is not an event envelope: ${(message.Body ?? '').slice(0, 120)}`);
  }
  return { eventId: envelope.eventId, type: envelope.type, sequence: envelope.sequence, aggregateId: envelope.aggregateId, receivedAfterMs };
}

function describe(event: ExpectedEvent): string {
  return `${event.type} #${event.sequence}`;
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
