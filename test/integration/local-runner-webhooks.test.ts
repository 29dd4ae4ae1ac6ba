/**
 * The template's webhook dispatcher on the local runner, delivering to the tools/webhook-receiver
 * child process the runner starts for the app's `notifications` subscriber: the dispatcher's URL
 * pointed at the receiver's free port, signed with the run's secret (the receiver answers 401 to
 * a bad signature), its backoff visibility honoured by the poller (the stack's test acceleration
 * of failed messages does not apply to dispatchers), per-invocation lines a person can follow,
 * endpoints.json / pids.json, and the receiver stopped with the stack.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverySortKey } from '../../lambdas/domain/delivery-state';
import { createLogger } from '../../local/log';
import { isAlive } from '../../local/process/process-group';
import type { EndpointsFile } from '../../local/stack';
import { callApi, NOTIFICATIONS_SUBSCRIBER, startTestStack, type LocalStack } from '../support/local-stack-harness';

/** The receiver's Retry-After on its injected 503: the dispatcher's next attempt waits exactly this long. */
const RETRY_AFTER_SECONDS = 2;

let stack: LocalStack;
const lines: string[] = [];
let receiverPid: number | undefined;

beforeAll(async () => {
  stack = await startTestStack({
    consumers: true,
    logger: createLogger('local', { level: 'info', sink: (_level, line) => lines.push(line) }),
    // Would make every failed message visible again at once; a dispatcher's backoff must win.
    sqsFailedMessageVisibilitySeconds: 0,
    webhookReceiver: { port: 0, args: ['--fail-first', '1', '--retry-after', String(RETRY_AFTER_SECONDS)] },
    webhookOverrides: { [NOTIFICATIONS_SUBSCRIBER]: { env: { WEBHOOK_BACKOFF_BASE_SECONDS: '1', WEBHOOK_BACKOFF_MAX_SECONDS: '4' } } },
  });
  receiverPid = stack.pids.webhookReceiver;
});

afterAll(async () => {
  await stack?.stop();
});

async function eventually<T>(read: () => T | Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; runner lines:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The receiver's request lines for one event: [time, status, outcome]. */
function receiverLines(eventId: string): { at: number; status: number; line: string }[] {
  return lines
    .filter((line) => line.includes(` evt=${eventId} `))
    .flatMap((line) => {
      const match = /(\d{4}-\d\d-\d\dT[\d:.]+Z) (\d{3}) evt=/.exec(line);
      return match?.[1] && match[2] ? [{ at: Date.parse(match[1]), status: Number(match[2]), line }] : [];
    });
}

describe('webhook receiver started by the runner', () => {
  it('runs as its own process on a free port, recorded in pids.json; endpoints.json names its URL, the secrets and the topic', () => {
    const endpoints = JSON.parse(readFileSync(join(stack.stateDir, 'endpoints.json'), 'utf8')) as EndpointsFile;
    expect(endpoints).toEqual(stack.endpoints);
    expect(endpoints.webhookReceiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/payment-events$/);
    expect(endpoints.webhookReceiverUrl).not.toContain(':3001/');
    expect(endpoints.webhookReceiverUrl).toBe(new URL('/payment-events', stack.webhookReceiver?.url).href);
    expect(Object.keys(endpoints.webhookSecrets)).toEqual([NOTIFICATIONS_SUBSCRIBER]);
    expect(endpoints.webhookSecrets[NOTIFICATIONS_SUBSCRIBER]).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoints.snsEndpoint).toBe(endpoints.sqsEndpoint);
    expect(Object.keys(endpoints.topics)).toEqual(['payment-events.fifo']);

    const pids = JSON.parse(readFileSync(join(stack.stateDir, 'pids.json'), 'utf8')) as { children: { name: string; pid: number; port: number }[] };
    const receiver = pids.children.find((c) => c.name === 'webhook receiver');
    expect(receiver).toMatchObject({ pid: receiverPid, port: Number(new URL(endpoints.webhookReceiverUrl as string).port) });
    expect(isAlive(receiverPid as number)).toBe(true);
    expect(stack.pollers.queues.map((p) => p.name).sort()).toEqual(['example-consumer', `webhook:${NOTIFICATIONS_SUBSCRIBER}`]);
  });

  it('delivers each event signed with the run’s secret; a 503 is retried after the dispatcher’s own delay, not the poller’s', async () => {
    const created = await callApi(stack, 'POST', '/payments', { body: { orderId: 'order-webhook', amount: 9_000, currency: 'KRW', method: 'CARD' } });
    expect(created.status).toBe(201);
    const paymentId = (created.body as { paymentId: string }).paymentId;
    const key = { paymentId, sk: deliverySortKey(NOTIFICATIONS_SUBSCRIBER, 1) };

    const record = await eventually(
      async () => (await stack.clients.documents.send(new GetCommand({ TableName: stack.tableName('Deliveries'), Key: key, ConsistentRead: true }))).Item,
      (item) => item?.state === 'delivered',
      'the delivery record of payment.created',
    );
    expect(record).toMatchObject({ state: 'delivered', attempts: 2, statusCode: 200, eventType: 'payment.created' });

    const requests = await eventually(() => receiverLines(record?.eventId as string), (found) => found.length >= 2, 'the receiver lines');
    // The 503 was injected (not a 401): the signature verified with the secret in endpoints.json.
    expect(requests.map((r) => r.status)).toEqual([503, 200]);
    expect(requests[0]?.line).toContain('attempt=1');
    expect(requests[1]?.line).toMatch(/attempt=2 accepted/);
    expect((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000 - 250);

    // The poller logs an invocation's report after the invocation returns, so after the record was written.
    const delivered = new RegExp(`payment\\.created ${paymentId} seq=1 delivered`);
    await eventually(async () => lines.filter((line) => line.includes(`webhook ${NOTIFICATIONS_SUBSCRIBER}`)), (found) => found.some((line) => delivered.test(line)), 'the delivered line');
    const dispatcherLines = lines.filter((line) => line.includes(`webhook ${NOTIFICATIONS_SUBSCRIBER}`));
    expect(dispatcherLines.join('\n')).toMatch(/batch of 1: 1 retrying \(\d+ ms\)/);
    expect(dispatcherLines.join('\n')).toMatch(new RegExp(`payment\\.created ${paymentId} seq=1 retrying \\(attempt 1: HTTP 503, next in \\d s\\)`));
    expect(dispatcherLines.join('\n')).toMatch(new RegExp(`payment\\.created ${paymentId} seq=1 delivered \\(attempt 2, HTTP 200, \\d+ ms after the event\\)`));
  });

  it('stops the receiver process with the stack and takes it out of pids.json', async () => {
    await stack.stop();
    expect(isAlive(receiverPid as number)).toBe(false);
    const pids = JSON.parse(readFileSync(join(stack.stateDir, 'pids.json'), 'utf8')) as { children: { name: string }[] };
    expect(pids.children.map((c) => c.name)).not.toContain('webhook receiver');
    expect(lines.some((line) => /receiver +received \d+ events in \d+ requests/.test(line))).toBe(true);
  });
});
