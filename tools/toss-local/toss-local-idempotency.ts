/**
 * Toss's `Idempotency-Key` (https://docs.tosspayments.com/reference/using-api/authorization,
 * 멱등키 헤더): on every POST, a request repeating the key, API key, path and method of an earlier
 * one is not executed and gets the first answer (status and body, errors included); while the
 * first is still being processed, a repeat gets 409 IDEMPOTENT_REQUEST_PROCESSING. Keys are at
 * most 300 characters and are remembered for 15 days from the first request.
 */

export const MAX_IDEMPOTENCY_KEY_LENGTH = 300;
export const IDEMPOTENCY_KEY_RETENTION_MS = 15 * 24 * 3_600_000;

/** An answer as it was sent: replayed byte for byte. */
export interface StoredAnswer {
  readonly status: number;
  readonly body: string;
}

export type IdempotencyClaim =
  /** The first request with this key: execute it, then `complete` or `release`. */
  | { readonly kind: 'new' }
  | { readonly kind: 'processing' }
  | { readonly kind: 'replay'; readonly answer: StoredAnswer };

type Entry = { readonly firstAt: number } & ({ readonly state: 'processing' } | { readonly state: 'done'; readonly answer: StoredAnswer });

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly retentionMs: number = IDEMPOTENCY_KEY_RETENTION_MS) {}

  /** The scope Toss checks: key + API key + path + method. */
  static scope(request: { readonly key: string; readonly apiKey: string; readonly path: string; readonly method: string }): string {
    return JSON.stringify([request.key, request.apiKey, request.path, request.method]);
  }

  claim(scope: string, nowMs: number): IdempotencyClaim {
    const entry = this.entries.get(scope);
    if (entry && nowMs - entry.firstAt < this.retentionMs) {
      return entry.state === 'processing' ? { kind: 'processing' } : { kind: 'replay', answer: entry.answer };
    }
    this.entries.set(scope, { firstAt: nowMs, state: 'processing' });
    return { kind: 'new' };
  }

  /** Remembers the answer of a claimed key. */
  complete(scope: string, answer: StoredAnswer): void {
    const entry = this.entries.get(scope);
    this.entries.set(scope, { firstAt: entry?.firstAt ?? 0, state: 'done', answer });
  }

  /** Forgets a claimed key whose request ended without an answer to remember (a bug in toss-local). */
  release(scope: string): void {
    if (this.entries.get(scope)?.state === 'processing') this.entries.delete(scope);
  }
}
