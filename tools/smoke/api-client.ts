/**
 * The HTTP calls of the smoke test: JSON in, JSON (or text) out, each with a timeout, signed when
 * a signer is given (a deployed stack's IAM routes). Network errors are thrown with their cause.
 */
import type { RequestSigner } from './signer';

export interface ApiAnswer {
  readonly status: number;
  readonly text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  readonly body: unknown;
}

export type ApiCall = (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<ApiAnswer>;

/** Per request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface ApiClientOptions {
  readonly signer?: RequestSigner;
  /** @default DEFAULT_REQUEST_TIMEOUT_MS */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** Calls `baseUrl + path` (`baseUrl` without a trailing slash, `path` from `/`). */
export function createApiClient(baseUrl: string, options: ApiClientOptions = {}): ApiCall {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return async (method, path, body) => {
    const url = new URL(`${baseUrl}${path}`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const unsigned = { accept: 'application/json', ...(text !== undefined && { 'content-type': 'application/json' }) };
    const headers = options.signer ? await options.signer({ method, url, headers: unsigned, ...(text !== undefined && { body: text }) }) : unsigned;
    let response: Response;
    try {
      response = await doFetch(url, { method, headers, ...(text !== undefined && { body: text }), signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new Error(`${method} ${url.href}: ${describeFetchError(error, timeoutMs)}`, { cause: error });
    }
    const answer = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, text: answer, body: parsed };
  };
}

/** `fetch failed (ECONNREFUSED ...)`, `no answer within 10000 ms`. */
function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message})` : '';
  return `${error.message}${cause}`;
}
