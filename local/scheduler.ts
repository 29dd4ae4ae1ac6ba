/**
 * Plays the template's EventBridge schedule rules (`rate(...)`) that target functions: every
 * period the function is invoked with a "Scheduled Event", as EventBridge does. A run is skipped
 * while the previous one is still going (the scheduled functions run with concurrency 1).
 * `cron(...)` rules are not played (logged at startup).
 */
import { randomUUID } from 'node:crypto';
import { describeError, type LocalLogger } from './log';
import type { LocalFunction } from './runtime/local-function';
import { LOCAL_ACCOUNT_ID } from './template/intrinsics';
import type { ScheduleSpec } from './template/resolve';

export interface SchedulerOptions {
  readonly schedules: readonly ScheduleSpec[];
  /** Functions by logical id. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly region: string;
  readonly log: LocalLogger;
  /** Replaces every rate (tests, demos). @default each rule's own rate */
  readonly intervalSecondsOverride?: number;
}

interface Job {
  readonly spec: ScheduleSpec;
  readonly fn: LocalFunction;
  timer?: NodeJS.Timeout;
  running?: Promise<unknown>;
  runs: number;
  failures: number;
}

export class Scheduler {
  private readonly jobs: Job[] = [];

  constructor(private readonly options: SchedulerOptions) {
    for (const spec of options.schedules) {
      const fn = options.functions.get(spec.functionLogicalId);
      if (!spec.enabled || !fn) continue;
      if (spec.rateSeconds === undefined) {
        options.log.warn(`${spec.logicalId}: ${spec.expression} is not played locally (only rate(...) is); invoke ${fn.spec.shortName} with runNow()`);
      }
      this.jobs.push({ spec, fn, runs: 0, failures: 0 });
    }
  }

  /** Short names of the scheduled functions with their runs and failures. */
  get stats(): Record<string, { runs: number; failures: number }> {
    return Object.fromEntries(this.jobs.map((j) => [j.fn.spec.shortName, { runs: j.runs, failures: j.failures }]));
  }

  start(): void {
    for (const job of this.jobs) {
      const seconds = this.options.intervalSecondsOverride ?? job.spec.rateSeconds;
      if (seconds === undefined || job.timer) continue;
      job.timer = setInterval(() => {
        if (!job.running) void this.run(job).catch(() => undefined);
      }, seconds * 1000);
      job.timer.unref();
    }
  }

  async stop(): Promise<void> {
    for (const job of this.jobs) clearInterval(job.timer);
    await Promise.allSettled(this.jobs.map((j) => j.running));
  }

  /** Invokes the scheduled function now (waits for a run in progress first); returns its result. */
  async runNow(shortName: string): Promise<unknown> {
    const job = this.jobs.find((j) => j.fn.spec.shortName === shortName);
    if (!job) throw new Error(`no scheduled function named ${shortName} (have: ${this.jobs.map((j) => j.fn.spec.shortName).join(', ') || 'none'})`);
    await job.running?.catch(() => undefined);
    return this.run(job);
  }

  private run(job: Job): Promise<unknown> {
    const { log, region } = this.options;
    const started = Date.now();
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: LOCAL_ACCOUNT_ID,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [`arn:aws:events:${region}:${LOCAL_ACCOUNT_ID}:rule/${job.spec.logicalId}`],
      detail: {},
    };
    const running = job.fn
      .invoke(job.spec.input ?? event)
      .then((result) => {
        job.runs++;
        log.info(`${job.fn.spec.shortName} scheduled run ok (${Date.now() - started} ms)${summarize(result)}`);
        return result;
      })
      .catch((error: unknown) => {
        job.runs++;
        job.failures++;
        log.warn(`${job.fn.spec.shortName} scheduled run failed (${Date.now() - started} ms): ${describeError(error)}`);
        throw error;
      })
      .finally(() => {
        job.running = undefined;
      });
    job.running = running;
    return running;
  }
}

/** `: scanned=3 republished=1` from the scalar fields of a returned summary object. */
function summarize(result: unknown): string {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return '';
  const fields = Object.entries(result)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    .map(([k, v]) => `${k}=${String(v)}`);
  return fields.length > 0 ? `: ${fields.join(' ').slice(0, 300)}` : '';
}
