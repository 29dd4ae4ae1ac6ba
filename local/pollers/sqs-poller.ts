/**
 * Plays a Lambda event source mapping on an SQS queue: long-polling ReceiveMessage with the
 * template's batch size, SQSEvent records in Lambda's shape, DeleteMessageBatch for the
 * messages that succeeded (all of them, or all but the reported batchItemFailures). Failed
 * messages are left alone: they reappear after the visibility timeout and the queue's redrive
 * policy moves them to the DLQ after maxReceiveCount receives (the emulator does that). A
 * visibility the handler set itself (ChangeMessageVisibility, as the webhook dispatchers do for
 * their backoff) stands, unless `failedMessageVisibilitySeconds` is set.
 * Messages that do not match FilterCriteria are deleted, as Lambda does.
 *
 * Scaling, as Lambda scales a FIFO mapping: invocations run concurrently up to the number of
 * active message groups, capped by the mapping's ScalingConfig.MaximumConcurrency and by a local
 * cap (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html: "concurrent
 * invocations are capped at the number of message group IDs or the maximum concurrency setting,
 * whichever is lower"). One loop receives while an invocation slot is free and splits what it got
 * into up to that many invocations, never splitting a message group: the queue keeps a group
 * locked while one of its messages is in flight (deleted, or visible again after its timeout),
 * so no two invocations ever hold messages of the same group, and a group's order holds.
 */
import { messageTraceContext } from '../../lambdas/consumer-guard/guarded-fifo-consumer';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { describeError, type LocalLogger } from '../log';
import type { LocalFunction } from '../runtime/local-function';
import type { LocalQueueRef } from '../template/intrinsics';
import type { QueueMappingSpec } from '../template/resolve';
import { compileFilters, type RecordFilter } from './event-filter';
import type { InvokeWrapper } from './stream-poller';
import { envelopeFields } from '../../lambdas/domain/event-envelope';

/**
 * The local cap on concurrent invocations of one SQS mapping: on a 2-core machine the handlers'
 * DynamoDB calls, not the cores, are what overlapping invocations wait on, and DynamoDB Local
 * gains little beyond about 10 concurrent transactions.
 */
export const DEFAULT_SQS_POLLER_CONCURRENCY = 10;

export interface SqsPollerStats {
  invocations: number;
  received: number;
  succeeded: number;
  failed: number;
  filteredOut: number;
}

export interface SqsPollerOptions {
  /** Name in logs, e.g. `example-consumer`. */
  readonly name: string;
  readonly mapping: QueueMappingSpec;
  readonly queue: LocalQueueRef;
  readonly region: string;
  readonly fn: LocalFunction;
  readonly sqs: SQSClient;
  readonly log: LocalLogger;
  /**
   * Local cap on concurrent invocations (the mapping's MaximumConcurrency, when the template sets
   * one, caps them too). Above 1, invocations of one handler instance overlap in this process,
   * which Lambda never does (each concurrent invocation gets its own execution environment and
   * module state): the handlers keep per-invocation state per invocation (a batch processor per
   * event). 1 = one invocation at a time, as before Lambda's scaling was played.
   * @default DEFAULT_SQS_POLLER_CONCURRENCY
   */
  readonly concurrency?: number;
  /** Long-poll wait of each ReceiveMessage, 0-20 s. Short keeps stop() quick. @default 1 */
  readonly waitTimeSeconds?: number;
  /**
   * Test acceleration: after a failure, make the failed messages visible again after this many
   * seconds instead of waiting for the queue's visibility timeout.
   * @default - the queue's visibility timeout applies, as on AWS
   */
  readonly failedMessageVisibilitySeconds?: number;
  readonly invokeWrapper?: InvokeWrapper<SQSEvent>;
  /**
   * Writes the log lines of one invocation instead of the default line per message (the webhook
   * dispatchers say what each message's attempt ended in). Errors it throws are logged, not raised.
   */
  readonly reporter?: (invocation: SqsInvocationReport) => Promise<void> | void;
}

/** What one invocation was given and what it answered. */
export interface SqsInvocationReport {
  readonly records: readonly SQSRecord[];
  /** Message ids that failed (reported, or all of them when the invocation failed). */
  readonly failedIds: ReadonlySet<string>;
  readonly durationMs: number;
  /** The invocation's error, when it threw or timed out. */
  readonly error?: unknown;
}

/** `payment.created <paymentId> seq=1` for a log line, when the body is a payment event. */
export function eventLabel(body: string): string | undefined {
  const { type, aggregateId, sequence } = envelopeFields(body);
  return type !== undefined && aggregateId !== undefined ? `${type} ${aggregateId} seq=${String(sequence)}` : undefined;
}

/** ` trace=<trace id>` when the message carries a `traceparent` attribute: grep on it shows the payment's journey. */
export function traceLabel(record: Pick<SQSRecord, 'messageAttributes'>): string {
  const trace = messageTraceContext(record);
  return trace === undefined ? '' : ` trace=${trace.traceId}`;
}

function describeMessage(record: SQSRecord): string {
  return `${eventLabel(record.body) ?? `${record.body.length} bytes`}${traceLabel(record)}`;
}

export function toSqsRecord(message: Message, queue: LocalQueueRef, region: string): SQSRecord {
  const attributes = (message.Attributes ?? {}) as Record<string, string>;
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.SequenceNumber && { SequenceNumber: attributes.SequenceNumber }),
      ...(attributes.MessageGroupId && { MessageGroupId: attributes.MessageGroupId }),
      ...(attributes.MessageDeduplicationId && { MessageDeduplicationId: attributes.MessageDeduplicationId }),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/**
 * Splits received messages into at most `parts` batches of whole message groups, as even as whole
 * groups allow (a batch may hold several groups, as Lambda's do), each batch in receive order.
 * Messages without a group (standard queues) stand alone.
 */
export function splitByGroup(messages: readonly Message[], parts: number): Message[][] {
  const keyOf = (message: Message, index: number) => message.Attributes?.MessageGroupId ?? `\u0000${index}`;
  const groups = [...new Set(messages.map(keyOf))];
  const count = Math.max(1, Math.min(parts, groups.length));
  // Contiguous runs of groups, the first (groups % count) batches one group longer.
  const batchOfGroup = new Map<string, number>();
  let next = 0;
  for (let batch = 0; batch < count; batch++) {
    const size = Math.floor(groups.length / count) + (batch < groups.length % count ? 1 : 0);
    for (const group of groups.slice(next, next + size)) batchOfGroup.set(group, batch);
    next += size;
  }
  const batches: Message[][] = Array.from({ length: count }, () => []);
  messages.forEach((message, index) => batches[batchOfGroup.get(keyOf(message, index)) ?? 0]?.push(message));
  return batches;
}

export class SqsPoller {
  readonly stats: SqsPollerStats = { invocations: 0, received: 0, succeeded: 0, failed: 0, filteredOut: 0 };
  invokeWrapper: InvokeWrapper<SQSEvent> | undefined;

  private readonly filter: RecordFilter;
  private readonly aborts = new Set<AbortController>();
  /** The invocations in flight, each with the deletes and visibility changes after it. */
  private readonly batches = new Set<Promise<void>>();
  private receiving: Promise<void> | undefined;
  private stopping = false;
  private paused = false;
  private lastEmptyReceiveAt = 0;

  /** The most invocations in flight at once: the local cap, or the mapping's MaximumConcurrency when lower. */
  readonly maxConcurrency: number;

  constructor(private readonly options: SqsPollerOptions) {
    this.filter = compileFilters(options.mapping.filterPatterns);
    this.invokeWrapper = options.invokeWrapper;
    const cap = options.concurrency ?? DEFAULT_SQS_POLLER_CONCURRENCY;
    if (!Number.isInteger(cap) || cap < 1) throw new Error(`${options.name}: concurrency must be a positive integer, got ${cap}`);
    this.maxConcurrency = Math.min(cap, options.mapping.maximumConcurrency ?? cap);
  }

  get name(): string {
    return this.options.name;
  }

  /** Invocations in flight (with their deletes). */
  get inFlight(): number {
    return this.batches.size;
  }

  start(): void {
    if (this.receiving) return;
    this.stopping = false;
    this.receiving = this.loop().catch((error: unknown) => this.options.log.error(`poller stopped: ${describeError(error)}`));
  }

  /** Stops receiving; waits up to `graceMs` for invocations in flight. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    for (const abort of this.aborts) abort.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.receiving, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.receiving = undefined;
  }

  /**
   * Stops receiving; resolves once no receive or invocation is outstanding. A receive under
   * way is not aborted (the emulator could hand out a message nobody reads, invisible until
   * its visibility timeout): its messages are processed first.
   */
  async pause(): Promise<void> {
    this.paused = true;
    while (this.inFlight > 0 || this.aborts.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  resume(): void {
    this.paused = false;
  }

  /** Resolves once a receive that started after this call found the queue empty and nothing is in flight. */
  async waitForIdle(timeoutMs = 15_000): Promise<void> {
    const since = Date.now();
    const deadline = since + timeoutMs;
    while (!(this.lastEmptyReceiveAt > since && this.inFlight === 0)) {
      if (Date.now() > deadline) throw new Error(`${this.name}: not idle after ${timeoutMs} ms (${JSON.stringify(this.stats)})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Receives while an invocation slot is free and starts what it received as up to that many
   * invocations; waits for a slot when all are taken. Ends (after the invocations in flight) on stop().
   */
  private async loop(): Promise<void> {
    const { sqs, queue, mapping } = this.options;
    while (!this.stopping) {
      if (this.paused) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (this.batches.size >= this.maxConcurrency) {
        await Promise.race(this.batches);
        continue;
      }
      // An empty receive proves the queue idle only if nothing was in flight when it started: an
      // invocation that ends during the receive may leave its group's next message behind.
      const idleAtStart = this.batches.size === 0;
      const abort = new AbortController();
      this.aborts.add(abort);
      let messages: Message[];
      const startedAt = Date.now();
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: Math.min(10, mapping.batchSize),
            WaitTimeSeconds: this.options.waitTimeSeconds ?? 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (this.stopping) continue;
        this.options.log.warn(`ReceiveMessage failed: ${describeError(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      } finally {
        this.aborts.delete(abort);
      }
      if (messages.length === 0) {
        if (idleAtStart) this.lastEmptyReceiveAt = startedAt;
        continue;
      }
      for (const batch of splitByGroup(messages, this.maxConcurrency - this.batches.size)) {
        const running: Promise<void> = this.handle(batch)
          .catch((error: unknown) => this.options.log.error(`batch failed: ${describeError(error)}`))
          .finally(() => this.batches.delete(running));
        this.batches.add(running);
      }
    }
    await Promise.all(this.batches);
  }

  private async handle(messages: Message[]): Promise<void> {
    const { queue, region, sqs, log } = this.options;
    this.stats.received += messages.length;
    const records = messages.map((m) => toSqsRecord(m, queue, region));
    const matching = records.filter((r) => this.filter(r));
    const filtered = records.filter((r) => !matching.includes(r));
    this.stats.filteredOut += filtered.length;

    let failedIds = new Set<string>();
    if (matching.length > 0) {
      failedIds = await this.invoke(matching);
    }
    const done = records.filter((r) => !failedIds.has(r.messageId));
    if (done.length > 0) {
      try {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
          }),
        );
      } catch (error) {
        log.warn(`DeleteMessageBatch failed (the messages will be redelivered): ${describeError(error)}`);
      }
    }
    const retryAfter = this.options.failedMessageVisibilitySeconds;
    const failed = records.filter((r) => failedIds.has(r.messageId));
    if (retryAfter !== undefined && failed.length > 0) {
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queue.url,
            Entries: failed.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle, VisibilityTimeout: retryAfter })),
          }),
        )
        .catch((error: unknown) => log.warn(`ChangeMessageVisibilityBatch failed: ${describeError(error)}`));
    }
  }

  /** Invokes the function; returns the ids of the messages that failed. */
  private async invoke(records: SQSRecord[]): Promise<Set<string>> {
    const { log, fn, mapping } = this.options;
    const event: SQSEvent = { Records: records };
    this.stats.invocations++;
    const started = Date.now();
    let failedIds: Set<string>;
    let error: unknown;
    try {
      const invoke = (e: SQSEvent) => fn.invoke(e);
      const result = this.invokeWrapper ? await this.invokeWrapper(event, invoke) : await invoke(event);
      failedIds = mapping.reportBatchItemFailures ? this.reportedFailures(records, result) : new Set();
    } catch (thrown) {
      error = thrown;
      failedIds = new Set(records.map((r) => r.messageId));
    }
    const ms = Date.now() - started;
    this.stats.failed += failedIds.size;
    this.stats.succeeded += records.length - failedIds.size;
    if (this.options.reporter) {
      try {
        await this.options.reporter({ records, failedIds, durationMs: ms, ...(error !== undefined && { error }) });
      } catch (reportError) {
        log.warn(`could not report the invocation: ${describeError(reportError)}`);
      }
      return failedIds;
    }
    for (const record of records) {
      const failed = failedIds.has(record.messageId);
      const line = `${describeMessage(record)} ${failed ? 'FAILED' : 'ok'} (receive ${record.attributes.ApproximateReceiveCount}, ${ms} ms)`;
      if (failed) log.warn(`${line}${error ? `: ${describeError(error)}` : ''}`);
      else log.info(line);
    }
    return failedIds;
  }

  /** Lambda's rules: empty/absent list = all succeeded; an unknown or empty identifier fails the whole batch. */
  private reportedFailures(records: SQSRecord[], result: unknown): Set<string> {
    const failures = (result as Partial<SQSBatchResponse> | null | undefined)?.batchItemFailures;
    if (failures === undefined || failures === null) return new Set();
    const all = new Set(records.map((r) => r.messageId));
    if (!Array.isArray(failures)) return all;
    const ids = new Set<string>();
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || !all.has(id)) return all;
      ids.add(id);
    }
    return ids;
  }
}
