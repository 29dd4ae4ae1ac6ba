/**
 * orders-service: a service of another team that keeps its orders' payment status from the payment
 * events of a running `npm start`, through @payment-outbox/consumer.
 *
 * It reads `<state dir>/endpoints.json` (LOCAL_STATE_DIR, relative to the current directory, default the
 * repository's .local), creates its own FIFO queue `orders-service.fifo` (with a DLQ after 5 receives)
 * subscribed to the payment-events topic with raw delivery, as any subscriber's queue is, so it takes
 * no message from the stack's own example consumer; then long-polls it and hands each batch to the
 * guarded FIFO consumer (inbox by event id, sequence per payment, partial batch response), deleting
 * what succeeded. Each applied event is printed on one line. Ctrl-C stops it; the queue stays (events
 * published meanwhile wait there) until the local stack stops.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { guardedFifoConsumer, type EventEnvelope, type GuardedFifoHandler } from '@payment-outbox/consumer';
import { FileInbox, type OrderPayment } from './file-inbox.js';

type SqsEvent = Parameters<GuardedFifoHandler>[0];
type LambdaContext = Parameters<GuardedFifoHandler>[1];

interface Endpoints {
  readonly region: string;
  readonly sqsEndpoint: string;
  readonly snsEndpoint: string;
  readonly topics: Readonly<Record<string, string>>;
}

const QUEUE_NAME = process.env.ORDERS_QUEUE_NAME ?? 'orders-service.fifo';
const DLQ_NAME = QUEUE_NAME.replace(/\.fifo$/, '-dlq.fifo');
const MAX_RECEIVE_COUNT = 5;
// A message that failed (an earlier event of its payment has not arrived yet) is received again after this.
const VISIBILITY_TIMEOUT_SECONDS = 5;

const stateDir = process.env.LOCAL_STATE_DIR ? resolve(process.env.LOCAL_STATE_DIR) : fileURLToPath(new URL('../../../.local', import.meta.url));
const inboxFile = resolve(process.env.ORDERS_INBOX_FILE ?? '.data/inbox.json');

function readEndpoints(): Endpoints {
  const path = resolve(stateDir, 'endpoints.json');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Endpoints;
  } catch (error) {
    throw new Error(`cannot read ${path} (${(error as Error).message}): is \`npm start\` running? (LOCAL_STATE_DIR names its state directory)`);
  }
}

/** The topic's ARN: PAYMENT_EVENTS_TOPIC by name, else the one topic whose name says payment-events. */
function paymentEventsTopic(endpoints: Endpoints): string {
  const wanted = process.env.PAYMENT_EVENTS_TOPIC;
  const names = Object.keys(endpoints.topics).filter((name) => (wanted ? name === wanted : name.includes('payment-events')));
  if (names.length !== 1) throw new Error(`expected one payment-events topic in endpoints.json, found ${JSON.stringify(Object.keys(endpoints.topics))} (set PAYMENT_EVENTS_TOPIC)`);
  return endpoints.topics[names[0]!]!;
}

async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  if (!Attributes?.QueueArn) throw new Error(`no QueueArn for ${queueUrl}`);
  return Attributes.QueueArn;
}

/** Creates (or finds) the service's queue and its DLQ, lets the topic send to it and subscribes it. */
async function subscribeQueue(sqs: SQSClient, sns: SNSClient, topicArn: string): Promise<{ url: string; arn: string }> {
  const fifo = { FifoQueue: 'true', ContentBasedDeduplication: 'false' };
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: DLQ_NAME, Attributes: { ...fifo, MessageRetentionPeriod: '1209600' } }));
  const dlqArn = await queueArnOf(sqs, dlq.QueueUrl!);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: QUEUE_NAME,
      Attributes: {
        ...fifo,
        VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT }),
      },
    }),
  );
  const url = queue.QueueUrl!;
  const arn = await queueArnOf(sqs, url);
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn, Condition: { ArnEquals: { 'aws:SourceArn': topicArn } } }],
  };
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy) } }));
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: arn, Attributes: { RawMessageDelivery: 'true' }, ReturnSubscriptionArn: true }));
  return { url, arn };
}

/** SQS messages as the Lambda event source mapping hands them to a handler. */
function asSqsEvent(messages: readonly Message[], queueArn: string, region: string): SqsEvent {
  return {
    Records: messages.map((message) => {
      const attributes = message.Attributes ?? {};
      return {
        messageId: message.MessageId!,
        receiptHandle: message.ReceiptHandle!,
        body: message.Body ?? '',
        attributes: {
          ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
          SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
          SenderId: attributes.SenderId ?? 'local',
          ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          ...(attributes.MessageGroupId !== undefined && { MessageGroupId: attributes.MessageGroupId }),
          ...(attributes.MessageDeduplicationId !== undefined && { MessageDeduplicationId: attributes.MessageDeduplicationId }),
          ...(attributes.SequenceNumber !== undefined && { SequenceNumber: attributes.SequenceNumber }),
        },
        // As Lambda hands them over: the trace context arrives in the `traceparent` attribute.
        messageAttributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            { dataType: value.DataType ?? 'String', ...(value.StringValue !== undefined && { stringValue: value.StringValue }) },
          ]),
        ),
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      };
    }),
  };
}

/** This service's effect of a payment event: the order's payment as the event's snapshot shows it. */
function orderPayment(event: EventEnvelope): OrderPayment {
  const { data } = event;
  return { orderId: data.orderId, paymentId: data.paymentId, status: data.status, amount: data.amount, currency: data.currency };
}

/** The trace id of each event being applied (from `apply`'s context), for its printed line. */
const traceIds = new Map<string, string>();

function printApplied(event: EventEnvelope, order: OrderPayment): void {
  const traceId = traceIds.get(event.eventId);
  traceIds.delete(event.eventId);
  const trace = traceId === undefined ? '' : `  trace=${traceId}`;
  console.log(`applied ${event.type.padEnd(17)} payment ${event.aggregateId} #${event.sequence}  order ${order.orderId} -> ${order.status} (${order.amount} ${order.currency})${trace}`);
}

async function main(): Promise<void> {
  const endpoints = readEndpoints();
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  // The emulator's queue URLs name a host of their own; requests go to the endpoint.
  const sqs = new SQSClient({ region: endpoints.region, endpoint: endpoints.sqsEndpoint, credentials, useQueueUrlAsEndpoint: false });
  const sns = new SNSClient({ region: endpoints.region, endpoint: endpoints.snsEndpoint, credentials });
  const topicArn = paymentEventsTopic(endpoints);
  const queue = await subscribeQueue(sqs, sns, topicArn);

  const inbox = new FileInbox(inboxFile, printApplied);
  const logger = new Logger({ serviceName: 'orders-service', logLevel: (process.env.LOG_LEVEL ?? 'WARN') as 'WARN' });
  const consume = guardedFifoConsumer({
    store: inbox,
    // The package hands apply the message's trace context: this service continues the payment's trace.
    apply: (event, { trace }) => {
      if (trace) traceIds.set(event.eventId, trace.traceId);
      return orderPayment(event);
    },
    logger,
  });
  const context = { functionName: 'orders-service', awsRequestId: 'local', getRemainingTimeInMillis: () => 30_000 } as unknown as LambdaContext;

  console.log(`orders-service: ${QUEUE_NAME} subscribed to ${topicArn}; inbox ${inboxFile} (${inbox.orderCount} orders); Ctrl-C stops`);
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());

  while (!stop.signal.aborted) {
    let messages: Message[];
    try {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 20,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: stop.signal },
      );
      messages = received.Messages ?? [];
    } catch (error) {
      if (stop.signal.aborted) break;
      throw error;
    }
    if (messages.length === 0) continue;
    const response = await consume(asSqsEvent(messages, queue.arn, endpoints.region), context);
    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    const done = messages.filter((message) => !failed.has(message.MessageId!));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: done.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle! })) }),
      );
    }
    if (failed.size > 0) console.log(`${failed.size} message(s) left for retry in ${VISIBILITY_TIMEOUT_SECONDS} s (an earlier event of the payment is missing, or applying failed)`);
  }
  console.log(`orders-service stopped; ${inbox.orderCount} orders in ${inboxFile}`);
}

main().catch((error: unknown) => {
  console.error(`orders-service: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
