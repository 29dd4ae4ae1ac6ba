/**
 * `WebhookClient` over the runtime's `fetch`: one POST with a deadline (AbortSignal.timeout)
 * covering the connection, the answer and the reading of a short excerpt of the response body.
 * Redirects are not followed (a 3xx is returned as such): a POST must not turn into a GET at
 * another address, and the signature is for the configured receiver.
 */
import type { WebhookClient, WebhookRequest } from '../ports/webhook-client';
import type { WebhookAttemptResult } from '../domain/webhook-delivery-policy';

/** Bytes of the response body kept for the delivery record and the dead letter. */
export const BODY_EXCERPT_BYTES = 512;
const EXCERPT_CHARACTERS = 200;

export const WEBHOOK_USER_AGENT = 'payment-outbox-webhooks/1';

export class HttpWebhookClient implements WebhookClient {
  constructor(private readonly fetchImpl: typeof fetch = fetch) {}

  async post(request: WebhookRequest): Promise<WebhookAttemptResult> {
    const signal = AbortSignal.timeout(request.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(request.url, {
        method: 'POST',
        body: request.body,
        headers: { 'User-Agent': WEBHOOK_USER_AGENT, ...request.headers },
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      if (signal.aborted || isTimeout(error)) return { kind: 'timeout', timeoutMs: request.timeoutMs };
      return { kind: 'network-error', message: describeNetworkError(error) };
    }
    const bodyExcerpt = await readExcerpt(response);
    const retryAfter = response.headers.get('retry-after') ?? undefined;
    return {
      kind: 'response',
      status: response.status,
      ...(retryAfter !== undefined && { retryAfter }),
      ...(bodyExcerpt && { bodyExcerpt }),
    };
  }
}

/** The first bytes of the body as one line; the rest is discarded. Best effort: never throws. */
async function readExcerpt(response: Response): Promise<string | undefined> {
  const body = response.body;
  if (!body) return undefined;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The deadline passed or the connection dropped while reading: the status still stands.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  if (text === '') return undefined;
  return text.length > EXCERPT_CHARACTERS ? `${text.slice(0, EXCERPT_CHARACTERS)}…` : text;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:3001` rather than fetch's bare `fetch failed`. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return error.message;
}
