/**
 * toss-local: a local HTTP server that speaks Toss Payments' REST API
 * (https://docs.tosspayments.com/reference) well enough for our Toss adapter, the local stack
 * (`npm start -- --pg toss-local`), integration tests and chaos runs:
 *
 * - `POST /v1/payments/confirm`, `POST /v1/payments/{paymentKey}/cancel`, `POST /v1/virtual-accounts`,
 *   `GET /v1/payments/{paymentKey}`, `GET /v1/payments/orders/{orderId}`, with Toss's Basic
 *   authentication, `Idempotency-Key` semantics, Payment objects and `{code, message}` errors;
 * - `DEPOSIT_CALLBACK`s to a webhook URL, resent on a retry schedule until a 200;
 * - test-control routes under `/_local/...` (no authentication): payment sessions (what the
 *   payment window would produce), deposits, callback resends and forgeries, the ledger of money
 *   moved, and injected faults (outages, lost answers, slow answers).
 *
 * Everything lives in memory and is lost when the server stops. See README.md.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  checkWebhookUrl,
  DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  DepositCallbackSender,
  type CallbackDelivery,
  type DeliveredCallback,
  type ForgedCallbackInput,
} from './toss-local-callbacks';
import { TossLocalError } from './toss-local-errors';
import { parseFaultChanges, TossFaultState, type TossFaultChanges, type TossFaultControl } from './toss-local-faults';
import { IdempotencyStore, MAX_IDEMPOTENCY_KEY_LENGTH, type StoredAnswer } from './toss-local-idempotency';
import {
  TossLocalPayments,
  type TossDepositResult,
  type TossLedgerEntry,
  type TossPaymentObject,
  type TossPaymentSession,
  type TossPaymentSessionInput,
} from './toss-local-payments';

export { DEFAULT_WEBHOOK_RETRY_DELAYS_MS, TOSS_WEBHOOK_RETRY_DELAYS_MS } from './toss-local-callbacks';
export type { CallbackDelivery, DeliveredCallback, ForgedCallbackInput, TossDepositCallbackBody } from './toss-local-callbacks';
export { TOSS_CONFIRM_FAILURES, TossLocalError } from './toss-local-errors';
export type { TossConfirmFailureCode, TossErrorCode } from './toss-local-errors';
export type { TossFaultChanges, TossFaultControl, TossFaults } from './toss-local-faults';
export type {
  TossDepositResult,
  TossLedgerEntry,
  TossPaymentObject,
  TossPaymentSession,
  TossPaymentSessionInput,
  TossPaymentStatus,
} from './toss-local-payments';

/** Request bodies above this size are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface TossLocalOptions {
  /** The one secret key accepted (`Authorization: Basic base64(secretKey + ":")`), e.g. `test_sk_local`. */
  readonly secretKey: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Where DEPOSIT_CALLBACKs are POSTed; also settable later (`setWebhookUrl`). @default none: callbacks are not sent */
  readonly webhookUrl?: string;
  /**
   * Milliseconds to wait before each resend after an attempt that got no 200; the length is the
   * number of resends. Toss's real schedule is TOSS_WEBHOOK_RETRY_DELAYS_MS (1, 4, 16, 64, 256,
   * 1024, 4096 minutes). @default DEFAULT_WEBHOOK_RETRY_DELAYS_MS (200 ms ... 20 s, 7 resends)
   */
  readonly webhookRetryDelaysMs?: readonly number[];
  /** An attempt without an answer in this time failed. @default 10_000 (Toss's 10 seconds) */
  readonly webhookTimeoutMs?: number;
  /**
   * Also send DEPOSIT_CALLBACKs when a virtual account is issued (WAITING_FOR_DEPOSIT) and cancelled
   * (CANCELED / PARTIAL_CANCELED), as Toss documents; by default only deposits (DONE) are sent.
   * @default false
   */
  readonly allDepositCallbacks?: boolean;
  /** Faults on from the start. @default none */
  readonly faults?: TossFaultChanges;
  /** An authenticated payment not confirmed within this time expires. @default 600_000 (Toss's 10 minutes) */
  readonly sessionTtlMs?: number;
  /** The clock of every timestamp, the idempotency-key retention and expiries. @default () => new Date() */
  readonly now?: () => Date;
  /** One line per request and per callback attempt. @default no logging */
  readonly log?: (line: string) => void;
}

/** A deposit, and the delivery of its DEPOSIT_CALLBACK (it settles when delivered or given up). */
export interface TossDeposit extends TossDepositResult {
  readonly delivery: Promise<CallbackDelivery>;
}

export interface TossLocalServer {
  /** Base URL, no trailing slash, e.g. `http://127.0.0.1:3002`: use it as the Toss API base URL. */
  readonly url: string;
  readonly port: number;
  /** The one secret key accepted (the option), for the clients pointed at this server. */
  readonly secretKey: string;
  /** Injected faults: read, change, reset. */
  readonly faults: TossFaultControl;
  /** Where DEPOSIT_CALLBACKs go now. */
  readonly webhookUrl: string | undefined;
  /** @throws RangeError when `url` is not an http(s) URL */
  setWebhookUrl(url: string | undefined): void;
  /**
   * What the payment window hands the buyer's browser after authentication (status IN_PROGRESS).
   * @throws TossLocalError INVALID_REQUEST, INVALID_ORDER_ID, BELOW_ZERO_AMOUNT, DUPLICATED_ORDER_ID
   */
  createPaymentSession(input: TossPaymentSessionInput): TossPaymentSession;
  /**
   * The buyer deposits the full amount into the order's virtual account: the payment is DONE and
   * its DEPOSIT_CALLBACK is sent in the background (`delivery`).
   * @throws TossLocalError NOT_FOUND_PAYMENT (404), NOT_WAITING_FOR_DEPOSIT (409)
   */
  deposit(orderId: string, options?: { readonly depositorName?: string }): Promise<TossDeposit>;
  /** The order's last DEPOSIT_CALLBACK once more. @throws TossLocalError NO_CALLBACK, NO_WEBHOOK_URL */
  resendCallback(orderId: string): Promise<DeliveredCallback>;
  /** A DEPOSIT_CALLBACK with the given (possibly wrong) fields, once. @throws TossLocalError NO_WEBHOOK_URL */
  forgeCallback(input: ForgedCallbackInput): Promise<DeliveredCallback>;
  /** Every DEPOSIT_CALLBACK attempt made (optionally for one order). */
  callbacks(orderId?: string): DeliveredCallback[];
  /** The money moved for an order (all zeros and a null status for an unknown order). */
  ledger(orderId: string): TossLedgerEntry;
  ledgers(): TossLedgerEntry[];
  /** The order's latest payment as `GET /v1/payments/orders/{orderId}` shows it; undefined when unknown. */
  payment(orderId: string): TossPaymentObject | undefined;
  /** Stops resends, drops open connections, stops listening. */
  close(): Promise<void>;
}

type TossRoute =
  | { readonly kind: 'confirm' }
  | { readonly kind: 'cancel'; readonly paymentKey: string }
  | { readonly kind: 'issue-virtual-account' }
  | { readonly kind: 'by-payment-key'; readonly paymentKey: string }
  | { readonly kind: 'by-order-id'; readonly orderId: string };

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

export async function startTossLocalServer(options: TossLocalOptions): Promise<TossLocalServer> {
  validate(options);
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const faults = new TossFaultState(options.faults);
  const idempotency = new IdempotencyStore();
  const callbacks = new DepositCallbackSender({
    ...(options.webhookUrl !== undefined && { webhookUrl: options.webhookUrl }),
    retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    timeoutMs: options.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    now,
    log,
  });
  let baseUrl = '';
  const payments = new TossLocalPayments({
    now,
    baseUrl: () => baseUrl,
    ...(options.sessionTtlMs !== undefined && { sessionTtlMs: options.sessionTtlMs }),
    onVirtualAccountChange: (change) => {
      if (change.transition === 'deposited' || options.allDepositCallbacks === true) void callbacks.schedule(change);
    },
  });
  const sockets = new Set<Socket>();
  const closing = new AbortController();

  const deposit = (orderId: string, depositorName?: string): TossDeposit => {
    const result = payments.deposit(orderId, depositorName);
    const delivery = callbacks.delivery(result.transactionKey) ?? Promise.resolve<CallbackDelivery>({ outcome: 'no-webhook-url', attempts: 0 });
    return { ...result, delivery };
  };

  /** Waits `ms` unless the server closes meanwhile; false when it closed. */
  const delay = async (ms: number): Promise<boolean> => {
    if (ms > 0) await sleep(ms, undefined, { signal: closing.signal }).catch(() => undefined);
    return !closing.signal.aborted;
  };

  const tossApi = async (request: IncomingMessage, path: string, rawBody: Buffer, reply: Reply): Promise<void> => {
    const method = request.method ?? 'GET';
    const { slowMs } = faults.get();
    const answerError = async (error: TossLocalError, note?: string) => {
      if (await delay(slowMs)) reply.json(error.status, error.body(), note);
    };
    if (faults.drawOutage()) return answerError(new TossLocalError('FAILED_INTERNAL_SYSTEM_PROCESSING'), 'injected outage');
    const refused = authenticate(request.headers, options.secretKey);
    if (refused) return answerError(refused);
    const route = matchTossRoute(method, path);
    if (!route) return answerError(new TossLocalError('NOT_FOUND'));

    if (method !== 'POST') {
      if (!(await delay(slowMs))) return;
      const answer = execute(route, rawBody);
      reply.json(answer.status, answer.body);
      return;
    }

    // A POST: the Idempotency-Key decides whether it is executed.
    const key = singleHeader(request.headers, 'idempotency-key');
    const answerPost = (answer: StoredAnswer, note?: string) => {
      if (faults.drawLostAnswer()) reply.lose(answer.status, note);
      else reply.raw(answer.status, answer.body, note);
    };
    let scope: string | undefined;
    if (key !== undefined && key !== '') {
      if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) return answerError(new TossLocalError('INVALID_IDEMPOTENCY_KEY'));
      scope = IdempotencyStore.scope({ key, apiKey: options.secretKey, path, method });
      const claim = idempotency.claim(scope, now().getTime());
      if (claim.kind === 'processing') return answerError(new TossLocalError('IDEMPOTENT_REQUEST_PROCESSING'));
      if (claim.kind === 'replay') {
        if (await delay(slowMs)) answerPost(claim.answer, 'replayed');
        return;
      }
    }
    let answer: StoredAnswer;
    try {
      // The key is held (409 for a repeat) while the request waits and runs.
      if (!(await delay(slowMs))) {
        if (scope !== undefined) idempotency.release(scope);
        return;
      }
      const executed = execute(route, rawBody);
      answer = { status: executed.status, body: JSON.stringify(executed.body) };
    } catch (error) {
      if (scope !== undefined) idempotency.release(scope);
      throw error;
    }
    if (scope !== undefined) idempotency.complete(scope, answer);
    answerPost(answer);
  };

  const execute = (route: TossRoute, rawBody: Buffer): Answer => {
    try {
      switch (route.kind) {
        case 'by-payment-key':
          return { status: 200, body: payments.byPaymentKey(route.paymentKey) };
        case 'by-order-id':
          return { status: 200, body: payments.byOrderId(route.orderId) };
        case 'confirm':
          return { status: 200, body: payments.confirm(jsonObject(rawBody)) };
        case 'cancel':
          return { status: 200, body: payments.cancel(route.paymentKey, jsonObject(rawBody)) };
        case 'issue-virtual-account':
          return { status: 200, body: payments.issueVirtualAccount(jsonObject(rawBody)) };
      }
    } catch (error) {
      if (error instanceof TossLocalError) return { status: error.status, body: error.body() };
      throw error;
    }
  };

  const control = async (method: string, path: string, query: URLSearchParams, rawBody: Buffer): Promise<Answer> => {
    const segments = path.split('/').slice(2).map(decodeSegment);
    if (segments.some((segment) => segment === undefined || segment === '')) return { status: 404, body: new TossLocalError('NOT_FOUND').body() };
    const [first, second, third] = segments;
    const route = `${method} ${first ?? ''}${segments.length > 1 ? '/*'.repeat(segments.length - 1) : ''}`;
    try {
      switch (route) {
        case 'GET health':
          return { status: 200, body: { ok: true, url: baseUrl } };
        case 'POST payment-sessions':
          return { status: 201, body: payments.createSession(jsonObject(rawBody)) };
        case 'POST virtual-accounts/*/*': {
          if (third !== 'deposit' || second === undefined) break;
          const body = jsonObject(rawBody);
          const depositorName = optionalString(body, 'depositorName');
          const made = deposit(second, depositorName);
          return { status: 202, body: { orderId: made.orderId, transactionKey: made.transactionKey } };
        }
        case 'POST callbacks/*': {
          const body = jsonObject(rawBody);
          if (second === 'resend') return { status: 200, body: await callbacks.resend(requiredString(body, 'orderId')) };
          if (second === 'forge') {
            const transactionKey = optionalString(body, 'transactionKey');
            const forged: ForgedCallbackInput = {
              orderId: requiredString(body, 'orderId'),
              secret: requiredString(body, 'secret'),
              status: requiredString(body, 'status'),
              ...(transactionKey !== undefined && { transactionKey }),
            };
            return { status: 200, body: await callbacks.forge(forged) };
          }
          break;
        }
        case 'GET callbacks':
          return { status: 200, body: callbacks.list(query.get('orderId') ?? undefined) };
        case 'GET ledger':
          return { status: 200, body: payments.ledgers() };
        case 'GET ledger/*':
          return { status: 200, body: payments.ledger(second ?? '') };
        case 'GET faults':
          return { status: 200, body: faults.get() };
        case 'PUT faults':
          return { status: 200, body: faults.set(parseFaultChanges(jsonObject(rawBody))) };
        case 'DELETE faults':
          return { status: 200, body: faults.reset() };
        case 'GET webhook-url':
          return { status: 200, body: { webhookUrl: callbacks.webhookUrl ?? null } };
        case 'PUT webhook-url': {
          const body = jsonObject(rawBody);
          const url = body.webhookUrl;
          if (url !== null && typeof url !== 'string') throw new RangeError('webhookUrl must be a URL or null');
          callbacks.setWebhookUrl(url ?? undefined);
          return { status: 200, body: { webhookUrl: callbacks.webhookUrl ?? null } };
        }
      }
      return { status: 404, body: new TossLocalError('NOT_FOUND').body() };
    } catch (error) {
      if (error instanceof TossLocalError) return { status: error.status, body: error.body() };
      if (error instanceof RangeError) return { status: 400, body: new TossLocalError('INVALID_REQUEST', error.message).body() };
      throw error;
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://toss-local');
    const path = url.pathname;
    const key = path.startsWith('/v1/') && method === 'POST' ? singleHeader(request.headers, 'idempotency-key') : undefined;
    const reply = replier(request, response, (status, note) => {
      const shownKey = key === undefined ? '-' : key.length > 80 ? `${key.slice(0, 77)}...` : key;
      log(`${now().toISOString()} ${method} ${path} ${status} idem=${shownKey}${note === undefined ? '' : ` ${note}`}`);
    });
    const rawBody = await readBody(request);
    if (rawBody === undefined) {
      response.setHeader('Connection', 'close');
      reply.json(413, new TossLocalError('PAYLOAD_TOO_LARGE').body());
      return;
    }
    if (path.startsWith('/v1/')) return tossApi(request, path, rawBody, reply);
    if (path.startsWith('/_local/')) {
      const answer = await control(method, path, url.searchParams, rawBody);
      reply.json(answer.status, answer.body);
      return;
    }
    reply.json(404, new TossLocalError('NOT_FOUND').body());
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`${now().toISOString()} ${request.method ?? '?'} ${request.url ?? ''} 500 toss-local error: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent && !response.destroyed) {
        const body = JSON.stringify(new TossLocalError('UNKNOWN_ERROR').body());
        response.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: baseUrl,
    port,
    secretKey: options.secretKey,
    faults,
    get webhookUrl() {
      return callbacks.webhookUrl;
    },
    setWebhookUrl: (url) => callbacks.setWebhookUrl(url),
    createPaymentSession: (input) => payments.createSession(input),
    deposit: async (orderId, depositOptions) => deposit(orderId, depositOptions?.depositorName),
    resendCallback: (orderId) => callbacks.resend(orderId),
    forgeCallback: (input) => callbacks.forge(input),
    callbacks: (orderId) => callbacks.list(orderId),
    ledger: (orderId) => payments.ledger(orderId),
    ledgers: () => payments.ledgers(),
    payment: (orderId) => {
      try {
        return payments.byOrderId(orderId);
      } catch (error) {
        if (error instanceof TossLocalError && error.code === 'NOT_FOUND_PAYMENT') return undefined;
        throw error;
      }
    },
    close: async () => {
      closing.abort();
      await callbacks.close();
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return;
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Writes answers (JSON, or a stored body as it was) and logs one line per request. */
interface Reply {
  json(status: number, body: unknown, note?: string): void;
  raw(status: number, body: string, note?: string): void;
  /** Destroys the connection without an answer (the answer `status` is only logged). */
  lose(status: number, note?: string): void;
}

function replier(request: IncomingMessage, response: ServerResponse, logLine: (status: number | string, note?: string) => void): Reply {
  const raw = (status: number, body: string, note?: string) => {
    logLine(status, note);
    if (response.destroyed || response.writableEnded) return;
    response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  };
  return {
    raw,
    json: (status, body, note) => raw(status, JSON.stringify(body), note),
    lose: (status, note) => {
      logLine('-', `answer lost on purpose (was ${status}${note === undefined ? '' : `, ${note}`})`);
      request.socket.destroy();
    },
  };
}

function matchTossRoute(method: string, path: string): TossRoute | undefined {
  const segments = path.split('/').slice(1).map(decodeSegment);
  if (segments.some((segment) => segment === undefined || segment === '')) return undefined;
  const [v1, resource, a, b, extra] = segments as string[];
  if (v1 !== 'v1' || extra !== undefined) return undefined;
  if (method === 'POST') {
    if (resource === 'payments' && a === 'confirm' && b === undefined) return { kind: 'confirm' };
    if (resource === 'payments' && a !== undefined && b === 'cancel') return { kind: 'cancel', paymentKey: a };
    if (resource === 'virtual-accounts' && a === undefined) return { kind: 'issue-virtual-account' };
    return undefined;
  }
  if (method === 'GET' && resource === 'payments') {
    if (a === 'orders' && b !== undefined) return { kind: 'by-order-id', orderId: b };
    if (a !== undefined && b === undefined) return { kind: 'by-payment-key', paymentKey: a };
  }
  return undefined;
}

/**
 * Toss's Basic authentication: `Basic base64(secretKey + ":")`. No header, or another key, is
 * 401 UNAUTHORIZED_KEY; a header that is not Basic of a base64 ending in ':' is 403 INCORRECT_BASIC_AUTH_FORMAT.
 */
function authenticate(headers: IncomingHttpHeaders, secretKey: string): TossLocalError | undefined {
  const header = headers.authorization?.trim();
  if (header === undefined || header === '') return new TossLocalError('UNAUTHORIZED_KEY');
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (!match) return new TossLocalError('INCORRECT_BASIC_AUTH_FORMAT');
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  if (!decoded.endsWith(':')) return new TossLocalError('INCORRECT_BASIC_AUTH_FORMAT');
  const presented = Buffer.from(decoded.slice(0, -1), 'utf8');
  const expected = Buffer.from(secretKey, 'utf8');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return new TossLocalError('UNAUTHORIZED_KEY');
  return undefined;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as a JSON object (an empty body is `{}`). @throws TossLocalError INVALID_REQUEST */
function jsonObject(rawBody: Buffer): Readonly<Record<string, unknown>> {
  const text = rawBody.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TossLocalError('INVALID_REQUEST', '잘못된 요청입니다. The body is not JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TossLocalError('INVALID_REQUEST', '잘못된 요청입니다. The body must be a JSON object.');
  }
  return parsed as Readonly<Record<string, unknown>>;
}

function requiredString(body: Readonly<Record<string, unknown>>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new TossLocalError('INVALID_REQUEST', `${field} is required (a string)`);
  return value;
}

function optionalString(body: Readonly<Record<string, unknown>>, field: string): string | undefined {
  return body[field] === undefined || body[field] === null ? undefined : requiredString(body, field);
}

/** The whole body, or `undefined` when it exceeds MAX_BODY_BYTES (the rest is read and dropped). */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
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

function validate(options: TossLocalOptions): void {
  if (typeof options.secretKey !== 'string' || options.secretKey === '') throw new RangeError('secretKey must not be empty');
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65_535)) {
    throw new RangeError(`port must be a whole number from 0 to 65535, got ${options.port}`);
  }
  if (options.webhookUrl !== undefined) checkWebhookUrl(options.webhookUrl);
  for (const delayMs of options.webhookRetryDelaysMs ?? []) {
    if (!(Number.isInteger(delayMs) && delayMs >= 0)) throw new RangeError(`webhookRetryDelaysMs must hold whole milliseconds, got ${delayMs}`);
  }
  for (const [name, value] of [
    ['webhookTimeoutMs', options.webhookTimeoutMs],
    ['sessionTtlMs', options.sessionTtlMs],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a whole number of milliseconds above 0, got ${value}`);
  }
  if (options.faults !== undefined) parseFaultChanges(options.faults);
}
