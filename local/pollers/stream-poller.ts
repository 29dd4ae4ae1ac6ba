/**
 * Plays a Lambda event source mapping on a DynamoDB stream, with the template's settings:
 * starting position, FilterCriteria (filtered-out records are dropped), BatchSize and
 * MaximumBatchingWindowInSeconds, ReportBatchItemFailures (checkpoint at the lowest failed
 * sequence number, retry from there), BisectBatchOnFunctionError (split a failed batch in
 * halves; splitting does not count as a retry), MaximumRetryAttempts and
 * MaximumRecordAgeInSeconds (then the batch's metadata goes to the on-failure queue, as AWS
 * sends it), one batch in flight per shard (ParallelizationFactor 1), shard lineage (a child
 * shard after its parent), and expired iterators.
 *
 * Retry counting: the count belongs to the first unprocessed record; it restarts when a
 * partial batch response moves the checkpoint forward.
 *
 * Cadence, as Lambda's: each shard is polled at a base rate of 4 GetRecords per second
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Polling and batching streams"),
 * the next poll due `pollIntervalMs` after the previous one started; at once when the previous
 * one came back with at least a full batch (the shard is busy), and records already read are
 * delivered without waiting for a poll.
 */
import { OUTBOX_TRACEPARENT_ATTRIBUTE } from '../../lambdas/domain/event-envelope';
import { parseTraceparent } from '../../lambdas/domain/trace-context';
import { randomUUID } from 'node:crypto';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describeError, type LocalLogger } from '../log';
import type { LocalFunction } from '../runtime/local-function';
import type { LocalQueueRef } from '../template/intrinsics';
import type { StreamMappingSpec } from '../template/resolve';
import { compileFilters, type RecordFilter } from './event-filter';
import { toLambdaRecord, withRegion, type PolledRecord } from './stream-records';

/**
 * Wraps one invocation, for tests that inject faults: call `invoke` (the real handler) or not,
 * then return its result, another result, or throw (a function error).
 */
export type InvokeWrapper<E> = (event: E, invoke: (event: E) => Promise<unknown>) => Promise<unknown>;

export interface StreamPollerStats {
  /** Function invocations, retries included. */
  invocations: number;
  /** Records read from the stream. */
  recordsRead: number;
  /** Records dropped by FilterCriteria. */
  filteredOut: number;
  /** Records whose invocation succeeded (not reported as failed). */
  published: number;
  /** Records in failed invocations or reported in batchItemFailures (each attempt counts). */
  failed: number;
  /** Retries after a failure (bisecting excluded). */
  retries: number;
  bisections: number;
  /** Records given up (retries exhausted or too old). */
  discarded: number;
  /** Messages sent to the on-failure destination. */
  onFailureMessages: number;
}

export interface StreamPollerOptions {
  /** Name in logs, e.g. `relay`. */
  readonly name: string;
  readonly mapping: StreamMappingSpec;
  /** The stream ARN in DynamoDB Local. */
  readonly streamArn: string;
  readonly region: string;
  readonly fn: LocalFunction;
  readonly streams: DynamoDBStreamsClient;
  readonly sqs: SQSClient;
  readonly onFailureQueue?: LocalQueueRef;
  readonly log: LocalLogger;
  /**
   * Time from the start of one GetRecords of a shard to the start of the next, unless the first
   * came back with a full batch (then the next follows at once). @default LAMBDA_STREAM_POLL_INTERVAL_MS
   */
  readonly pollIntervalMs?: number;
  /** How often the shard list is refreshed. @default 5_000 */
  readonly shardRefreshMs?: number;
  /** Backoff before retry n: min(maxMs, baseMs * 2^(n-1)). @default { baseMs: 200, maxMs: 5_000 } */
  readonly retryBackoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly invokeWrapper?: InvokeWrapper<DynamoDBStreamEvent>;
  /** Clock for record ages (tests). @default Date.now */
  readonly now?: () => number;
}

/** Lambda polls each shard of a DynamoDB stream 4 times per second. */
export const LAMBDA_STREAM_POLL_INTERVAL_MS = 250;

/** The most records one GetRecords call returns (DynamoDB Streams' maximum). */
const GET_RECORDS_LIMIT = 1000;

type Outcome =
  | { kind: 'ok' }
  | { kind: 'partial'; firstFailedIndex: number }
  | { kind: 'error'; error: unknown };

interface ShardState {
  readonly shardId: string;
  readonly parentShardId?: string;
  running: boolean;
  done: boolean;
  buffered: number;
  delivering: boolean;
  /** When the last GetRecords that found nothing (with an empty buffer) started. */
  lastEmptyPollAt: number;
  /** Sequence number of the last record of the last batch processed: a restarted worker resumes after it. */
  checkpoint?: string;
}

type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

const errorName = (error: unknown): string => (error as { name?: string } | undefined)?.name ?? '';

export class StreamPoller {
  readonly stats: StreamPollerStats = {
    invocations: 0,
    recordsRead: 0,
    filteredOut: 0,
    published: 0,
    failed: 0,
    retries: 0,
    bisections: 0,
    discarded: 0,
    onFailureMessages: 0,
  };

  /** Replace to inject faults; undefined invokes the handler directly. */
  invokeWrapper: InvokeWrapper<DynamoDBStreamEvent> | undefined;

  private readonly filter: RecordFilter;
  private readonly shards = new Map<string, ShardState>();
  private readonly sleepers = new Set<() => void>();
  private readonly pollIntervalMs: number;
  private readonly shardRefreshMs: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private running: Promise<void> | undefined;
  private stopping = false;
  private paused = false;
  private inFlight = 0;

  constructor(private readonly options: StreamPollerOptions) {
    this.filter = compileFilters(options.mapping.filterPatterns);
    this.pollIntervalMs = options.pollIntervalMs ?? LAMBDA_STREAM_POLL_INTERVAL_MS;
    this.shardRefreshMs = options.shardRefreshMs ?? 5_000;
    this.backoff = { baseMs: 200, maxMs: 5_000, ...options.retryBackoff };
    this.invokeWrapper = options.invokeWrapper;
  }

  get name(): string {
    return this.options.name;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.run().catch((error: unknown) => this.options.log.error(`poller stopped: ${describeError(error)}`));
  }

  /** Stops polling; waits up to `graceMs` for the invocation in flight. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    this.wakeAll();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.running = undefined;
  }

  /** Stops starting invocations; resolves once none is in flight. Records stay in the stream. */
  async pause(): Promise<void> {
    this.paused = true;
    while (this.inFlight > 0) await this.sleep(10);
  }

  resume(): void {
    this.paused = false;
    this.wakeAll();
  }

  /**
   * Resolves once every shard has been read to its end after this call and nothing is buffered
   * or in flight: every record written before the call has been delivered (or dropped).
   */
  async waitForIdle(timeoutMs = 15_000): Promise<void> {
    if (this.paused) throw new Error(`${this.name}: waitForIdle() while paused would never finish`);
    const since = Date.now();
    const deadline = since + timeoutMs;
    for (;;) {
      const shards = [...this.shards.values()].filter((s) => !s.done);
      const idle = shards.length > 0 && shards.every((s) => s.buffered === 0 && !s.delivering && s.lastEmptyPollAt > since);
      if (idle && this.inFlight === 0) return;
      if (Date.now() > deadline) throw new Error(`${this.name}: not idle after ${timeoutMs} ms (${JSON.stringify(this.stats)})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private async run(): Promise<void> {
    let nextRefresh = 0;
    const workers = new Set<Promise<void>>();
    while (!this.stopping) {
      if (Date.now() >= nextRefresh) {
        try {
          await this.refreshShards();
          nextRefresh = Date.now() + this.shardRefreshMs;
        } catch (error) {
          this.options.log.warn(`DescribeStream failed: ${describeError(error)}`);
          nextRefresh = Date.now() + 1_000;
        }
      }
      for (const shard of this.shards.values()) {
        if (shard.running || shard.done || !this.parentDone(shard)) continue;
        shard.running = true;
        const worker = this.runShard(shard)
          .catch((error: unknown) => this.options.log.error(`shard ${shard.shardId} failed: ${describeError(error)}`))
          .finally(() => {
            shard.running = false;
            workers.delete(worker);
            nextRefresh = 0;
            this.wakeAll();
          });
        workers.add(worker);
      }
      await this.sleep(Math.max(0, Math.min(this.shardRefreshMs, nextRefresh - Date.now())));
    }
    await Promise.all(workers);
  }

  private parentDone(shard: ShardState): boolean {
    if (!shard.parentShardId) return true;
    const parent = this.shards.get(shard.parentShardId);
    return !parent || parent.done;
  }

  private async refreshShards(): Promise<void> {
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: description } = await this.options.streams.send(
        new DescribeStreamCommand({ StreamArn: this.options.streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      for (const shard of description?.Shards ?? []) this.addShard(shard);
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
  }

  private addShard(shard: Shard): void {
    if (!shard.ShardId || this.shards.has(shard.ShardId)) return;
    this.shards.set(shard.ShardId, {
      shardId: shard.ShardId,
      ...(shard.ParentShardId && { parentShardId: shard.ParentShardId }),
      running: false,
      done: false,
      buffered: 0,
      delivering: false,
      lastEmptyPollAt: 0,
    });
  }

  private async shardIterator(shardId: string, afterSequenceNumber: string | undefined): Promise<string | undefined> {
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.options.streamArn,
        ShardId: shardId,
        ...(afterSequenceNumber
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: afterSequenceNumber }
          : { ShardIteratorType: this.options.mapping.startingPosition }),
      }),
    );
    return ShardIterator;
  }

  private async runShard(shard: ShardState): Promise<void> {
    const { mapping } = this.options;
    const windowMs = mapping.maxBatchingWindowSeconds * 1000;
    const buffer: PolledRecord[] = [];
    let lastReadSequence = shard.checkpoint;
    let iterator = await this.shardIterator(shard.shardId, shard.checkpoint);
    let closed = iterator === undefined;
    let windowStartedAt = 0;
    let readFailures = 0;
    /** When the next GetRecords is due: the base rate after the last one, at once after a full one. */
    let nextPollAt = 0;

    while (!this.stopping) {
      await this.whilePaused();
      if (this.stopping) break;

      const now = Date.now();
      const canRead = !closed && iterator !== undefined;
      const windowEndsAt = windowStartedAt + windowMs;
      // Records waiting are delivered when they fill a batch, when no batching window holds them
      // (or it has passed), or when nothing more can be read.
      const deliverNow = buffer.length >= mapping.batchSize || (buffer.length > 0 && (!canRead || windowMs === 0 || now >= windowEndsAt));
      if (!deliverNow) {
        if (!canRead) {
          if (closed) break;
          await this.sleep(this.pollIntervalMs);
          continue;
        }
        // The next poll, or the end of the batching window if it comes first.
        const wakeAt = buffer.length > 0 ? Math.min(nextPollAt, windowEndsAt) : nextPollAt;
        if (wakeAt > now) {
          await this.sleep(wakeAt - now);
          continue;
        }
        const pollStartedAt = now;
        try {
          const out = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }));
          const records = out.Records ?? [];
          for (const api of records) {
            const polled = toLambdaRecord(api, { region: this.options.region, streamArn: this.options.streamArn, now: this.now() });
            lastReadSequence = polled.sequenceNumber;
            this.stats.recordsRead++;
            if (this.filter(polled.record)) {
              if (buffer.length === 0) windowStartedAt = Date.now();
              buffer.push(polled);
            } else this.stats.filteredOut++;
          }
          iterator = out.NextShardIterator;
          if (!iterator) closed = true;
          const full = records.length >= Math.min(GET_RECORDS_LIMIT, mapping.batchSize);
          nextPollAt = full ? pollStartedAt : pollStartedAt + this.pollIntervalMs;
          if (records.length === 0 && buffer.length === 0) shard.lastEmptyPollAt = pollStartedAt;
        } catch (error) {
          const name = errorName(error);
          if (name === 'ExpiredIteratorException') {
            iterator = await this.shardIterator(shard.shardId, lastReadSequence);
          } else if (name === 'TrimmedDataAccessException') {
            // Re-position after the last record read (nothing is read twice); if that record is
            // gone too, or nothing was read yet, start at the oldest record still there.
            this.options.log.debug(`shard ${shard.shardId}: ${describeError(error)}; re-positioning`);
            iterator = await this.shardIterator(shard.shardId, lastReadSequence).catch(async (again: unknown) => {
              if (errorName(again) !== 'TrimmedDataAccessException') throw again;
              this.options.log.warn(`shard ${shard.shardId} was trimmed past the last record read; continuing at TRIM_HORIZON`);
              lastReadSequence = undefined;
              return this.shardIterator(shard.shardId, undefined);
            });
          } else if (name === 'ResourceNotFoundException') {
            this.options.log.warn(`shard ${shard.shardId} no longer exists`);
            shard.done = true;
            return;
          } else {
            // E.g. DynamoDB Local went away: back off, and log the 1st, 10th, 100th... failure only.
            readFailures += 1;
            if (Number.isInteger(Math.log10(readFailures))) this.options.log.warn(`GetRecords failed (${readFailures}x): ${describeError(error)}`);
            await this.sleep(this.backoffMs(readFailures));
          }
          continue;
        }
        if (readFailures > 0) this.options.log.info(`GetRecords works again after ${readFailures} failures`);
        readFailures = 0;
        shard.buffered = buffer.length;
        continue;
      }

      const batch = buffer.splice(0, mapping.batchSize);
      if (buffer.length > 0) windowStartedAt = Date.now();
      shard.buffered = buffer.length;
      shard.delivering = true;
      try {
        await this.deliver(shard.shardId, batch);
        shard.checkpoint = batch.at(-1)?.sequenceNumber ?? shard.checkpoint;
      } finally {
        shard.delivering = false;
      }
    }
    if (closed) {
      shard.done = true;
      this.options.log.debug(`shard ${shard.shardId} closed and fully read`);
    }
  }

  /**
   * Delivers one batch with the mapping's retry, bisect, partial-failure and age rules.
   * `attempts` counts the failed invocations of the current first record; a retry is any
   * attempt after the first, so records are given up once attempts > MaximumRetryAttempts.
   */
  private async deliver(shardId: string, initial: PolledRecord[]): Promise<void> {
    const { mapping } = this.options;
    const maxRetries = mapping.maximumRetryAttempts;
    const pending: PolledRecord[][] = [initial];
    let attempts = 0;
    let last: Outcome | undefined;
    const done = () => {
      pending.shift();
      attempts = 0;
      last = undefined;
    };
    while (pending.length > 0 && !this.stopping) {
      await this.whilePaused();
      if (this.stopping) return;
      let batch = pending[0] as PolledRecord[];

      if (mapping.maximumRecordAgeInSeconds >= 0) {
        const oldest = this.now() - mapping.maximumRecordAgeInSeconds * 1000;
        const firstYoung = batch.findIndex((r) => r.arrivedAt >= oldest);
        const expired = firstYoung === -1 ? batch.length : firstYoung;
        if (expired > 0) {
          await this.discard(shardId, batch.slice(0, expired), 'RecordAgeExceeded', attempts, last);
          batch = batch.slice(expired);
          if (batch.length === 0) {
            done();
            continue;
          }
          pending[0] = batch;
        }
      }

      const outcome = await this.invoke(batch);
      if (outcome.kind === 'ok') {
        done();
        continue;
      }
      last = outcome;
      if (outcome.kind === 'partial') {
        // The records before the lowest failure are done; the rest is retried from there.
        attempts = outcome.firstFailedIndex === 0 ? attempts + 1 : 1;
        batch = batch.slice(outcome.firstFailedIndex);
        pending[0] = batch;
      } else if (mapping.bisectBatchOnFunctionError && batch.length > 1) {
        const middle = Math.ceil(batch.length / 2);
        pending.splice(0, 1, batch.slice(0, middle), batch.slice(middle));
        this.stats.bisections++;
        this.options.log.info(`bisecting the failed batch into ${middle} + ${batch.length - middle} records`);
        continue;
      } else {
        attempts += 1;
      }
      if (maxRetries >= 0 && attempts > maxRetries) {
        await this.discard(shardId, batch, 'RetryAttemptsExhausted', attempts, last);
        done();
        continue;
      }
      this.stats.retries++;
      await this.sleep(this.backoffMs(attempts));
    }
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private backoffMs(retry: number): number {
    return Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.max(0, retry - 1));
  }

  private async invoke(batch: PolledRecord[]): Promise<Outcome> {
    const event: DynamoDBStreamEvent = { Records: batch.map((r) => r.record) };
    const started = Date.now();
    this.inFlight++;
    this.stats.invocations++;
    let outcome: Outcome;
    try {
      const invoke = (e: DynamoDBStreamEvent) => this.options.fn.invoke(e);
      const result = this.invokeWrapper ? await this.invokeWrapper(event, invoke) : await invoke(event);
      outcome = this.interpret(batch, result);
    } catch (error) {
      outcome = { kind: 'error', error };
    } finally {
      this.inFlight--;
    }
    const ms = Date.now() - started;
    const published = outcome.kind === 'ok' ? batch.length : outcome.kind === 'partial' ? outcome.firstFailedIndex : 0;
    const failed = batch.length - published;
    this.stats.published += published;
    this.stats.failed += failed;
    const suffix = outcome.kind === 'error' ? `: ${describeError(outcome.error)}` : '';
    const line = `batch of ${batch.length}: ${published} published, ${failed} failed (${ms} ms)${suffix}`;
    if (outcome.kind === 'error') this.options.log.warn(line);
    else this.options.log.info(line);
    for (const polled of batch.slice(0, published)) {
      const label = outboxRecordLabel(polled.record);
      if (label !== undefined) this.options.log.info(`  ${label} published`);
    }
    return outcome;
  }

  /**
   * Reads a partial batch response as Lambda does: no failures = success; an identifier that is
   * empty or not a record of the batch = the whole batch failed; else checkpoint at the lowest one.
   */
  private interpret(batch: PolledRecord[], result: unknown): Outcome {
    if (!this.options.mapping.reportBatchItemFailures) return { kind: 'ok' };
    const failures = (result as Partial<DynamoDBBatchResponse> | null | undefined)?.batchItemFailures;
    if (failures === undefined || failures === null || (Array.isArray(failures) && failures.length === 0)) return { kind: 'ok' };
    if (!Array.isArray(failures)) return { kind: 'error', error: new Error('batchItemFailures is not a list') };
    let lowest = batch.length;
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      const index = typeof id === 'string' && id !== '' ? batch.findIndex((r) => r.sequenceNumber === id) : -1;
      if (index === -1) return { kind: 'error', error: new Error(`invalid itemIdentifier ${JSON.stringify(id)} in batchItemFailures`) };
      lowest = Math.min(lowest, index);
    }
    return { kind: 'partial', firstFailedIndex: lowest };
  }

  /** Gives up on `records`: their metadata goes to the on-failure queue, like Lambda's invocation record. */
  private async discard(shardId: string, records: PolledRecord[], condition: FailureCondition, attempts: number, last: Outcome | undefined): Promise<void> {
    const first = records[0];
    const lastRecord = records.at(-1);
    if (!first || !lastRecord) return;
    this.stats.discarded += records.length;
    const destination = this.options.onFailureQueue;
    this.options.log.warn(
      `giving up on ${records.length} records (${condition}, sequence ${first.sequenceNumber}..${lastRecord.sequenceNumber})` +
        (destination ? `; metadata sent to ${destination.queueName}` : '; no on-failure destination'),
    );
    if (!destination) return;
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const message = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.options.fn.arn,
        condition,
        approximateInvokeCount: attempts,
      },
      ...(last && {
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          ...(last.kind === 'error' && { functionError: 'Unhandled' }),
        },
      }),
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: lastRecord.sequenceNumber,
        approximateArrivalOfFirstRecord: iso(first.arrivedAt),
        approximateArrivalOfLastRecord: iso(lastRecord.arrivedAt),
        batchSize: records.length,
        streamArn: withRegion(this.options.streamArn, this.options.region),
      },
    };
    try {
      await this.options.sqs.send(new SendMessageCommand({ QueueUrl: destination.url, MessageBody: JSON.stringify(message) }));
      this.stats.onFailureMessages++;
    } catch (error) {
      this.options.log.error(`could not send to ${destination.queueName}: ${describeError(error)}`);
    }
  }

  private async whilePaused(): Promise<void> {
    while (this.paused && !this.stopping) await this.sleep(50);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}

/**
 * `payment.created <paymentId> seq=1 trace=<trace id>` for an Outbox INSERT record, read from its new
 * image without judging it (the relay does); `undefined` for any other record.
 */
export function outboxRecordLabel(record: DynamoDBRecord): string | undefined {
  const image = record.eventName === 'INSERT' ? record.dynamodb?.NewImage : undefined;
  const type = image?.type?.S;
  const aggregateId = image?.aggregateId?.S;
  if (type === undefined || aggregateId === undefined) return undefined;
  const traceId = parseTraceparent(image?.[OUTBOX_TRACEPARENT_ATTRIBUTE]?.S)?.traceId;
  return `${type} ${aggregateId} seq=${image?.sequence?.N ?? '?'}${traceId === undefined ? '' : ` trace=${traceId}`}`;
}
