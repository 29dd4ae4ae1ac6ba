/**
 * toss-local's `DEPOSIT_CALLBACK`s (https://docs.tosspayments.com/reference/using-api/webhook-events#deposit_callback):
 * a flat JSON body `{createdAt, secret, status, transactionKey, orderId}` POSTed to the webhook URL.
 * Only an HTTP 200 within 10 seconds is a delivery; anything else (another status, a refused
 * connection, no answer in time) is sent again on the retry schedule until 200 or the schedule
 * ends (https://docs.tosspayments.com/guides/v2/webhook). Every attempt is recorded.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { TossLocalError } from './toss-local-errors';
import { tossCallbackTime, tossDateTime, type VirtualAccountChange } from './toss-local-payments';
import { setMaxListeners } from 'node:events';

/** A fast local schedule: milliseconds to wait before each resend after a failed attempt. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [200, 500, 1000, 2000, 5000, 10_000, 20_000];
/** Toss's real schedule: resends after 1, 4, 16, 64, 256, 1024 and 4096 minutes (7 resends, 3 days 19 hours). */
export const TOSS_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [1, 4, 16, 64, 256, 1024, 4096].map((minutes) => minutes * 60_000);
/** Toss counts an attempt as failed when no 200 arrives within 10 seconds. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

export interface TossDepositCallbackBody {
  /** `yyyy-MM-ddTHH:mm:ss.SSSSSS`, Korea's time, no offset. */
  readonly createdAt: string;
  readonly secret: string;
  readonly status: string;
  readonly transactionKey: string;
  readonly orderId: string;
}

/** One POST of a DEPOSIT_CALLBACK to the webhook URL. */
export interface DeliveredCallback {
  readonly orderId: string;
  readonly transactionKey: string;
  /** 1 for the first POST of this transaction key, counting scheduled sends, resends and forgeries. */
  readonly attempt: number;
  /** The receiver's HTTP status, or `error` (refused connection, no answer within the timeout, ...). */
  readonly status: number | 'error';
  /** ISO 8601, when the POST was sent. */
  readonly at: string;
  /** `scheduled` (the deposit's own delivery and its resends), `resend` or `forged` (control routes). */
  readonly trigger: 'scheduled' | 'resend' | 'forged';
  /** The callback's `status` field. */
  readonly callbackStatus: string;
  /** What went wrong when `status` is `error`. */
  readonly error?: string;
}

export interface CallbackDelivery {
  /** `delivered` (a 200), `exhausted` (the schedule ended), `no-webhook-url`, `stopped` (the server closed). */
  readonly outcome: 'delivered' | 'exhausted' | 'no-webhook-url' | 'stopped';
  readonly attempts: number;
}

export interface ForgedCallbackInput {
  readonly orderId: string;
  readonly secret: string;
  readonly status: string;
  /** @default a new transaction key */
  readonly transactionKey?: string;
}

export interface DepositCallbackSenderOptions {
  readonly webhookUrl?: string;
  readonly retryDelaysMs: readonly number[];
  readonly timeoutMs: number;
  readonly now: () => Date;
  readonly log: (line: string) => void;
}

interface Transmission {
  readonly body: TossDepositCallbackBody;
  /** `tosspayments-webhook-transmission-id`: the same on every resend of one callback. */
  readonly id: string;
}

export class DepositCallbackSender {
  private url: string | undefined;
  private readonly made: DeliveredCallback[] = [];
  private readonly attemptsByTransaction = new Map<string, number>();
  private readonly lastByOrder = new Map<string, Transmission>();
  private readonly deliveries = new Map<string, Promise<CallbackDelivery>>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: DepositCallbackSenderOptions) {
    this.url = options.webhookUrl;
    // Every pending send and resend wait listens to this one signal; there may be thousands.
    setMaxListeners(0, this.stopping.signal);
  }

  get webhookUrl(): string | undefined {
    return this.url;
  }

  setWebhookUrl(url: string | undefined): void {
    if (url !== undefined) checkWebhookUrl(url);
    this.url = url;
  }

  /** Sends the callback of a virtual-account change on the retry schedule, in the background. */
  schedule(change: VirtualAccountChange): Promise<CallbackDelivery> {
    const transmission: Transmission = {
      body: {
        createdAt: tossCallbackTime(change.at),
        secret: change.secret,
        status: change.status,
        transactionKey: change.transactionKey,
        orderId: change.orderId,
      },
      id: newTransmissionId(),
    };
    this.lastByOrder.set(change.orderId, transmission);
    const delivery = this.deliver(transmission);
    this.deliveries.set(change.transactionKey, delivery);
    return delivery;
  }

  /** The scheduled delivery of the callback with this transaction key. */
  delivery(transactionKey: string): Promise<CallbackDelivery> | undefined {
    return this.deliveries.get(transactionKey);
  }

  /**
   * The order's last callback, once more (a duplicate delivery).
   * @throws TossLocalError NO_CALLBACK, NO_WEBHOOK_URL
   */
  async resend(orderId: string): Promise<DeliveredCallback> {
    const transmission = this.lastByOrder.get(orderId);
    if (!transmission) throw new TossLocalError('NO_CALLBACK', `No DEPOSIT_CALLBACK was made for order ${orderId}.`);
    return this.sendOnce(transmission, 'resend');
  }

  /**
   * A callback with the given fields, once, as anyone could send it.
   * @throws TossLocalError NO_WEBHOOK_URL
   */
  async forge(input: ForgedCallbackInput): Promise<DeliveredCallback> {
    return this.sendOnce(
      {
        body: {
          createdAt: tossCallbackTime(this.options.now()),
          secret: input.secret,
          status: input.status,
          transactionKey: input.transactionKey ?? randomBytes(16).toString('hex').toUpperCase(),
          orderId: input.orderId,
        },
        id: newTransmissionId(),
      },
      'forged',
    );
  }

  /** Every attempt made (optionally for one order), in the order they finished. */
  list(orderId?: string): DeliveredCallback[] {
    return this.made.filter((made) => orderId === undefined || made.orderId === orderId);
  }

  /** Stops scheduled resends and in-flight POSTs, and waits for the deliveries to end. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.deliveries.values());
  }

  private async sendOnce(transmission: Transmission, trigger: 'resend' | 'forged'): Promise<DeliveredCallback> {
    const url = this.url;
    if (url === undefined) throw new TossLocalError('NO_WEBHOOK_URL');
    return this.send(url, transmission, trigger);
  }

  private async deliver(transmission: Transmission): Promise<CallbackDelivery> {
    const { orderId, transactionKey } = transmission.body;
    for (let attempts = 0; ; attempts++) {
      if (this.stopping.signal.aborted) return { outcome: 'stopped', attempts };
      const url = this.url;
      if (url === undefined) {
        this.options.log(`${this.options.now().toISOString()} DEPOSIT_CALLBACK order=${orderId} tx=${transactionKey} not sent: no webhook URL`);
        return { outcome: 'no-webhook-url', attempts };
      }
      const made = await this.send(url, transmission, 'scheduled');
      if (made.status === 200) return { outcome: 'delivered', attempts: attempts + 1 };
      const delay = this.options.retryDelaysMs[attempts];
      if (delay === undefined) return { outcome: 'exhausted', attempts: attempts + 1 };
      try {
        await sleep(delay, undefined, { signal: this.stopping.signal });
      } catch {
        return { outcome: 'stopped', attempts: attempts + 1 };
      }
    }
  }

  private async send(url: string, transmission: Transmission, trigger: DeliveredCallback['trigger']): Promise<DeliveredCallback> {
    const { body } = transmission;
    const attempt = (this.attemptsByTransaction.get(body.transactionKey) ?? 0) + 1;
    this.attemptsByTransaction.set(body.transactionKey, attempt);
    const sentAt = this.options.now();
    const result = await postJson(
      url,
      JSON.stringify(body),
      {
        'tosspayments-webhook-transmission-time': tossDateTime(sentAt),
        'tosspayments-webhook-transmission-retried-count': String(attempt - 1),
        'tosspayments-webhook-transmission-id': transmission.id,
      },
      this.options.timeoutMs,
      this.stopping.signal,
    );
    const made: DeliveredCallback = {
      orderId: body.orderId,
      transactionKey: body.transactionKey,
      attempt,
      status: 'status' in result ? result.status : 'error',
      at: sentAt.toISOString(),
      trigger,
      callbackStatus: body.status,
      ...('error' in result && { error: result.error }),
    };
    this.made.push(made);
    this.options.log(
      `${sentAt.toISOString()} DEPOSIT_CALLBACK ${trigger} order=${body.orderId} tx=${body.transactionKey} status=${body.status} attempt=${attempt} -> ${
        'status' in result ? result.status : `error (${result.error})`
      }`,
    );
    return made;
  }
}

/** @throws RangeError when `url` is not an http(s) URL. */
export function checkWebhookUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`webhook URL must be an http(s) URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RangeError(`webhook URL must be an http(s) URL, got "${url}"`);
}

function newTransmissionId(): string {
  return `whtrans_${randomBytes(12).toString('hex')}`;
}

/** One POST; the answer's status once its body has arrived, or why there is none. */
function postJson(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ readonly status: number } | { readonly error: string }> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? (httpsRequest as typeof httpRequest) : httpRequest;
    let settled = false;
    const finish = (result: { readonly status: number } | { readonly error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = send(
      target,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'toss-local', ...headers },
        // A connection per callback: nothing pooled outlives close().
        agent: false,
        signal,
      },
      (response) => {
        response.on('error', (error) => finish({ error: error.message }));
        response.on('end', () => finish({ status: response.statusCode ?? 0 }));
        response.resume();
      },
    );
    const timer = setTimeout(() => {
      finish({ error: `no answer within ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error) => finish({ error: error.message }));
    request.end(body);
  });
}
