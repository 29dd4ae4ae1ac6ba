/**
 * The CLI's outcomes besides success: a refusal (exit 2, nothing changed, with the reason) and
 * a usage error (exit 1, with the usage text). Anything else thrown is an error (exit 1).
 */

/** Exit codes of `npm run outbox`. */
export const EXIT = { ok: 0, error: 1, refused: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The command checked its preconditions and will not act; nothing was sent, moved or deleted. */
export class RefusedError extends Error {
  constructor(
    message: string,
    /** Further lines (one per offending message, hints). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'RefusedError';
  }
}

/** The command line cannot be understood. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A queue named on the command line (or derived from one) does not exist. */
export class QueueNotFoundError extends Error {
  constructor(readonly queue: string) {
    super(`queue ${queue} does not exist`);
    this.name = 'QueueNotFoundError';
  }
}
