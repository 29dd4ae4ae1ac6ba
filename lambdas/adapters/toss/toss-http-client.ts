/**
 * HTTP to Toss Payments' API (https://docs.tosspayments.com/reference/using-api/authorization):
 * JSON bodies, `Authorization: Basic base64(secretKey + ":")`, an `Idempotency-Key` on the calls
 * that move money, a timeout, and no retries of its own: whether a call is repeated is decided by
 * the PG attempt rules (lambdas/domain/pg-attempt.ts), which repeat it under the same key.
 */
import { PgUnavailableError } from '../../domain/errors';

/** Toss answered with an error object (`{code, message}`). */
export class TossApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    readonly tossMessage: string,
    /** Seconds from a `Retry-After` header, when Toss sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`Toss answered ${httpStatus} ${code}: ${tossMessage}`);
    this.name = 'TossApiError';
  }
}

export interface TossHttpClientOptions {
  /** e.g. https://api.tosspayments.com (no trailing slash). */
  readonly baseUrl: string;
  /** The secret key (`test_sk_…`, `live_sk_…`), read when first needed and on every call after (the source caches). */
  readonly secretKey: () => Promise<string>;
  readonly timeoutMs: number;
  /** Seconds a caller is told to wait after an outage. @default 2 */
  readonly retryAfterSeconds?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface TossRequest {
  readonly method: 'GET' | 'POST';
  /** Path under the base URL, e.g. `/v1/payments/confirm`; path parameters already encoded. */
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
  /** Sent as `Idempotency-Key` (POST only: Toss ignores it on GET). */
  readonly idempotencyKey?: string;
}

export class TossHttpClient {
  private readonly fetch: typeof fetch;
  readonly retryAfterSeconds: number;

  constructor(private readonly options: TossHttpClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 2;
  }

  /**
   * The JSON body of a 2xx answer.
   * @throws TossApiError for an answer with an error object
   * @throws PgUnavailableError when Toss cannot be reached, does not answer in time, or answers without a body we can read
   */
  async send(request: TossRequest): Promise<unknown> {
    const secretKey = await this.options.secretKey();
    const headers: Record<string, string> = {
      Authorization: `Basic ${Buffer.from(`${secretKey}:`, 'utf8').toString('base64')}`,
      Accept: 'application/json',
    };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    if (request.method === 'POST' && request.idempotencyKey !== undefined) headers['Idempotency-Key'] = request.idempotencyKey;

    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.options.baseUrl}${request.path}`, {
        method: request.method,
        headers,
        ...(request.body !== undefined && { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      // No answer: the request may or may not have reached Toss. The attempt stays open.
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : describe(error);
      throw new PgUnavailableError(this.retryAfterSeconds, `Toss ${request.method} ${pathOnly(request.path)}: ${reason}`);
    }
    const body = parseJson(text);
    if (response.ok) {
      if (body === undefined) throw new PgUnavailableError(this.retryAfterSeconds, `Toss ${request.method} ${pathOnly(request.path)}: ${response.status} without a JSON body`);
      return body;
    }
    const error = errorObject(body);
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new TossApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? (text.slice(0, 200) || response.statusText),
      Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : undefined,
    );
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Toss's v1 error object `{code, message}`, or the v2 envelope `{error: {code, message}}`. */
function errorObject(body: unknown): { code: string; message: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const inner = typeof record.error === 'object' && record.error !== null ? (record.error as Record<string, unknown>) : record;
  return typeof inner.code === 'string' ? { code: inner.code, message: typeof inner.message === 'string' ? inner.message : '' } : undefined;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}

/** Paths carry payment keys and order ids, not secrets, but keep log lines short. */
function pathOnly(path: string): string {
  return path.length > 120 ? `${path.slice(0, 117)}...` : path;
}
