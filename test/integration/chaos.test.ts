/**
 * The chaos proof, small: the same run as `npm run chaos` (chaos/chaos-run.ts) with a fixed seed,
 * about a hundred payments and higher fault rates, so that every fault kind (the PG boundary's,
 * lost answers and relay poison records included) is injected at least once and the run stays
 * well under two minutes. The checks themselves, on made-up tables, are in
 * test/unit/chaos-checks.test.ts (and test/unit/chaos-relay-failures.test.ts).
 */
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runChaos } from '../../chaos/chaos-run';
import type { FaultRates } from '../../chaos/faults/chaos-faults';
import { formatReport } from '../../chaos/report';
import { TEST_STATE_ROOT } from '../support/test-state-dirs';

/** High enough that ~100 payments meet every fault more than once. */
const SMALL_RUN_RATES: FaultRates = {
  transactionFailure: 0.04,
  streamRecordSkip: 0.06,
  // The shared template keeps the relay's default 10 retries: each poison record holds its shard ~2 s.
  relayPoison: 0.01,
  relayCrash: 0.5,
  publishEntryFailure: 0.03,
  publishThrottle: 0.15,
  consumerMessageFailure: 0.05,
  consumerError: 0.05,
  consumerCrash: 0.05,
  consumerPoison: 0.02,
  duplicateInvocation: 0.1,
  duplicateMessage: 0.04,
  webhookFailure: 0.1,
  pgAnswerLost: 0.06,
  pgDown: 0.06,
  pgKilledBeforeCommit: 0.06,
  answerLost: 0.06,
  confirmCancelRace: 0.2,
  callerGivesUp: 0.3,
};

describe('chaos run (fixed seed)', () => {
  it('loses nothing, applies each event once and in order, and leaves nothing of failed transactions, with every fault kind injected', async () => {
    const report = await runChaos({
      seed: 20261125,
      payments: 110,
      concurrency: 16,
      rates: SMALL_RUN_RATES,
      settleTimeoutMs: 90_000,
      stack: {
        template: inject('localTemplate'),
        stateDir: join(TEST_STATE_ROOT, `${process.pid}-chaos`),
        logLevel: 'silent',
      },
    });

    const printed = formatReport(report).join('\n');
    if (process.env.CHAOS_TEST_REPORT) process.stdout.write(`${printed}\n`);
    const failed = report.verification.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.actual} (expected ${c.expected}) ${c.details.join('; ')}`);
    expect(failed, printed).toEqual([]);
    for (const row of report.verification.faults) expect(row.injected, `${row.fault}\n${printed}`).toBeGreaterThan(0);
    // The app's webhook subscriber is part of the proof: its receiver got every event once, in order.
    expect(report.verification.faults.map((row) => row.fault)).toContain('9 webhook receiver failures');
    expect(report.verification.checks.filter((c) => c.name.startsWith('webhook notifications:')).map((c) => c.ok)).toEqual([true, true, true]);
    expect(report.verification.eventsCommitted).toBeGreaterThanOrEqual(250);
    expect(report.verification.eventsApplied).toBe(report.verification.eventsCommitted);
    expect(report.pipeline.redrivenMessages).toBeGreaterThan(0);
    expect(report.pipeline.relayRetries).toBeGreaterThan(0);
    // Lost answers: every caller's retry with the same key got the committed payment, nothing written twice.
    expect(report.verification.lostAnswers.injected, printed).toBeGreaterThan(0);
    expect(report.verification.lostAnswers.answeredCommitted).toBe(report.verification.lostAnswers.injected);
    // Poison records went through relay-failures, and every record given up was recovered.
    expect(report.verification.relayFailures?.poisoned, printed).toBeGreaterThan(0);
    expect(report.verification.relayFailures?.recovered).toBe(report.verification.relayFailures?.sent);
    // The PG boundary: its faults fired, the ledger agrees with the payments, no attempt is left open.
    for (const fault of ['10 PG answer lost after charging', '11 PG down', '12 function killed between the PG answer and the commit', '13 confirm/cancel races']) {
      expect(report.verification.faults.find((row) => row.fault === fault)?.injected, `${fault}\n${printed}`).toBeGreaterThan(0);
    }
    // Callers that gave up after a 5xx left their attempts to the reconciler (scheduled, then the settle phase's runs).
    expect(report.drive.gaveUp, printed).toBeGreaterThan(0);
    expect(report.settle.reconciler.leftOpen).toBe(0);
    expect(report.verification.checks.filter((c) => c.name.startsWith('PG ledger:')).map((c) => [c.name, c.actual])).toEqual([
      ['PG ledger: charges on payments neither approved nor refunded', '0'],
      ['PG ledger: payments charged more than once', '0'],
      ['PG ledger: approved payments cancelled without a refund', '0'],
      ['PG ledger: attempts still open after recovery', '0'],
      ['PG ledger: payments refunded more than once', '0'],
      ['PG ledger: refunds on payments not cancelled', '0'],
      ['PG ledger: approved card/easy-pay payments without their charge', '0'],
    ]);
  }, 150_000);

  it('on toss-local: the same proof with Toss\'s own faults (lost answers, outages) and its ledger agreeing with the payments', async () => {
    const report = await runChaos({
      seed: 20261201,
      payments: 110,
      concurrency: 16,
      rates: SMALL_RUN_RATES,
      settleTimeoutMs: 90_000,
      pg: 'toss-local',
      stack: {
        template: inject('localTossTemplate'),
        stateDir: join(TEST_STATE_ROOT, `${process.pid}-chaos-toss`),
        logLevel: 'silent',
      },
    });

    const printed = formatReport(report).join('\n');
    if (process.env.CHAOS_TEST_REPORT) process.stdout.write(`${printed}\n`);
    const failed = report.verification.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.actual} (expected ${c.expected}) ${c.details.join('; ')}`);
    expect(failed, printed).toEqual([]);
    expect(report.verification.eventsApplied).toBe(report.verification.eventsCommitted);
    for (const fault of ['10 PG answer lost after charging', '11 PG down', '12 function killed between the PG answer and the commit', '13 confirm/cancel races']) {
      expect(report.verification.faults.find((row) => row.fault === fault)?.injected, `${fault}\n${printed}`).toBeGreaterThan(0);
    }
    const ledgerRows = report.verification.checks.filter((c) => c.name.startsWith('PG ledger:'));
    expect(ledgerRows.length, printed).toBeGreaterThanOrEqual(11);
    expect(ledgerRows.filter((c) => c.actual !== '0').map((c) => c.name)).toEqual([]);
  }, 150_000);
});
