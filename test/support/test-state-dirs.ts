/**
 * State directories of local stacks started by the integration tests, so that the test run can
 * stop processes a crashed test worker left behind (each stack records its children there).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalLogger } from '../../local/log';
import { DEFAULT_STATE_DIR } from '../../local/paths';
import { PidFile, type PidRecord } from '../../local/process/pid-file';

/** Parent of every test stack's state directory. */
export const TEST_STATE_ROOT = join(DEFAULT_STATE_DIR, 'test');

/**
 * Stops the recorded children of test stacks whose owner (a test worker) is gone, and removes
 * their directories. Stacks of a test run still going on (another run in the same checkout)
 * are left alone.
 */
export async function stopTestLeftovers(log: LocalLogger): Promise<PidRecord[]> {
  if (!existsSync(TEST_STATE_ROOT)) return [];
  const stopped: PidRecord[] = [];
  for (const name of readdirSync(TEST_STATE_ROOT)) {
    const dir = join(TEST_STATE_ROOT, name);
    const pidFile = new PidFile(dir);
    if (pidFile.liveOwner() !== undefined) continue;
    stopped.push(...(await pidFile.stopLeftovers(log)));
    rmSync(dir, { recursive: true, force: true });
  }
  return stopped;
}
