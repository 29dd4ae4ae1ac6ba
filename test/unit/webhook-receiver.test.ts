import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpWebhookClient } from '../../lambdas/adapters/http-webhook-client';
import type { EventEnvelope } from '../../lambdas/domain/event-envelope';
import { signedWebhookHeaders } from '../../lambdas/domain/webhook-signature';
import { parseArgs, parseDuration, summary, UsageError } from '../../tools/webhook-receiver/cli';
import { seededRandom, startWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions } from '../../tools/webhook-receiver/receiver';
import { envelope } from '../support/stream-events';

const SECRET = 'whsec_receiver';
const client = new HttpWebhookClient();
const receivers: WebhookReceiver[] = [];

afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function start(options: Partial<WebhookReceiverOptions> = {}): Promise<WebhookReceiver> {
  const receiver = await startWebhookReceiver({ secret: SECRET, ...options });
  receivers.push(receiver);
  return receiver;
}

function send(receiver: WebhookReceiver, event: EventEnvelope, options: { secret?: string; timeoutMs?: number; body?: string } = {}) {
  const body = options.body ?? JSON.stringify(event);
  const headers = signedWebhookHeaders({
    event: JSON.parse(JSON.stringify(event)) as EventEnvelope,
    body: JSON.stringify(event),
    secret: options.secret ?? SECRET,
    timestamp: Math.floor(Date.now() / 1000),
  });
  return client.post({ url: receiver.url, body, headers, timeoutMs: options.timeoutMs ?? 2000 });
}

const status = (result: Awaited<ReturnType<typeof send>>) => (result.kind === 'response' ? result.status : result.kind);

describe('startWebhookReceiver', () => {
  it('accepts signed events, deduplicates by event id and keeps arrival order', async () => {
    const lines: string[] = [];
    const receiver = await start({ log: (line) => lines.push(line) });
    const first = envelope('pay-1', 1);
    const second = envelope('pay-1', 2);

    const statuses = [await send(receiver, first), await send(receiver, first), await send(receiver, second)].map(status);

    expect(statuses).toEqual([200, 200, 200]);
    expect(receiver.received.map((event) => [event.eventId, event.sequence, event.attempt])).toEqual([
      ['evt-pay-1-1', 1, 1],
      ['evt-pay-1-2', 2, 1],
    ]);
    expect(receiver.received[0]?.body).toEqual(first);
    expect(receiver.attemptsByEvent.get('evt-pay-1-1')?.map((a) => a.outcome)).toEqual(['accepted', 'duplicate']);
    expect(receiver.orderViolations).toEqual([]);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ 200 evt=evt-pay-1-1 type=payment.created pay=pay-1 seq=1 attempt=1 accepted$/);
    expect(lines[1]).toMatch(/ 200 evt=evt-pay-1-1 .* attempt=2 duplicate$/);
  });

  it('flags an event taken in out of sequence order for its payment', async () => {
    const receiver = await start();

    await send(receiver, envelope('pay-1', 2));
    await send(receiver, envelope('pay-1', 1));

    expect(receiver.orderViolations).toEqual([
      { aggregateId: 'pay-1', eventId: 'evt-pay-1-2', expectedSequence: 1, receivedSequence: 2 },
      { aggregateId: 'pay-1', eventId: 'evt-pay-1-1', expectedSequence: 3, receivedSequence: 1 },
    ]);
  });

  it('answers 401 to a request signed with another secret or with a tampered body, taking nothing in', async () => {
    const receiver = await start();
    const event = envelope('pay-1', 1);

    const wrongSecret = await send(receiver, event, { secret: 'nope' });
    const tampered = await send(receiver, event, { body: JSON.stringify({ ...event, sequence: 9 }) });

    expect([status(wrongSecret), status(tampered)]).toEqual([401, 401]);
    expect(receiver.received).toEqual([]);
    expect(receiver.rejected.get('signature-mismatch')).toBe(2);
  });

  it('fails the first k attempts of each event, then takes it in', async () => {
    const receiver = await start({ failFirst: 2, retryAfter: '3' });
    const event = envelope('pay-1', 1);

    const results = [await send(receiver, event), await send(receiver, event), await send(receiver, event)];

    expect(results.map(status)).toEqual([503, 503, 200]);
    expect(results[0]).toMatchObject({ retryAfter: '3' });
    expect(receiver.received.map((e) => e.attempt)).toEqual([3]);
    expect(receiver.attemptsByEvent.get(event.eventId)?.map((a) => a.status)).toEqual([503, 503, 200]);
  });

  it('fails a seeded share of requests, the same way for the same seed', async () => {
    const pattern = async (seed: number) => {
      const receiver = await start({ failRate: 0.5, seed });
      const statuses = [];
      for (let i = 1; i <= 12; i++) statuses.push(status(await send(receiver, envelope(`pay-${i}`, 1))));
      return statuses;
    };

    const first = await pattern(42);
    const again = await pattern(42);

    expect(again).toEqual(first);
    expect(first).toContain(503);
    expect(first).toContain(200);
  });

  it('answers 503 while down, then takes events in', async () => {
    const receiver = await start({ downForMs: 300 });
    const event = envelope('pay-1', 1);

    const during = await send(receiver, event);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const after = await send(receiver, event);

    expect([status(during), status(after)]).toEqual([503, 200]);
    expect(receiver.attemptsByEvent.get(event.eventId)?.map((a) => a.outcome)).toEqual(['injected:down', 'accepted']);
  });

  it('refuses connections while down in refuse mode, then listens on the announced port', async () => {
    const receiver = await start({ downForMs: 300, downMode: 'refuse' });
    const event = envelope('pay-1', 1);

    const during = await send(receiver, event);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = await send(receiver, event);

    expect(during).toMatchObject({ kind: 'network-error' });
    expect(status(after)).toBe(200);
    expect(receiver.received).toHaveLength(1);
  });

  it('answers too late for a caller with a shorter timeout, after taking the event in; only the first attempts when told', async () => {
    const receiver = await start({ slowMs: 400, slowFirst: 1 });
    const event = envelope('pay-1', 1);

    const slow = await send(receiver, event, { timeoutMs: 150 });
    const fast = await send(receiver, event, { timeoutMs: 150 });

    expect(slow).toEqual({ kind: 'timeout', timeoutMs: 150 });
    expect(status(fast)).toBe(200);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.attemptsByEvent.get(event.eventId)?.map((a) => a.outcome)).toEqual(['accepted', 'duplicate']);
  });

  it('answers a fixed status to every verified request without taking anything in', async () => {
    const receiver = await start({ status: 400 });

    expect(status(await send(receiver, envelope('pay-1', 1)))).toBe(400);
    expect(receiver.received).toEqual([]);
  });

  it('answers 405 to anything but POST', async () => {
    const receiver = await start();

    const response = await fetch(receiver.url);

    expect(response.status).toBe(405);
  });

  it('refuses impossible settings', async () => {
    await expect(startWebhookReceiver({ secret: SECRET, failRate: 2 })).rejects.toThrow('failRate must be between 0 and 1, got 2');
    await expect(startWebhookReceiver({ secret: '' })).rejects.toThrow('secret must not be empty');
    await expect(startWebhookReceiver({ secret: SECRET, status: 700 })).rejects.toThrow('status must be an HTTP status');
  });

  it('summarises what it saw', async () => {
    const receiver = await start();
    await send(receiver, envelope('pay-1', 1));
    await send(receiver, envelope('pay-1', 1), { secret: 'whsec_eA==' });

    expect(summary(receiver)).toBe('received 1 events in 2 requests; order violations 0; rejected signature-mismatch 1');
  });
});

describe('seededRandom', () => {
  it('repeats for a seed and stays in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const draws = Array.from({ length: 1000 }, () => a());

    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(draws.filter((x) => x < 0.3).length).toBeGreaterThan(250);
    expect(draws.filter((x) => x < 0.3).length).toBeLessThan(350);
  });
});

describe('webhook receiver command line', () => {
  it('reads every option', () => {
    const parsed = parseArgs(
      ['--port', '3001', '--secret', 'S', '--fail-rate', '0.3', '--down-for', '30s', '--down-mode', 'refuse', '--seed', '9',
        '--fail-first', '2', '--slow-ms', '6000', '--slow-first', '1', '--status', '400', '--retry-after=5', '--host', '0.0.0.0', '--tolerance', '60'],
      {},
    );

    expect(parsed).toEqual({
      help: false,
      options: {
        secret: 'S',
        port: 3001,
        host: '0.0.0.0',
        failRate: 0.3,
        seed: 9,
        failFirst: 2,
        downForMs: 30_000,
        downMode: 'refuse',
        slowMs: 6000,
        slowFirst: 1,
        status: 400,
        retryAfter: '5',
        toleranceSeconds: 60,
      },
    });
  });

  it('defaults to port 3001 and takes the secret from WEBHOOK_SECRET', () => {
    expect(parseArgs([], { WEBHOOK_SECRET: 'from-env' })).toEqual({ help: false, options: { secret: 'from-env', port: 3001 } });
  });

  it.each([
    [['--port', '3001'], '--secret is required (or set WEBHOOK_SECRET)'],
    [['--secret', 'S', '--fail-rate', '1.5'], '--fail-rate must be a number from 0 to 1, got "1.5"'],
    [['--secret', 'S', '--port', '70000'], '--port must be a whole number from 0 to 65535, got "70000"'],
    [['--secret', 'S', '--status', '99'], '--status must be a whole number from 200 to 599, got "99"'],
    [['--secret', 'S', '--down-for', 'soon'], 'not a duration: "soon" (use e.g. 30s, 500ms, 2m)'],
    [['--secret', 'S', '--down-mode', 'sleep'], '--down-mode must be 503 or refuse, got "sleep"'],
    [['--secret', 'S', '--fail'], 'unknown option --fail'],
    [['--secret'], '--secret needs a value'],
    [['--secret', 'S', 'extra'], 'unexpected argument "extra"'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(new UsageError(message));
  });

  it('answers --help', () => {
    expect(parseArgs(['--secret', 'S', '--help'], {})).toEqual({ help: true });
  });

  it.each([
    ['30s', 30_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['45', 45_000],
    ['1.5s', 1500],
  ])('reads the duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it(
    'runs as its own process: announces its URL, logs each request, prints a summary on SIGTERM',
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'tools/webhook-receiver/main.ts', '--port', '0', '--secret', SECRET], {
        cwd: process.cwd(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines: string[] = [];
      const reader = createInterface({ input: child.stdout });
      const url = await new Promise<string>((resolve, reject) => {
        reader.on('line', (line) => {
          lines.push(line);
          const match = /webhook receiver on (\S+) \(healthy\)/.exec(line);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const event = envelope('pay-1', 1);
      const body = JSON.stringify(event);
      const result = await client.post({
        url,
        body,
        headers: signedWebhookHeaders({ event, body, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) }),
        timeoutMs: 5000,
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const code = await exited;

      expect(status(result)).toBe(200);
      expect(code).toBe(0);
      expect(lines.some((line) => / 200 evt=evt-pay-1-1 .* accepted$/.test(line))).toBe(true);
      expect(lines.at(-1)).toBe('received 1 events in 1 requests; order violations 0; rejected 0');
    },
    30_000,
  );
});
