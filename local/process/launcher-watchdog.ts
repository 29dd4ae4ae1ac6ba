/**
 * `npm start` runs `sh -c "tsx local/start.ts"`, and tsx runs this process. A SIGTERM sent to
 * npm alone reaches the shell, which dies without passing it on: tsx and the runner would live
 * on as orphans. The watchdog notices that the launcher (our grandparent) is gone and calls
 * `onGone`, so the runner stops its emulators instead of leaking them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isAlive } from './process-group';

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    try {
      const ppid = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
      return Number.isInteger(ppid) ? ppid : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Starts watching; returns a function that stops the watchdog. */
export function watchLauncher(onGone: (pid: number) => void, intervalMs = 1_000): () => void {
  const launcher = parentOf(process.ppid);
  if (launcher === undefined || launcher <= 1) return () => undefined;
  const timer = setInterval(() => {
    if (!isAlive(launcher)) {
      clearInterval(timer);
      onGone(launcher);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
