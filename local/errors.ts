/**
 * A startup problem the user can fix (missing java, busy port, broken template).
 * The CLI prints only its message, on one line, and exits 1.
 */
export class LocalStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStartupError';
  }
}
