/**
 * Captures the JSON lines Powertools loggers write (to stdout and stderr) for the current test:
 * call in `beforeEach` (the spies are undone by `vi.restoreAllMocks()`), read the returned array.
 */
import { vi } from 'vitest';

export function captureLogLines(): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const capture = (chunk: unknown): boolean => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return lines;
}
