/**
 * Plays a Lambda event source mapping on an SQS queue: long-polling ReceiveMessage with the
 * template's batch size, SQSEvent records in Lambda's shape, DeleteMessageBatch for the
 * messages that succeeded (all of them, or all but the reported batchItemFailures). Failed
 * messages are left alone: they reappear after the visibility timeout and the queue's redrive
 * policy moves them to the DLQ after maxReceiveCount receives (the emulator does that). A
 * visibility the handler set itself (ChangeMessageVisibility, as the webhook dispatchers do for
 * their backoff) stands, unless `failedMessageVisibilitySeconds` is set.
 * Messages that do not match FilterCriteria are deleted, as Lambda does.
 */
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
   * Concurrent receive-and-invoke loops. Above 1, invocations of the same handler module overlap
   * in this process, which Lambda never does (each concurrent invocation gets its own execution
   * environment and module state): only for handlers that keep no per-invocation state at module
   * scope (a shared Powertools batch processor mixes up concurrent batch responses). @default 1
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

function describeMessage(body: string): string {
  return eventLabel(body) ?? `${body.length} bytes`;
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

export class SqsPoller {
  readonly stats: SqsPollerStats = { invocations: 0, received: 0, succeeded: 0, failed: 0, filteredOut: 0 };
  invokeWrapper: InvokeWrapper<SQSEvent> | undefined;

  private readonly filter: RecordFilter;
  private readonly aborts = new Set<AbortController>();
  private workers: Promise<void>[] = [];
  private stopping = false;
  private paused = false;
  private inFlight = 0;
  private lastEmptyReceiveAt = 0;

  constructor(private readonly options: SqsPollerOptions) {
    this.filter = compileFilters(options.mapping.filterPatterns);
    this.invokeWrapper = options.invokeWrapper;
  }

  get name(): string {
    return this.options.name;
  }

  start(): void {
    if (this.workers.length > 0) return;
    this.stopping = false;
    const concurrency = this.options.concurrency ?? 1;
    for (let i = 0; i < concurrency; i++) {
      this.workers.push(this.loop().catch((error: unknown) => this.options.log.error(`poller stopped: ${describeError(error)}`)));
    }
  }

  /** Stops receiving; waits up to `graceMs` for invocations in flight. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    for (const abort of this.aborts) abort.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.workers), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.workers = [];
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

  private async loop(): Promise<void> {
    const { sqs, queue, mapping } = this.options;
    while (!this.stopping) {
      if (this.paused) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
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
        this.lastEmptyReceiveAt = startedAt;
        continue;
      }
      this.inFlight++;
      try {
        await this.handle(messages);
      } finally {
        this.inFlight--;
      }
    }
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
      const line = `${describeMessage(record.body)} ${failed ? 'FAILED' : 'ok'} (receive ${record.attributes.ApproximateReceiveCount}, ${ms} ms)`;
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
