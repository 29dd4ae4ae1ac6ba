/**
 * Faults at the PG boundary on a toss-local stack (`npm run chaos -- --pg toss-local`), injected by
 * the server itself (tools/toss-local's `faults`, not an SDK middleware: the Toss adapter speaks
 * HTTP to it):
 *
 * - **PG answer lost after charging** (`loseAnswerRate`, per `/v1` POST): the server executes the
 *   request (money moves, the answer is stored under its `Idempotency-Key`), then destroys the
 *   connection without answering. The adapter gets no answer (503 `PG_UNAVAILABLE`), the attempt
 *   stays open, a retry under the same key gets the stored answer.
 * - **PG down** (`outageRate`, per `/v1` request, GETs included): the server answers 500
 *   `FAILED_INTERNAL_SYSTEM_PROCESSING` without executing anything (503 `PG_UNAVAILABLE`).
 *
 * The rates are the chaos run's `pgAnswerLost` and `pgDown`, the server's draws are seeded from the
 * chaos seed; its draws are one sequence over all requests, so which request a fault hits depends
 * on their order (unlike the sandbox's keyed draws). The server keeps no fault counters: every
 * injected fault is counted from its request log (one line per request, `injected outage` or
 * `answer lost on purpose`), which the stack's `toss-local` logger hands to a `TossRequestLog`.
 * `attributeTossFaults` then names the request each one hit, from the request's path and
 * idempotency key (`<paymentId>:<operation>:<generation>`), and what the API answered because of it.
 */
import type { LocalLogger } from '../../local/log';
import type { TossLocalServer } from '../../tools/toss-local/server';
import type { InjectedPgFailure } from './chaos-faults';

/** A `/v1` request toss-local answered with an injected fault. */
export interface TossInjectedRequest {
  /** When the server logged it (ms since the epoch). */
  readonly at: number;
  readonly kind: 'outage' | 'answer-lost';
  readonly method: string;
  readonly path: string;
  /** Its `Idempotency-Key` (POSTs). */
  readonly idempotencyKey?: string;
}

/** toss-local's request line: `<ISO time> <method> <path> <status> idem=<key or ->[ <note>]`. */
const REQUEST_LINE = /^(\S+) ([A-Z]+) (\/v1\/\S*) (\S+) idem=(\S+)(?: (.*))?$/;

/** toss-local's request log, as far as chaos reads it: its `/v1` requests and the faults injected into them. */
export class TossRequestLog {
  readonly injected: TossInjectedRequest[] = [];
  /** `/v1` requests answered (or lost), faults or not. */
  requests = 0;

  /** One line of the server's log (other lines, e.g. its callback attempts, are ignored). */
  record(line: string): void {
    const match = REQUEST_LINE.exec(line);
    if (!match) return;
    const [, time, method, path, status, key, note] = match as unknown as [string, string, string, string, string, string, string | undefined];
    this.requests += 1;
    const kind = status === '500' && note === 'injected outage' ? 'outage' : status === '-' && note?.startsWith('answer lost on purpose') ? 'answer-lost' : undefined;
    if (!kind) return;
    this.injected.push({ at: Date.parse(time), kind, method, path, ...(key !== '-' && { idempotencyKey: key }) });
  }
}

/**
 * The stack's logger (`base`), with the lines of its `toss-local` child going to `log` instead of
 * `base` (the server logs every request at debug level).
 */
export function withTossRequestLog(base: LocalLogger, log: TossRequestLog): LocalLogger {
  return {
    debug: (message) => base.debug(message),
    info: (message) => base.info(message),
    warn: (message) => base.warn(message),
    error: (message) => base.error(message),
    child: (component) => {
      const child = base.child(component);
      if (component !== 'toss-local') return withTossRequestLog(child, log);
      return {
        debug: (message) => log.record(message),
        info: (message) => child.info(message),
        warn: (message) => child.warn(message),
        error: (message) => child.error(message),
        child: (name) => withTossRequestLog(child.child(name), log),
      };
    },
  };
}

/** Starts toss-local's faults at the chaos rates, its draws seeded from the chaos seed. */
export function injectTossFaults(server: TossLocalServer, options: { readonly seed: number; readonly answerLostRate: number; readonly downRate: number }): void {
  server.faults.set({ outage: false, outageRate: options.downRate, loseAnswerRate: options.answerLostRate, loseNextAnswers: 0, slowMs: 0, seed: options.seed >>> 0 });
}

export function clearTossFaults(server: TossLocalServer): void {
  server.faults.reset();
}

/**
 * Who made a faulted request: the API's create (a virtual account issued), confirm or cancel
 * (answered 503 to the driver), the Toss deposit callback's lookup (answered 503 to toss-local,
 * which resends), or another lookup (the PG reconciler's, answering no API request).
 */
export type TossFaultedCaller = 'create' | 'confirm' | 'cancel' | 'deposit-callback' | 'lookup';
export const TOSS_FAULTED_CALLERS: readonly TossFaultedCaller[] = ['create', 'confirm', 'cancel', 'deposit-callback', 'lookup'];

/** What the faults of a toss-local run hit, counted from the server's request log. */
export interface TossFaultTally {
  /** `/v1` requests the server got while the run lasted. */
  readonly requests: number;
  readonly answersLost: Readonly<Record<TossFaultedCaller, number>>;
  readonly outages: Readonly<Record<TossFaultedCaller, number>>;
  /** The rates the server drew with. */
  readonly answerLostRate: number;
  readonly downRate: number;
  /** Faulted requests that named no payment this run knows (each a problem the checks report). */
  readonly unattributed: readonly string[];
}

/** The order id that stands for a create whose virtual-account issue failed: the payment id was never answered, so its order is unknown. */
export const VIRTUAL_ACCOUNT_ISSUE = '(virtual-account issue)';

/** What `attributeTossFaults` knows of a payment. */
export interface TossFaultPayment {
  readonly orderId: string;
  readonly method: string;
  /** Its confirm was planned to be declined (the confirm leads to `payment.failed`). */
  readonly declines: boolean;
}

export interface TossFaultContext {
  /** The payments created in the run, by payment id. */
  readonly payment: (paymentId: string) => TossFaultPayment | undefined;
  /** When the server sent the payment's first DEPOSIT_CALLBACK, and the one answered 200 (ms since the epoch). */
  readonly depositCallbacks: (paymentId: string) => { readonly firstAt?: number; readonly deliveredAt?: number };
  readonly answerLostRate: number;
  readonly downRate: number;
}

/** `<paymentId>:<operation>:<generation>` (the PG attempt's key, or the create's `…:issue-account:1`). */
function parseKey(key: string | undefined): { paymentId: string; operation: string } | undefined {
  if (key === undefined) return undefined;
  const last = key.lastIndexOf(':');
  const middle = last > 0 ? key.lastIndexOf(':', last - 1) : -1;
  if (middle <= 0) return undefined;
  return { paymentId: key.slice(0, middle), operation: key.slice(middle + 1, last) };
}

const ORDER_LOOKUP = /^\/v1\/payments\/orders\/([^/]+)$/;

/**
 * Names each injected fault's request and what the API answered because of it: the injected PG
 * failures (by order and the event the request would have committed) that the driver's 5xx
 * answers must match, and the tally the report prints.
 */
export function attributeTossFaults(
  log: Pick<TossRequestLog, 'injected' | 'requests'>,
  context: TossFaultContext,
): { readonly tally: TossFaultTally; readonly pgFailures: InjectedPgFailure[] } {
  const zero = (): Record<TossFaultedCaller, number> => ({ create: 0, confirm: 0, cancel: 0, 'deposit-callback': 0, lookup: 0 });
  const answersLost = zero();
  const outages = zero();
  const unattributed: string[] = [];
  const pgFailures: InjectedPgFailure[] = [];
  for (const request of log.injected) {
    const kind = request.kind === 'outage' ? 'pg-down' : 'pg-answer-lost';
    const counter = request.kind === 'outage' ? outages : answersLost;
    const describe = () => `${request.kind} of ${request.method} ${request.path} (key ${request.idempotencyKey ?? '-'}) at ${new Date(request.at).toISOString()}`;
    const fail = (caller: Exclude<TossFaultedCaller, 'lookup'>, paymentId: string, eventType: string) => {
      counter[caller] += 1;
      const orderId = caller === 'create' ? VIRTUAL_ACCOUNT_ISSUE : context.payment(paymentId)?.orderId;
      if (orderId === undefined) unattributed.push(`${describe()}: payment ${paymentId} is none of the run's`);
      pgFailures.push({ kind, orderId: orderId ?? paymentId, paymentId, eventType });
    };
    if (request.method === 'GET') {
      const paymentId = ORDER_LOOKUP.exec(request.path)?.[1];
      const payment = paymentId === undefined ? undefined : context.payment(decodeURIComponent(paymentId));
      // The deposit callback looks the deposit up before it commits: a lookup of a virtual account
      // between its first callback and the one answered 200 was the callback's (a later one is the
      // reconciler's, for a refund attempt left open).
      if (paymentId !== undefined && payment?.method === 'VIRTUAL_ACCOUNT') {
        const id = decodeURIComponent(paymentId);
        const { firstAt, deliveredAt } = context.depositCallbacks(id);
        if (firstAt !== undefined && request.at >= firstAt && (deliveredAt === undefined || request.at < deliveredAt)) {
          fail('deposit-callback', id, 'payment.approved');
          continue;
        }
      }
      counter.lookup += 1;
      continue;
    }
    const key = parseKey(request.idempotencyKey);
    if (request.method !== 'POST' || !key) {
      counter.lookup += 1;
      unattributed.push(`${describe()}: not a request the API makes`);
      continue;
    }
    switch (key.operation) {
      case 'issue-account':
        fail('create', key.paymentId, 'payment.created');
        break;
      case 'authorize':
        fail('confirm', key.paymentId, context.payment(key.paymentId)?.declines ? 'payment.failed' : 'payment.approved');
        break;
      case 'refund':
      case 'close-account':
        fail('cancel', key.paymentId, 'payment.cancelled');
        break;
      default:
        counter.lookup += 1;
        unattributed.push(`${describe()}: unknown operation ${key.operation}`);
    }
  }
  return {
    tally: { requests: log.requests, answersLost, outages, answerLostRate: context.answerLostRate, downRate: context.downRate, unattributed },
    pgFailures,
  };
}

/** Sum of a tally row. */
export function totalOf(row: Readonly<Record<TossFaultedCaller, number>>): number {
  return TOSS_FAULTED_CALLERS.reduce((sum, caller) => sum + row[caller], 0);
}
