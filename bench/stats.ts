/** Small statistics and process-memory helpers for the benchmarks. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(samples: readonly number[]): { count: number; p50: number; p95: number; p99: number; max: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN, mean };
}

/** Resident memory of a process and all its descendants, in MiB (Linux /proc). */
export function treeRssMiB(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop() as number;
    const status = `/proc/${current}/status`;
    if (existsSync(status)) {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'));
      if (match) total += Number(match[1]) / 1024;
    }
    stack.push(...(children.get(current) ?? []));
  }
  return total;
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
