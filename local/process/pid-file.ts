/**
 * `<stateDir>/pids.json`: the child processes a run started, so that the next run can
 * stop its own leftovers (after a crash or `kill -9`) before it binds its ports.
 * A record is only acted on when the live process still has the recorded command-line
 * marker, so a recycled PID of an unrelated process is never touched.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalLogger } from '../log';
import { commandLineOf, isAlive, stopProcessGroup } from './process-group';

export interface PidRecord {
  readonly name: string;
  readonly pid: number;
  /** A substring of the process's command line that identifies it as ours. */
  readonly marker: string;
  readonly port?: number;
  readonly startedAt: string;
}

interface PidFileContent {
  readonly owner: number;
  readonly children: PidRecord[];
}

export class PidFile {
  private readonly path: string;
  private readonly records: PidRecord[] = [];

  constructor(readonly stateDir: string) {
    this.path = join(stateDir, 'pids.json');
  }

  /**
   * The process that wrote the file, when it is another process and still running: its
   * children are in use, not leftovers (another `npm start`, or a concurrent test run).
   */
  liveOwner(): number | undefined {
    const owner = this.read()?.owner;
    return owner !== undefined && owner !== process.pid && isAlive(owner) ? owner : undefined;
  }

  /**
   * Stops processes recorded by an earlier run whose owner is gone (crashed, killed) and that
   * are still alive; returns what it stopped. Leaves the file alone while its owner runs.
   */
  async stopLeftovers(log: LocalLogger): Promise<PidRecord[]> {
    const previous = this.read();
    if (!previous || this.liveOwner() !== undefined) return [];
    const stopped: PidRecord[] = [];
    for (const record of previous.children) {
      if (!isAlive(record.pid)) continue;
      const command = commandLineOf(record.pid);
      if (!command?.includes(record.marker)) continue;
      log.warn(`stopping leftover ${record.name} (pid ${record.pid}${record.port ? `, port ${record.port}` : ''}) from an earlier run`);
      await stopProcessGroup(record.pid);
      stopped.push(record);
    }
    this.write();
    return stopped;
  }

  add(record: Omit<PidRecord, 'startedAt'>): void {
    this.records.push({ ...record, startedAt: new Date().toISOString() });
    this.write();
  }

  remove(pid: number): void {
    const index = this.records.findIndex((r) => r.pid === pid);
    if (index >= 0) this.records.splice(index, 1);
    this.write();
  }

  get children(): readonly PidRecord[] {
    return this.records;
  }

  private read(): PidFileContent | undefined {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as PidFileContent;
      return Array.isArray(parsed.children) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  private write(): void {
    mkdirSync(this.stateDir, { recursive: true });
    const content: PidFileContent = { owner: process.pid, children: this.records };
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}
