/** The printed result of a chaos run: fault table, checks table, pipeline figures, timings. */
import { formatTable } from '../cli/output';
import type { ChaosReport } from './chaos-run';

const n = (value: number) => value.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perSecond = (count: number, ms: number) => (ms > 0 ? `${(count / (ms / 1000)).toFixed(1)}/s` : '-');

export function formatReport(report: ChaosReport): string[] {
  const { verification: v, timings: t, pipeline: p, drive } = report;
  const r = report.settle.reconciler;
  const outcomes = Object.entries(r.outcomes)
    .map(([outcome, count]) => `${n(count)} ${outcome}`)
    .join(', ');
  const lines: string[] = [];
  lines.push(
    `Chaos run: seed ${report.seed}, PG ${report.pg}, ${n(report.payments)} payments planned, API concurrency ${report.concurrency}, ` +
      `${report.consumerConcurrency} consumer receive loops${report.consumerOneAtATime ? ' (invocations one at a time)' : ''}`,
  );
  lines.push('');
  lines.push('Faults injected');
  lines.push(...formatTable(['fault', 'injected', 'how'], v.faults.map((row) => [row.fault, n(row.injected), row.note])).map((l) => `  ${l}`));
  lines.push('');
  lines.push('Checks');
  lines.push(
    ...formatTable(
      ['check', 'expected', 'actual', 'result'],
      v.checks.map((c) => [c.name, c.expected, c.actual, c.ok ? 'ok' : 'VIOLATION']),
    ).map((l) => `  ${l}`),
  );
  for (const c of v.checks.filter((x) => !x.ok && x.details.length > 0)) {
    lines.push(`  ${c.name}:`);
    for (const detail of c.details) lines.push(`    - ${detail}`);
  }
  if (v.notes.length > 0) {
    lines.push('');
    lines.push('Notes');
    for (const note of v.notes) lines.push(`  - ${note}`);
  }
  lines.push('');
  lines.push('Pipeline');
  lines.push(
    ...formatTable(
      ['figure', 'value'],
      [
        ['payments created / creates failed', `${n(drive.created)} / ${n(drive.failedCreates.length)}`],
        ['API requests', n(drive.requests)],
        ['events committed / applied', `${n(v.eventsCommitted)} / ${n(v.eventsApplied)}`],
        ['relay invocations / retries / bisections', `${n(p.relayInvocations)} / ${n(p.relayRetries)} / ${n(p.relayBisections)}`],
        ['relay records given up (to relay-failures, swept)', n(p.relayDiscarded)],
        ...(v.relayFailures
          ? [
              [
                'relay-failures: messages / records given up (poison) / recovered (first published by the relay, by a sweeper)',
                `${n(v.relayFailures.messages)} / ${n(v.relayFailures.sent)} (${n(v.relayFailures.poisoned)}) / ${n(v.relayFailures.recovered)} (${n(v.relayFailures.byRelay)}, ${n(v.relayFailures.bySweeper)})`,
              ],
            ]
          : []),
        ['answers lost after the commit / retries answered the committed payment', `${n(v.lostAnswers.injected)} / ${n(v.lostAnswers.answeredCommitted)}`],
        ['consumer invocations / failed messages', `${n(p.consumerInvocations)} / ${n(p.consumerFailedMessages)}`],
        ['consumer answers naming another invocation\'s messages', n(p.consumerForeignAnswers)],
        ['final sweep: events republished', n(p.finalSweepRepublished)],
        ['DLQ redrive rounds / messages moved', `${n(p.redriveRounds)} / ${n(p.redrivenMessages)}`],
        ['503 PG_UNAVAILABLE answers (retried after Retry-After, scaled)', n(p.pgUnavailableAnswers)],
        ...(report.pg === 'toss-local'
          ? [
              ['toss-local: /v1 requests / deposit callbacks sent again as duplicates', `${n(report.tossFaults?.requests ?? 0)} / ${n(drive.duplicateDepositCallbacks)}`],
              ['cancels of deposited virtual accounts refused (422 PG_REJECTED, expected on Toss)', n(drive.refusedAsExpected)],
            ]
          : []),
        ['money-moving steps left to the reconciler: caller gave up / retries ran out', `${n(p.gaveUpSteps)} / ${n(p.unresolvedSteps - p.gaveUpSteps)}`],
        [
          'PG reconciler, scheduled during the run: runs / attempts closed',
          r.available ? `${n(r.scheduled.runs)} / ${n(r.scheduled.closed)}${r.scheduled.failed > 0 ? ` (${n(r.scheduled.failed)} results failed)` : ''}` : 'not run (no pg-reconciler)',
        ],
        [
          'PG reconciler after the drive: open / runs / closed / left open',
          r.available
            ? `${n(r.openAtStart)} / ${n(r.runs)} / ${n(r.closed)} / ${n(r.leftOpen)}${outcomes ? ` (${outcomes})` : ''}${r.failedResults + r.failedRuns > 0 ? `; ${n(r.failedResults)} results and ${n(r.failedRuns)} runs failed` : ''}`
            : 'not run (no pg-reconciler)',
        ],
      ],
    ).map((l) => `  ${l}`),
  );
  lines.push('');
  lines.push('Time');
  lines.push(
    ...formatTable(
      ['phase', 'time', 'throughput'],
      [
        ['stack start', seconds(t.stackStartMs), ''],
        ['drive (faults on)', seconds(t.driveMs), `${perSecond(v.eventsCommitted, t.driveMs)} events committed, ${perSecond(drive.requests, t.driveMs)} API requests`],
        ['drain with faults on', seconds(t.drainMs), ''],
        ['recovery (faults off: reconcile, sweep, redrive, drain)', seconds(t.settleMs), ''],
        [`  of which PG reconciler (grace ${r.graceSeconds} s)`, seconds(t.reconcileMs), ''],
        ['drive to all applied', seconds(t.driveMs + t.drainMs + t.settleMs), `${perSecond(v.eventsApplied, t.driveMs + t.drainMs + t.settleMs)} events applied end to end`],
        ['verification', seconds(t.verifyMs), ''],
        ['total', seconds(t.totalMs), ''],
      ],
    ).map((l) => `  ${l}`),
  );
  lines.push('');
  lines.push(
    report.violations.length === 0
      ? `PASSED: no violations (seed ${report.seed}, PG ${report.pg})`
      : `FAILED: ${report.violations.length} violation(s): ${report.violations.join('; ')} (seed ${report.seed}; rerun with${report.pg === 'sandbox' ? '' : ` --pg ${report.pg}`} --seed ${report.seed})`,
  );
  return lines;
}
