/**
 * The local stack for integration tests: one per test file (beforeAll / afterAll), on free
 * ports, from the template global-setup synthesized, with fast pollers, a 1 s TTL sweep and quiet
 * logs (LOCAL_TEST_LOG_LEVEL=info shows the runner's lines). Plus small helpers to call the API
 * and read queues.
 *
 *   let stack: LocalStack;
 *   beforeAll(async () => { stack = await startTestStack({ consumers: false }); });
 *   afterAll(() => stack?.stop());
 *
 * One stack per test file: a fresh DynamoDB Local per file keeps heavy suites from slowing the
 * next ones. Stacks share nothing through the process, so a file may start more than one.
 */
import { join } from 'node:path';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import {
  EXAMPLE_CONSUMER_DLQ_NAME,
  EXAMPLE_CONSUMER_QUEUE_NAME,
  PAYMENT_EVENTS_TOPIC_NAME,
  RELAY_FAILURES_QUEUE_NAME,
  subscriberDlqName,
  subscriberQueueName,
} from '../../lambdas/platform/resource-names';
import { isLogLevel } from '../../local/log';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack';
import { TEST_STATE_ROOT } from './test-state-dirs';

export type { LocalStack } from '../../local/stack';

/** Queue and topic names the stack defines (lambdas/platform/resource-names.ts). */
export const PAYMENT_EVENTS_QUEUE = EXAMPLE_CONSUMER_QUEUE_NAME;
export const PAYMENT_EVENTS_DLQ = EXAMPLE_CONSUMER_DLQ_NAME;
export const RELAY_FAILURES_QUEUE = RELAY_FAILURES_QUEUE_NAME;
export const PAYMENT_EVENTS_TOPIC = PAYMENT_EVENTS_TOPIC_NAME;
/** The app's webhook subscriber (bin/app-subscribers.ts, synthesized by the runner) and its queues. */
export const NOTIFICATIONS_SUBSCRIBER = 'notifications';
export const NOTIFICATIONS_QUEUE = subscriberQueueName(NOTIFICATIONS_SUBSCRIBER);
export const NOTIFICATIONS_DLQ = subscriberDlqName(NOTIFICATIONS_SUBSCRIBER);

/**
 * Options of `startLocalStack` except the state directory. `template`: one synthesized with other
 * stack props (e.g. `loadTemplate(DEFAULT_STATE_DIR, { stackProps: { subscribers } })`), default the
 * one global-setup synthesized. `webhookReceiver` (default a free port, `false` = none) and
 * `webhookOverrides` (per subscriber `url` / `env`, e.g. `{ WEBHOOK_BACKOFF_BASE_SECONDS: '1' }`)
 * are passed through.
 */
export type TestStackOptions = Omit<LocalStackOptions, 'stateDir'>;

let started = 0;

/** Starts the local stack with test defaults; `options` override them. */
export async function startTestStack(options: TestStackOptions = {}): Promise<LocalStack> {
  const level = process.env.LOCAL_TEST_LOG_LEVEL;
  started += 1;
  return startLocalStack({
    apiPort: 0,
    dynamodbPort: 0,
    sqsPort: 0,
    logLevel: isLogLevel(level) ? level : 'warn',
    handlerLogLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
    ttlSweepIntervalSeconds: 1,
    streamPollIntervalMs: 25,
    retryBackoff: { baseMs: 25, maxMs: 250 },
    sqsWaitTimeSeconds: 1,
    // Schedule rules (the outbox sweeper) only run when a test asks: stack.scheduler.runNow(...).
    schedules: false,
    // The runner's webhook receiver (for the template's local webhook subscriber) on a free port.
    webhookReceiver: { port: 0 },
    ...options,
    template: options.template ?? inject(options.paymentGateway && options.paymentGateway.kind !== 'sandbox' ? 'localTossTemplate' : 'localTemplate'),
    stateDir: join(TEST_STATE_ROOT, `${process.pid}-${started}`),
  });
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or the text when the body is not JSON. */
  readonly body: unknown;
  readonly text: string;
}

/** Calls the stack's API; a non-string body is sent as JSON. */
export async function callApi(
  stack: LocalStack,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' || options.body instanceof Uint8Array ? options.body : JSON.stringify(options.body);
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { ...(body !== undefined && { 'Content-Type': 'application/json' }), ...options.headers },
    ...(body !== undefined && { body }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/**
 * Receives (and deletes, unless `keep`) messages from a queue until `count` arrived, or, without
 * `count`, for the whole `timeoutMs` (to check that nothing more arrives). Uses the stack's SQS
 * client, which sends requests to the emulator endpoint, not to the queue URL's host.
 */
export async function receiveMessages(
  stack: LocalStack,
  queueName: string,
  options: { count?: number; timeoutMs?: number; keep?: boolean } = {},
): Promise<Message[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const messages: Message[] = [];
  while (Date.now() < deadline && (options.count === undefined || messages.length < options.count)) {
    const waitSeconds = Math.max(0, Math.min(1, Math.floor((deadline - Date.now()) / 1000)));
    messages.push(...(await receiveOnce(stack, queueName, waitSeconds, options.keep ?? false)));
  }
  return messages;
}

/** Reads and deletes whatever the queue holds right now. */
export async function drainQueue(stack: LocalStack, queueName: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const batch = await receiveOnce(stack, queueName, 0, false);
    if (batch.length === 0) return messages;
    messages.push(...batch);
  }
}

async function receiveOnce(stack: LocalStack, queueName: string, waitSeconds: number, keep: boolean): Promise<Message[]> {
  const url = stack.queueUrl(queueName);
  const { Messages = [] } = await stack.clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  if (Messages.length > 0 && !keep) {
    await stack.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
  return Messages;
}
