/**
 * `replay`: re-sends Outbox events, of one payment or of an `occurredAt` range, to one FIFO queue,
 * in sequence order per payment, with their original eventIds in the body. Each message gets the
 * deduplication id `<eventId>:replay:<runId>`: a replay minutes after the original send would
 * otherwise be dropped silently by the queue's 5-minute deduplication window. Consumers
 * deduplicate by eventId, so a replayed event they already applied is skipped.
 */
import { paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BATCH_ENTRIES } from '../sqs-event-publisher';
import { DEFAULT_REPLAY_QUEUE_NAME, type Command } from '../args';
import type { CommandContext } from '../context';
import { EXIT, QueueNotFoundError, RefusedError, type ExitCode } from '../errors';
import { entryBytes, replayEntry } from '../messages';
import { formatTable } from '../output';
import { describeQueue, type QueueInfo } from '../queues';
import { planReplayBatches, selectEvents, sendOrder } from '../replay-plan';
import { resolveOutboxTable } from '../target';

type ReplayCommand = Extract<Command, { name: 'replay' }>;

interface LoadedItems {
  readonly items: Record<string, unknown>[];
  /** Scan only: items read (and paid for) before the filter. */
  readonly scanned?: number;
  readonly capacityUnits?: number;
}

export async function replay(command: ReplayCommand, ctx: CommandContext): Promise<ExitCode> {
  const { out } = ctx;
  const table = await resolveOutboxTable(ctx.target, ctx.dynamodb);
  const queue = await replayQueue(command.queue ?? ctx.target.paymentEventsQueueUrl ?? DEFAULT_REPLAY_QUEUE_NAME, ctx);
  const runId = command.runId ?? ctx.newRunId();

  const { selection } = command;
  const what = selection.kind === 'payment' ? `payment ${selection.paymentId}` : `events with occurredAt in [${selection.from}, ${selection.to})`;
  out.line(`Replay ${what}`);
  out.line(`  from table ${table}`);
  out.line(`  to queue   ${queue.name} (${queue.url})`);
  out.line(`  run id     ${runId} (MessageDeduplicationId = <eventId>:replay:${runId})`);

  const loaded = selection.kind === 'payment' ? await queryPayment(table, selection.paymentId, ctx) : await scanRange(table, selection.from, selection.to, ctx);
  if (loaded.scanned !== undefined) {
    const units = loaded.capacityUnits === undefined ? 'not reported' : `${loaded.capacityUnits} read capacity units`;
    out.line(`  scan       read ${loaded.scanned} items to find ${loaded.items.length} (a Scan reads and bills every item of the table; ${units})`);
  }

  const selected = selectEvents(loaded.items);
  if (selected.invalid.length > 0) {
    throw new RefusedError(`${selected.invalid.length} Outbox item(s) are not events; nothing was sent`, selected.invalid);
  }
  const total = selected.payments.reduce((sum, p) => sum + p.count, 0);
  out.line();
  out.line(`Found ${total} event(s) of ${selected.payments.length} payment(s).`);
  if (total === 0) {
    if (selection.kind === 'payment') {
      out.warn(`No events for payment ${selection.paymentId} in ${table} (wrong id, or expired by TTL).`);
      return EXIT.error;
    }
    out.line('Nothing to replay.');
    return EXIT.ok;
  }
  for (const line of formatTable(
    ['payment', 'events', 'sequences', 'missing'],
    selected.payments.map((p) => [p.aggregateId, String(p.count), `${p.firstSequence}..${p.lastSequence}`, p.missing.length > 0 ? p.missing.join(',') : '-']),
  )) {
    out.line(`  ${line}`);
  }
  const withGaps = selected.payments.filter((p) => p.missing.length > 0);
  if (withGaps.length > 0) {
    out.warn(`Warning: ${withGaps.length} payment(s) have sequences missing from the Outbox table; consumers will hold later events until the missing ones arrive.`);
  }

  const events = sendOrder(selected.byPayment);
  const { batches, tooLarge } = planReplayBatches(events, {
    maxEntries: SQS_MAX_BATCH_ENTRIES,
    maxBytes: SQS_MAX_BATCH_BYTES,
    messageBytes: (envelope) => entryBytes(replayEntry(envelope, '0', runId)),
  });
  if (tooLarge !== undefined) throw new RefusedError(`an event cannot be sent: ${tooLarge}; nothing was sent`);

  if (command.dryRun) {
    out.line();
    out.line(`Dry run: would send ${total} event(s) in ${batches.length} SendMessageBatch call(s); nothing was sent.`);
    return EXIT.ok;
  }

  let sent = 0;
  for (const batch of batches) {
    const entries = batch.entries.map((entry) => replayEntry(entry.envelope, String(entry.index), runId));
    const response = await ctx.sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
    const failed = response.Failed ?? [];
    const accepted = new Set((response.Successful ?? []).map((s) => s.Id));
    sent += entries.filter((e) => accepted.has(e.Id)).length;
    if (failed.length > 0 || accepted.size < entries.length) {
      out.line();
      out.warn(`Stopped after ${sent} of ${total} event(s): the queue rejected part of a batch.`);
      for (const failure of failed) {
        const envelope = events[Number(failure.Id)];
        out.warn(`  ${envelope ? `${envelope.aggregateId} #${envelope.sequence} (${envelope.eventId})` : `entry ${failure.Id}`}: ${failure.Code ?? 'Unknown'} ${failure.Message ?? ''}`.trimEnd());
      }
      out.warn(`Later batches were not sent, so no payment got an event after one that failed. Re-run with --run-id ${runId} within 5 minutes: the queue drops the events already sent as duplicates.`);
      return EXIT.error;
    }
  }
  out.line();
  out.line(`Sent ${sent} event(s) to ${queue.name} in ${batches.length} SendMessageBatch call(s).`);
  return EXIT.ok;
}

async function replayQueue(ref: string, ctx: CommandContext): Promise<QueueInfo> {
  let queue: QueueInfo;
  try {
    queue = await describeQueue(ref, ctx.target, ctx.sqs);
  } catch (error) {
    if (error instanceof QueueNotFoundError) throw new RefusedError(`the queue ${ref} does not exist; nothing was sent`);
    throw error;
  }
  if (!queue.fifo) throw new RefusedError(`the queue ${queue.name} is not a FIFO queue: it would not keep a payment's events in order; nothing was sent`);
  return queue;
}

async function queryPayment(table: string, paymentId: string, ctx: CommandContext): Promise<LoadedItems> {
  const items: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: ctx.documents },
    { TableName: table, KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: { ':id': paymentId }, ConsistentRead: true },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return { items };
}

/**
 * Every item with `occurredAt` in [from, to). `occurredAt` is stored as `Date#toISOString()`, so
 * string order is time order. The Outbox has no index on time: the Scan reads the whole table.
 */
async function scanRange(table: string, from: string, to: string, ctx: CommandContext): Promise<LoadedItems> {
  const items: Record<string, unknown>[] = [];
  let scanned = 0;
  let capacityUnits: number | undefined;
  const pages = paginateScan(
    { client: ctx.documents },
    {
      TableName: table,
      FilterExpression: '#at >= :from AND #at < :to',
      ExpressionAttributeNames: { '#at': 'occurredAt' },
      ExpressionAttributeValues: { ':from': from, ':to': to },
      ReturnConsumedCapacity: 'TOTAL',
    },
  );
  for await (const page of pages) {
    items.push(...(page.Items ?? []));
    scanned += page.ScannedCount ?? 0;
    const units = page.ConsumedCapacity?.CapacityUnits;
    if (units !== undefined) capacityUnits = (capacityUnits ?? 0) + units;
  }
  return { items, scanned, ...(capacityUnits !== undefined && { capacityUnits }) };
}
