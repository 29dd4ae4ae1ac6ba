/**
 * A local webhook receiver: the default webhook subscriber in local mode, and a test double for
 * integration tests. It verifies every request with `verifyWebhook` (401 on failure),
 * deduplicates by event id, checks each payment's sequence order, logs one line per request, and
 * can misbehave on purpose:
 *
 * - `downForMs`: for that long after start, answer 503 (`downMode: '503'`) or refuse connections
 *   (`downMode: 'refuse'`: nothing listens on the port yet);
 * - `failFirst`: answer 503 to the first k attempts of each event;
 * - `failRate`: answer 503 at random with this probability (seeded: `seed`);
 * - `slowMs`: wait this long before answering (only the first `slowFirst` attempts of each event
 *   when set), after the event was taken in: a response that comes too late for the caller;
 * - `status`: answer this status to every verified request (e.g. 400), taking nothing in.
 *
 * Injected 503s carry `Retry-After: <retryAfter>` when it is set.
 */
import { parseTraceparent, TRACEPARENT } from '../../lambdas/domain/trace-context';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyWebhook, WEBHOOK_HEADERS, webhookSigningKeys, type WebhookEventFields } from '../../lambdas/domain/webhook-signature';

/** Request bodies above this size are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookReceiverOptions {
  /** The signing key(s) requests must be signed with. */
  readonly secret: string | readonly string[];
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Probability in [0, 1] of an injected 503 for a verified request. @default 0 */
  readonly failRate?: number;
  /** Seed of the failure draws, so a run can be repeated. @default random */
  readonly seed?: number;
  /** Answer 503 to the first k attempts of each event. @default 0 */
  readonly failFirst?: number;
  /** Milliseconds after start during which the receiver is down. @default 0 */
  readonly downForMs?: number;
  /** How it is down: 503 answers, or refused connections. @default '503' */
  readonly downMode?: '503' | 'refuse';
  /** Milliseconds to wait before answering. @default 0 */
  readonly slowMs?: number;
  /** Only the first k attempts of each event are slow. @default every attempt */
  readonly slowFirst?: number;
  /** Answer this status to every verified request, without taking the event in. */
  readonly status?: number;
  /** `Retry-After` value sent with injected 503s. */
  readonly retryAfter?: string;
  /** Accepted clock skew of `webhook-timestamp`, seconds. @default 300 */
  readonly toleranceSeconds?: number;
  /** Where the one-line-per-request log goes. @default no logging */
  readonly log?: (line: string) => void;
}

/** An event the receiver took in (first delivery of its event id). */
export interface ReceivedEvent extends WebhookEventFields {
  /** Epoch milliseconds. */
  readonly receivedAt: number;
  /** Which attempt (request for this event id) delivered it. */
  readonly attempt: number;
  /** The parsed body (the event envelope). */
  readonly body: unknown;
  /** The request's `traceparent` header (the trace of the API call that caused the event), if any. */
  readonly traceparent?: string;
}

/** One request that named an event id (in `X-Event-Id`), whatever came of it. */
export interface ReceiverAttempt {
  /** Epoch milliseconds when the request arrived. */
  readonly at: number;
  readonly status: number;
  /** `accepted`, `duplicate`, `injected:down`, `injected:fail-first`, `injected:fail-rate`, `injected:status`, `rejected:<reason>`. */
  readonly outcome: string;
}

export interface OrderViolation {
  readonly aggregateId: string;
  readonly eventId: string;
  readonly expectedSequence: number;
  readonly receivedSequence: number;
}

export interface WebhookReceiver {
  /** e.g. `http://127.0.0.1:41234/` */
  readonly url: string;
  readonly port: number;
  /** The seed of the failure draws (the given one, or the random one chosen). */
  readonly seed: number;
  /** Events taken in, deduplicated by event id, in arrival order. */
  readonly received: readonly ReceivedEvent[];
  /** Every request per `X-Event-Id`, in arrival order. */
  readonly attemptsByEvent: ReadonlyMap<string, readonly ReceiverAttempt[]>;
  /** Events taken in out of sequence order for their payment (a gap or a step back). */
  readonly orderViolations: readonly OrderViolation[];
  /** Requests refused with 401, by reason. */
  readonly rejected: ReadonlyMap<string, number>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  validate(options);
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  const log = options.log ?? (() => undefined);
  const downForMs = options.downForMs ?? 0;
  const downMode = options.downMode ?? '503';
  const startedAt = Date.now();

  const received: ReceivedEvent[] = [];
  const seen = new Set<string>();
  const attemptsByEvent = new Map<string, ReceiverAttempt[]>();
  const lastSequence = new Map<string, number>();
  const orderViolations: OrderViolation[] = [];
  const rejected = new Map<string, number>();
  const sockets = new Set<Socket>();

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const arrivedAt = Date.now();
    const headerEventId = singleHeader(request, WEBHOOK_HEADERS.eventId);
    const attempts = headerEventId === undefined ? undefined : (attemptsByEvent.get(headerEventId) ?? []);
    if (headerEventId !== undefined && attempts) attemptsByEvent.set(headerEventId, attempts);
    const attempt = (attempts?.length ?? 0) + 1;
    const traceparent = singleHeader(request, TRACEPARENT);
    const traceId = parseTraceparent(traceparent)?.traceId;
    const trace = traceId === undefined ? '' : ` trace=${traceId}`;
    const describe = (event?: WebhookEventFields) =>
      event
        ? `evt=${event.eventId} type=${event.type} pay=${event.aggregateId} seq=${event.sequence} attempt=${attempt}`
        : `evt=${headerEventId ?? '-'} attempt=${attempt}`;
    const answer = async (status: number, outcome: string, event?: WebhookEventFields, extraHeaders: Record<string, string> = {}, slow = false) => {
      attempts?.push({ at: arrivedAt, status, outcome });
      if (slow) await sleep(options.slowMs ?? 0);
      log(`${new Date(arrivedAt).toISOString()} ${status} ${describe(event)} ${outcome}${slow ? ` (answered after ${options.slowMs} ms)` : ''}${trace}`);
      if (response.destroyed || response.writableEnded) return;
      response.writeHead(status, { 'Content-Type': 'text/plain', ...extraHeaders }).end(`${outcome}\n`);
    };
    const retryAfter: Record<string, string> = options.retryAfter === undefined ? {} : { 'Retry-After': options.retryAfter };

    if (request.method !== 'POST') {
      response.writeHead(405, { Allow: 'POST' }).end();
      log(`${new Date(arrivedAt).toISOString()} 405 ${request.method ?? '?'} ${request.url ?? ''}`);
      return;
    }
    const body = await readBody(request);
    if (body === undefined) {
      await answer(413, 'rejected:body-too-large');
      return;
    }
    if (downForMs > 0 && arrivedAt - startedAt < downForMs) {
      await answer(503, 'injected:down', undefined, retryAfter);
      return;
    }
    const slow = (options.slowMs ?? 0) > 0 && (options.slowFirst === undefined || attempt <= options.slowFirst);
    const verified = verifyWebhook({
      rawBody: body,
      headers: request.headers,
      secret: options.secret,
      ...(options.toleranceSeconds !== undefined && { toleranceSeconds: options.toleranceSeconds }),
    });
    if (!verified.ok) {
      rejected.set(verified.reason, (rejected.get(verified.reason) ?? 0) + 1);
      await answer(401, `rejected:${verified.reason} (${verified.message})`, undefined, {}, slow);
      return;
    }
    const { event } = verified;
    if (options.status !== undefined) {
      await answer(options.status, 'injected:status', event, {}, slow);
      return;
    }
    if (options.failFirst !== undefined && attempt <= options.failFirst) {
      await answer(503, 'injected:fail-first', event, retryAfter, slow);
      return;
    }
    if ((options.failRate ?? 0) > 0 && random() < (options.failRate ?? 0)) {
      await answer(503, 'injected:fail-rate', event, retryAfter, slow);
      return;
    }
    if (seen.has(event.eventId)) {
      await answer(200, 'duplicate', event, {}, slow);
      return;
    }
    seen.add(event.eventId);
    received.push({ ...event, receivedAt: arrivedAt, attempt, body: JSON.parse(body.toString('utf8')) as unknown, ...(traceparent !== undefined && { traceparent }) });
    const expected = (lastSequence.get(event.aggregateId) ?? 0) + 1;
    lastSequence.set(event.aggregateId, Math.max(event.sequence, lastSequence.get(event.aggregateId) ?? 0));
    if (event.sequence !== expected) {
      orderViolations.push({ aggregateId: event.aggregateId, eventId: event.eventId, expectedSequence: expected, receivedSequence: event.sequence });
      await answer(200, `accepted OUT-OF-ORDER (expected seq=${expected})`, event, {}, slow);
      return;
    }
    await answer(200, 'accepted', event, {}, slow);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`${new Date().toISOString()} 500 receiver error: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  let port = options.port ?? 0;
  let pendingListen: NodeJS.Timeout | undefined;
  if (downMode === 'refuse' && downForMs > 0) {
    // Refused connections: nothing listens until the window ends. A free port is reserved by
    // binding and releasing it, so the URL is known now.
    if (port === 0) {
      await listen(server, 0, host);
      port = (server.address() as AddressInfo).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    pendingListen = setTimeout(() => {
      pendingListen = undefined;
      server.listen(port, host, () => log(`${new Date().toISOString()} up: listening on ${host}:${port}`));
    }, downForMs);
  } else {
    await listen(server, port, host);
    port = (server.address() as AddressInfo).port;
  }

  return {
    url: `http://${host}:${port}/`,
    port,
    seed,
    received,
    attemptsByEvent,
    orderViolations,
    rejected,
    close: async () => {
      if (pendingListen) clearTimeout(pendingListen);
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return;
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** The body, or `undefined` when it exceeds MAX_BODY_BYTES. */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function singleHeader(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function validate(options: WebhookReceiverOptions): void {
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  if (secrets.length === 0 || secrets.some((secret) => secret === '')) throw new RangeError('secret must not be empty');
  // A malformed key fails the start, not every request.
  for (const secret of secrets) webhookSigningKeys(secret);
  const rate = options.failRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`failRate must be between 0 and 1, got ${rate}`);
  for (const [name, value] of Object.entries({
    port: options.port,
    failFirst: options.failFirst,
    downForMs: options.downForMs,
    slowMs: options.slowMs,
    slowFirst: options.slowFirst,
  })) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (options.status !== undefined && !(Number.isInteger(options.status) && options.status >= 200 && options.status <= 599)) {
    throw new RangeError(`status must be an HTTP status between 200 and 599, got ${options.status}`);
  }
}
