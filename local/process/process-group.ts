/** Signals and waits for processes the runner started (each Java / emulator child leads its own process group). */
import { execFileSync } from 'node:child_process';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a running process, or undefined when it is gone. */
export function commandLineOf(pid: number): string | undefined {
  try {
    const out = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.trim();
    return line === '' ? undefined : line;
  } catch {
    return undefined;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Stops a process group led by `pid`: SIGTERM, then SIGKILL after `graceMs`.
 * Resolves once the leader is gone (or after the SIGKILL grace).
 */
export async function stopProcessGroup(pid: number, graceMs = 3_000): Promise<void> {
  if (!isAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(25);
  }
  signalGroup(pid, 'SIGKILL');
  const hardDeadline = Date.now() + 2_000;
  while (Date.now() < hardDeadline && isAlive(pid)) await sleep(25);
}

/** Synchronous last resort for `process.on('exit')`: SIGKILL the group, no waiting. */
export function killProcessGroupNow(pid: number): void {
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
}
