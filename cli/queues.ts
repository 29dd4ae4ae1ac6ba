/** Finding queues by name or URL and reading the attributes the tools check (FIFO, redrive policy, counts). */
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  paginateListQueues,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QueueNotFoundError } from './errors';
import type { Target } from './target';

export interface QueueInfo {
  readonly url: string;
  readonly name: string;
  readonly arn: string;
  readonly fifo: boolean;
  /** The queue's RedrivePolicy, when it has a DLQ. */
  readonly redrive?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
  readonly counts: {
    /** Waiting to be received (ApproximateNumberOfMessages). */
    readonly visible: number;
    /** Received, not yet deleted or returned (ApproximateNumberOfMessagesNotVisible). */
    readonly inFlight: number;
    readonly delayed: number;
  };
}

const ATTRIBUTES: QueueAttributeName[] = [
  'QueueArn',
  'FifoQueue',
  'RedrivePolicy',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

/** The queue name at the end of a queue URL (`.../000000000000/payment-events.fifo`). */
export function queueNameFromUrl(url: string): string {
  const name = url.replace(/\/+$/, '').split('/').at(-1);
  return name ?? url;
}

export function isQueueUrl(ref: string): boolean {
  return /^https?:\/\//i.test(ref);
}

/**
 * The URL of a queue given by name or URL: a URL as is, a name through the local runner's queue
 * map or GetQueueUrl.
 * @throws QueueNotFoundError
 */
export async function queueUrlOf(ref: string, target: Target, sqs: SQSClient): Promise<string> {
  if (isQueueUrl(ref)) return ref;
  const known = target.queues[ref];
  if (known !== undefined) return known;
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: ref }));
    if (!QueueUrl) throw new QueueNotFoundError(ref);
    return QueueUrl;
  } catch (error) {
    if (isQueueMissing(error)) throw new QueueNotFoundError(ref);
    throw error;
  }
}

/** Resolves and describes a queue. @throws QueueNotFoundError */
export async function describeQueue(ref: string, target: Target, sqs: SQSClient): Promise<QueueInfo> {
  const url = await queueUrlOf(ref, target, sqs);
  let attributes: Partial<Record<string, string>>;
  try {
    ({ Attributes: attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ATTRIBUTES })));
  } catch (error) {
    if (isQueueMissing(error)) throw new QueueNotFoundError(ref);
    throw error;
  }
  const name = queueNameFromUrl(url);
  const redrive = parseRedrivePolicy(attributes.RedrivePolicy);
  return {
    url,
    name,
    arn: attributes.QueueArn ?? name,
    fifo: attributes.FifoQueue === 'true',
    ...(redrive && { redrive }),
    counts: {
      visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    },
  };
}

/** `x-dlq.fifo` -> `x.fifo`, `x-dlq` -> `x` (also `_dlq`, `-deadletter`); undefined when the name has no such suffix. */
export function sourceNameForDlq(dlqName: string): string | undefined {
  const match = /^(.+?)[-_](?:dlq|deadletter|dead-letter)(\.fifo)?$/i.exec(dlqName);
  if (!match?.[1]) return undefined;
  return `${match[1]}${match[2] ?? ''}`;
}

/**
 * Queues whose RedrivePolicy names the DLQ. Uses ListQueues + GetQueueAttributes rather than
 * ListDeadLetterSourceQueues, which the local SQS emulator does not implement.
 */
export async function deadLetterSources(dlqArn: string, target: Target, sqs: SQSClient): Promise<QueueInfo[]> {
  const urls = new Set<string>(Object.values(target.queues));
  for await (const page of paginateListQueues({ client: sqs }, {})) for (const url of page.QueueUrls ?? []) urls.add(url);
  const sources: QueueInfo[] = [];
  for (const url of urls) {
    try {
      const info = await describeQueue(url, target, sqs);
      if (info.redrive?.deadLetterTargetArn === dlqArn) sources.push(info);
    } catch (error) {
      if (!(error instanceof QueueNotFoundError)) throw error;
    }
  }
  return sources;
}

export function isQueueMissing(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue';
}

function parseRedrivePolicy(text: string | undefined): QueueInfo['redrive'] {
  if (!text) return undefined;
  try {
    const policy = JSON.parse(text) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (typeof policy.deadLetterTargetArn !== 'string') return undefined;
    return { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount: Number(policy.maxReceiveCount ?? 0) };
  } catch {
    return undefined;
  }
}
