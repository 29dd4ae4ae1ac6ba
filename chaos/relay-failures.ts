/**
 * What reached the relay's on-failure destination (`relay-failures`) in a chaos run, read from the
 * queue as an operator would: each message is the invocation record the event source mapping
 * sends when it gives up on a batch (Lambda's shape, which the local stream poller reproduces),
 * naming the shard and the first and last sequence numbers of the records given up, never the
 * records themselves. The run names those records by their sequence numbers, from every record
 * the relay was handed (see relay-invocations.ts), so the checks can follow each one to the
 * consumer.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../local/stack';
import { queueDepth } from './recovery';
import { RELAY_FAILURES_QUEUE } from './sweeper';

/** One message of the on-failure queue: the batch given up. */
export interface RelayFailureMessage {
  /** `RetryAttemptsExhausted` or `RecordAgeExceeded`. */
  readonly condition: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
}

/** Parses one on-failure message body; undefined when it is not an invocation record of a stream batch. */
export function parseRelayFailure(body: string | undefined): RelayFailureMessage | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as {
      requestContext?: { condition?: unknown };
      DDBStreamBatchInfo?: { shardId?: unknown; startSequenceNumber?: unknown; endSequenceNumber?: unknown; batchSize?: unknown };
    };
    const info = parsed.DDBStreamBatchInfo;
    if (typeof info?.startSequenceNumber !== 'string' || typeof info.endSequenceNumber !== 'string') return undefined;
    return {
      condition: String(parsed.requestContext?.condition ?? 'unknown'),
      shardId: String(info.shardId ?? ''),
      startSequenceNumber: info.startSequenceNumber,
      endSequenceNumber: info.endSequenceNumber,
      batchSize: Number(info.batchSize ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** The stack's relay-failures queue (its name may carry a stage prefix). */
export function relayFailuresQueueName(stack: LocalStack): string {
  const names = [...stack.queues.keys()].filter((name) => name === RELAY_FAILURES_QUEUE || name.endsWith(`-${RELAY_FAILURES_QUEUE}`));
  if (names.length !== 1) throw new Error(`no single ${RELAY_FAILURES_QUEUE} queue among ${[...stack.queues.keys()].join(', ')}`);
  return names[0] as string;
}

/**
 * Every message in the relay's on-failure queue, received (kept invisible while it is read, not
 * deleted). `unreadable` counts bodies that are no stream batch's invocation record.
 */
export async function readRelayFailures(stack: LocalStack, queueName = relayFailuresQueueName(stack)): Promise<{ messages: RelayFailureMessage[]; unreadable: number }> {
  const url = stack.queueUrl(queueName);
  const total = await queueDepth(stack, queueName);
  const messages: RelayFailureMessage[] = [];
  let unreadable = 0;
  let received = 0;
  for (let empty = 0; received < total && empty < 5; ) {
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 600, WaitTimeSeconds: 1 }),
    );
    empty = Messages.length === 0 ? empty + 1 : 0;
    for (const message of Messages) {
      received += 1;
      const parsed = parseRelayFailure(message.Body);
      if (parsed) messages.push(parsed);
      else unreadable += 1;
    }
  }
  return { messages, unreadable };
}

/** The records a relay-failures message names, and messages whose records the run cannot name. */
export interface NamedRelayFailures {
  /** Event keys (`<orderId>#<sequence>`) of the records given up, once each, in the order of the messages. */
  readonly keys: string[];
  /** Messages whose range holds fewer records the relay was handed than their batch size. */
  readonly unnamed: string[];
}

/**
 * Names the records of each message: those the relay was handed (`recordKeys`: sequence number ->
 * event key) whose sequence number lies in the message's range. DynamoDB stream sequence numbers
 * are decimal strings that grow within a shard, so they are compared as integers.
 */
export function nameRelayFailures(messages: readonly RelayFailureMessage[], recordKeys: ReadonlyMap<string, string>): NamedRelayFailures {
  const sorted = [...recordKeys].map(([sequence, key]) => [BigInt(sequence), key] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const keys: string[] = [];
  const seen = new Set<string>();
  const unnamed: string[] = [];
  for (const message of messages) {
    const start = BigInt(message.startSequenceNumber);
    const end = BigInt(message.endSequenceNumber);
    const inRange = sorted.filter(([sequence]) => sequence >= start && sequence <= end).map(([, key]) => key);
    if (inRange.length < message.batchSize) {
      unnamed.push(`${message.condition} ${message.shardId} ${message.startSequenceNumber}..${message.endSequenceNumber}: ${message.batchSize} record(s), ${inRange.length} named`);
    }
    for (const key of inRange) {
      if (seen.has(key)) continue;
      seen.add(key);
      keys.push(key);
    }
  }
  return { keys, unnamed };
}
