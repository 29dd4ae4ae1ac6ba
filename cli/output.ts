/** Where commands write: lines to stdout, warnings to stderr. Tests capture both. */
export interface Output {
  line(text?: string): void;
  warn(text: string): void;
}

export const consoleOutput: Output = {
  line: (text = '') => process.stdout.write(`${text}\n`),
  warn: (text) => process.stderr.write(`${text}\n`),
};

/** An `Output` that keeps what was written, for tests and for callers that print later. */
export class BufferedOutput implements Output {
  readonly lines: string[] = [];
  readonly warnings: string[] = [];
  line(text = ''): void {
    this.lines.push(text);
  }
  warn(text: string): void {
    this.warnings.push(text);
  }
  get text(): string {
    return [...this.lines, ...this.warnings].join('\n');
  }
}

/** A plain text table: a header row, a rule, one row per entry; columns padded to their widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [render(headers), render(widths.map((width) => '-'.repeat(width))), ...rows.map(render)];
}

/** "3m 12s", "2h 5m", "4d 1h": a compact age for tables. */
export function formatAge(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return '-';
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
