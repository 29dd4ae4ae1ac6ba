/**
 * One chaos run: start the local stack in this process, drive payments through the HTTP API while
 * every fault kind is injected from one seed, stop injecting, recover (PG reconciler until no
 * attempt is open, final sweep, DLQ redrive with the outbox CLI), and check the tables (the
 * sandbox PG's ledger included) and what the webhook subscriber's receiver got. `npm run chaos`
 * (chaos/run.ts) and the smaller run in `npm test` (test/integration/chaos.test.ts) both call
 * `runChaos`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { destroyAwsClients } from '../lambdas/platform/aws-clients';
import { createFunctionClients, LOCAL_CREDENTIALS } from '../local/clients';
import { DEFAULT_STATE_DIR } from '../local/paths';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../local/stack';
import { loadTemplate } from '../local/template/template-cache';
import { readTemplate, webhookSubscriberOf } from '../local/template/resolve';
import type { CfnTemplate } from '../local/template/types';
import { startWebhookReceiver, type WebhookReceiver } from '../tools/webhook-receiver/receiver';
import { settledVersions, snapshotTables, verify, type Verification, type WebhookObservation } from './checks';
import { drivePayments, planPayments, type DriveResult } from './driver';
import {
  ChaosFaults,
  chaosFunctionClients,
  DEFAULT_RATES,
  installChaosFaults,
  type FaultCounts,
  type FaultRates,
  type InjectedPgFailure,
  type InjectedTransactionFailure,
} from './faults/chaos-faults';
import { SeededRandom } from './random';
import { PG_RECONCILER, queueDepth, settle, tallyReconcilerRuns, type SettleReport } from './recovery';
import { CONSUMER_POLLER, PAYMENT_EVENTS_QUEUE, RELAY_POLLER, SweeperRace, sweeperDependencies, type SweeperRaceStats } from './sweeper';

/**
 * The PG reconciler's grace period in a chaos run: longer than the API functions' timeout (10 s),
 * as the stack requires, so its scheduled runs during the drive never take an attempt whose
 * request is still in flight; the settle phase waits for the youngest open attempt to pass it.
 */
export const CHAOS_RECONCILER_GRACE_SECONDS = 12;

/** The app's webhook subscriber: the run posts its events to an in-process receiver that fails some requests. */
export const CHAOS_WEBHOOK_SUBSCRIBER = 'notifications';

/** True when the template has a webhook dispatcher for `subscriber`. */
function hasWebhookDispatcher(template: CfnTemplate, subscriber: string): boolean {
  return readTemplate(template).functions.some((spec) => webhookSubscriberOf(spec) === subscriber);
}

/** Waits (at most `timeoutMs`) until the receiver took in `count` events. */
async function receivedAtLeast(receiver: WebhookReceiver, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (receiver.received.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
}

export interface ChaosOptions {
  readonly seed: number;
  readonly payments: number;
  /** Concurrent API callers (one payment's script at a time each). */
  readonly concurrency: number;
  /** Fault probabilities; missing ones take DEFAULT_RATES. */
  readonly rates?: Partial<FaultRates>;
  /** Receive loops of the example consumer's SQS poller. @default 4 */
  readonly consumerConcurrency?: number;
  /** The racing sweeper's timer and grace period. @default 500 ms, 1 s */
  readonly sweeperIntervalMs?: number;
  readonly sweeperGraceSeconds?: number;
  /** Longest time faults stay on after the drive while the pipeline catches up. @default 120_000 */
  readonly drainUnderFaultsMs?: number;
  /** How long recovery may take before the run is declared unsettled. @default 600_000 */
  readonly settleTimeoutMs?: number;
  /**
   * Consumer invocations one at a time, as in one Lambda execution environment (a diagnostic: by
   * default they overlap in this process, as the local runner runs them). @default false
   */
  readonly consumerOneAtATime?: boolean;
  /** Fewest committed events for the run to pass (0 = no minimum). @default 0 */
  readonly minEvents?: number;
  /** The PG reconciler's grace period (its RECONCILER_GRACE_SECONDS). @default CHAOS_RECONCILER_GRACE_SECONDS */
  readonly reconcilerGraceSeconds?: number;
  /** A 503's Retry-After is honoured times this by the driver before it retries. @default 0.05 */
  readonly retryAfterScale?: number;
  /**
   * Stack options over the chaos defaults (tests pass their template and state directory). A
   * `functionClients` given here runs first; the fault middlewares go on the clients it returns.
   */
  readonly stack?: LocalStackOptions;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
}

export interface ChaosTimings {
  stackStartMs: number;
  driveMs: number;
  /** After the drive, faults stay on while the relay and the consumer catch up (bounded). */
  drainMs: number;
  /** The whole recovery, the reconciler's runs (`reconcileMs`) included. */
  settleMs: number;
  reconcileMs: number;
  verifyMs: number;
  totalMs: number;
}

export interface PipelineStats {
  readonly relayInvocations: number;
  readonly relayRetries: number;
  readonly relayBisections: number;
  /** Stream records the relay mapping gave up on (sent to relay-failures); the sweeper covers them. */
  readonly relayDiscarded: number;
  readonly consumerInvocations: number;
  readonly consumerFailedMessages: number;
  /** Consumer answers that named another invocation's messages (shared handler state; see ChaosFaults). */
  readonly consumerForeignAnswers: number;
  readonly redriveRounds: number;
  readonly redrivenMessages: number;
  readonly finalSweepRepublished: number;
  /** 503 PG_UNAVAILABLE answers the driver got (and retried, but for a step's last attempt). */
  readonly pgUnavailableAnswers: number;
  /** Money-moving steps still 5xx after the last retry, or whose caller gave up, left to the reconciler. */
  readonly unresolvedSteps: number;
  readonly gaveUpSteps: number;
}

export interface ChaosReport {
  readonly seed: number;
  readonly payments: number;
  readonly concurrency: number;
  readonly consumerConcurrency: number;
  readonly consumerOneAtATime: boolean;
  readonly rates: FaultRates;
  readonly drive: Omit<DriveResult, 'payments'> & { readonly created: number };
  readonly faults: FaultCounts;
  readonly transactionFailures: readonly InjectedTransactionFailure[];
  readonly pgFailures: readonly InjectedPgFailure[];
  readonly race: SweeperRaceStats;
  readonly settle: SettleReport;
  readonly verification: Verification;
  readonly pipeline: PipelineStats;
  readonly timings: ChaosTimings;
  /** Names of the failed checks; empty = the run passed. */
  readonly violations: string[];
}

/** Waits (at most `maxMs`) until the relay is idle and the payment events queue is empty. */
async function drainUnderFaults(stack: LocalStack, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  await stack.pollers
    .stream(RELAY_POLLER)
    .waitForIdle(maxMs)
    .catch(() => undefined);
  while (Date.now() < deadline && (await queueDepth(stack, PAYMENT_EVENTS_QUEUE)) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const rates: FaultRates = { ...DEFAULT_RATES, ...options.rates };
  const started = Date.now();
  const timings: ChaosTimings = { stackStartMs: 0, driveMs: 0, drainMs: 0, settleMs: 0, reconcileMs: 0, verifyMs: 0, totalMs: 0 };
  const plans = planPayments(new SeededRandom(options.seed), options.payments, { raceRate: rates.confirmCancelRace });
  const reconcilerGraceSeconds = options.reconcilerGraceSeconds ?? CHAOS_RECONCILER_GRACE_SECONDS;
  const stateDir = options.stack?.stateDir ?? join(DEFAULT_STATE_DIR, 'chaos');

  // The template cache `npm start` and the tests share (re-synthesized only when lib/ changed).
  const template = options.stack?.template ?? (await loadTemplate(DEFAULT_STATE_DIR)).template;
  // The webhook subscriber's receiver runs in this process, so the checks can read what it took in.
  const webhookSecret = randomBytes(32).toString('hex');
  const receiver = hasWebhookDispatcher(template, CHAOS_WEBHOOK_SUBSCRIBER)
    ? await startWebhookReceiver({ secret: webhookSecret, failRate: rates.webhookFailure, seed: options.seed })
    : undefined;
  const stack: LocalStack = await startLocalStack({
    apiPort: 0,
    dynamodbPort: 0,
    sqsPort: 0,
    consumers: true,
    logLevel: 'error',
    handlerLogLevel: 'SILENT',
    streamPollIntervalMs: 25,
    retryBackoff: { baseMs: 25, maxMs: 250 },
    sqsWaitTimeSeconds: 1,
    sqsConcurrency: options.consumerConcurrency ?? 4,
    sqsFailedMessageVisibilitySeconds: 1,
    ttlSweepIntervalSeconds: 60,
    webhookReceiver: false,
    ...(receiver && {
      webhookOverrides: {
        [CHAOS_WEBHOOK_SUBSCRIBER]: {
          url: new URL('/payment-events', receiver.url).href,
          // Faster backoff than the deployed default (2 s doubling up to 300 s), so retries settle within the run.
          secret: webhookSecret,
          env: { WEBHOOK_BACKOFF_BASE_SECONDS: '1', WEBHOOK_BACKOFF_MAX_SECONDS: '4' },
        },
      },
    }),
    ...options.stack,
    template,
    stateDir,
    functionEnvironment: {
      ...options.stack?.functionEnvironment,
      [PG_RECONCILER]: { RECONCILER_GRACE_SECONDS: String(reconcilerGraceSeconds), ...options.stack?.functionEnvironment?.[PG_RECONCILER] },
    },
    // Each function instance's own clients carry the fault middlewares (inert until faults.start).
    functionClients: (fn, clients) => chaosFunctionClients(fn, options.stack?.functionClients?.(fn, clients) ?? clients),
  });
  timings.stackStartMs = Date.now() - started;
  // Its scheduled runs during the drive close what callers gave up on; the report counts them.
  const reconcilerTally = tallyReconcilerRuns(stack);
  log(`stack up in ${timings.stackStartMs} ms (API ${stack.apiUrl}); state in ${stateDir}`);

  // fauxqs serves SNS on the SQS port.
  const rawSns = new SNSClient({ region: stack.endpoints.region, endpoint: stack.endpoints.sqsEndpoint, credentials: LOCAL_CREDENTIALS });
  const faults = new ChaosFaults({
    seed: options.seed,
    rates,
    rawSqs: stack.clients.sqs,
    rawSns,
    consumerOneAtATime: options.consumerOneAtATime ?? false,
  });
  // The racing sweeper is no function of the stack: it gets clients of its own, with the same faults.
  const sweeperClients = installChaosFaults(createFunctionClients(stack.endpoints));
  const sweeper = sweeperDependencies(stack, sweeperClients);
  const race = new SweeperRace(sweeper, { intervalMs: options.sweeperIntervalMs ?? 500, graceSeconds: options.sweeperGraceSeconds ?? 1 });
  try {
    faults.start(stack);
    race.start();

    const driveStarted = Date.now();
    let lastLog = Date.now();
    const drive = await drivePayments(plans, {
      apiUrl: stack.apiUrl,
      pgCallbackSecret: stack.endpoints.pgCallbackSecret,
      concurrency: options.concurrency,
      ...(options.retryAfterScale !== undefined && { retryAfterScale: options.retryAfterScale }),
      seed: options.seed,
      giveUpRate: rates.callerGivesUp,
      onProgress: (done) => {
        if (Date.now() - lastLog < 5_000) return;
        lastLog = Date.now();
        const relay = stack.pollers.stream(RELAY_POLLER).stats;
        const consumer = stack.pollers.queue(CONSUMER_POLLER).stats;
        log(`drive: ${done}/${plans.length} payments; relay ${relay.published} records published; consumer ${consumer.succeeded} messages ok, ${consumer.failed} failed`);
      },
    });
    timings.driveMs = Date.now() - driveStarted;
    log(
      `drive done in ${timings.driveMs} ms: ${drive.payments.size} payments created, ${drive.failedCreates.length} creates failed, ${drive.requests} requests, ` +
        `${drive.races.total} confirm/cancel races, ${drive.unresolved.length} step(s) left to the reconciler`,
    );

    // Events committed late in the drive would otherwise never meet a fault: keep injecting while
    // the relay and the consumer catch up, then stop.
    const drainStarted = Date.now();
    await drainUnderFaults(stack, options.drainUnderFaultsMs ?? 120_000);
    timings.drainMs = Date.now() - drainStarted;
    await race.stop();
    await faults.stopInjecting();
    log(`injection stopped after a ${timings.drainMs} ms drain with faults on; recovering`);

    // The reconciler runs first; a payment whose step it committed must then reach that version.
    let expected = new Map([...drive.payments.values()].map((p) => [p.paymentId, p.version]));
    const settleReport = await settle(stack, {
      stateDir,
      expected: async () => (expected = settledVersions(drive.payments, await stack.scanTable('Payments'))),
      reconcilerGraceSeconds,
      reconcilerTally,
      sweeper,
      timeoutMs: options.settleTimeoutMs ?? 600_000,
      log,
    });
    timings.settleMs = settleReport.durationMs;
    timings.reconcileMs = settleReport.reconciler.durationMs;

    let webhook: WebhookObservation | undefined;
    if (receiver) {
      const expectedEvents = [...expected.values()].reduce((sum, version) => sum + version, 0);
      const webhookStarted = Date.now();
      await receivedAtLeast(receiver, expectedEvents, options.settleTimeoutMs ?? 600_000);
      log(`webhook ${CHAOS_WEBHOOK_SUBSCRIBER}: ${receiver.received.length}/${expectedEvents} events received (${Date.now() - webhookStarted} ms after the consumer settled)`);
      const attempts = [...receiver.attemptsByEvent.values()].flat();
      webhook = {
        subscriber: CHAOS_WEBHOOK_SUBSCRIBER,
        received: receiver.received,
        orderViolations: receiver.orderViolations.length,
        injectedFailures: attempts.filter((attempt) => attempt.outcome === 'injected:fail-rate').length,
        leftInDlq: await queueDepth(stack, `${CHAOS_WEBHOOK_SUBSCRIBER}-dlq.fifo`),
      };
    }

    const verifyStarted = Date.now();
    const tables = await snapshotTables(stack);
    const verification = verify(tables, {
      drive,
      faultCounts: faults.counts,
      transactionFailures: faults.transactionFailures,
      pgFailures: faults.pgFailures,
      race: race.stats,
      settle: settleReport,
      minEvents: options.minEvents ?? 0,
      ...(webhook && { webhook }),
      explain: (key) => {
        const h = faults.deliveryHistory(key);
        return h
          ? `delivered ${h.delivered}x, ${h.injectedFailures} injected failure(s), handler answered ok ${h.handlerOk}x and failed ${h.handlerFailed}x`
          : 'never delivered to the consumer';
      },
    });
    timings.verifyMs = Date.now() - verifyStarted;
    timings.totalMs = Date.now() - started;

    const relay = stack.pollers.stream(RELAY_POLLER).stats;
    const consumer = stack.pollers.queue(CONSUMER_POLLER).stats;
    const { payments, ...driveSummary } = drive;
    return {
      seed: options.seed,
      payments: options.payments,
      concurrency: options.concurrency,
      consumerConcurrency: options.consumerConcurrency ?? 4,
      consumerOneAtATime: options.consumerOneAtATime ?? false,
      rates,
      drive: { ...driveSummary, created: payments.size },
      faults: { ...faults.counts },
      transactionFailures: faults.transactionFailures,
      pgFailures: faults.pgFailures,
      race: { ...race.stats },
      settle: settleReport,
      verification,
      pipeline: {
        relayInvocations: relay.invocations,
        relayRetries: relay.retries,
        relayBisections: relay.bisections,
        relayDiscarded: relay.discarded,
        consumerInvocations: consumer.invocations,
        consumerFailedMessages: consumer.failed,
        consumerForeignAnswers: faults.consumerAnomalies.foreignFailureAnswers,
        redriveRounds: settleReport.redrives.length,
        redrivenMessages: settleReport.redrives.reduce((sum, r) => sum + r.moved, 0),
        finalSweepRepublished: settleReport.finalSweep.republished,
        pgUnavailableAnswers: drive.pgUnavailable,
        unresolvedSteps: drive.unresolved.length,
        gaveUpSteps: drive.gaveUp,
      },
      timings,
      violations: verification.checks.filter((c) => !c.ok).map((c) => c.name),
    };
  } finally {
    await race.stop();
    await faults.stopInjecting();
    faults.detach();
    rawSns.destroy();
    destroyAwsClients(sweeperClients);
    await stack.stop();
    await receiver?.close();
  }
}
