/**
 * One chaos run: start the local stack in this process, drive payments through the HTTP API while
 * every fault kind is injected from one seed, stop injecting, recover (PG reconciler until no
 * attempt is open, final sweep, DLQ redrive with the outbox CLI), and check the tables (the PG's
 * ledger included: the sandbox's table, or toss-local's), what the webhook subscriber's
 * receiver got, the retries of the answers lost after a commit, and what reached relay-failures.
 * The app is synthesized with the relay's retries lowered (CHAOS_RELAY_RETRY_ATTEMPTS), so poison
 * records reach relay-failures quickly. The PG is the sandbox, or toss-local (`pg: 'toss-local'`:
 * the stack is the app synthesized for Toss, and tools/toss-local runs in this process). `npm run chaos`
 * (chaos/run.ts) and the smaller run in `npm test` (test/integration/chaos.test.ts) both call
 * `runChaos`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { destroyAwsClients } from '../lambdas/platform/aws-clients';
import { createFunctionClients, LOCAL_CREDENTIALS } from '../local/clients';
import { createLogger } from '../local/log';
import { DEFAULT_STATE_DIR } from '../local/paths';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../local/stack';
import { loadTemplate } from '../local/template/template-cache';
import { readTemplate, webhookSubscriberOf } from '../local/template/resolve';
import type { CfnTemplate } from '../local/template/types';
import type { TossLocalServer } from '../tools/toss-local/server';
import { startWebhookReceiver, type WebhookReceiver } from '../tools/webhook-receiver/receiver';
import { settledVersions, snapshotTables, verify, type Verification, type WebhookObservation } from './checks';
import { drivePayments, planPayments, sandboxGatewayDriver, tossLocalGatewayDriver, type DriveResult, type PaymentPlan, type PgKind } from './driver';
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
import { attributeTossFaults, totalOf, TossRequestLog, withTossRequestLog, type TossFaultContext, type TossFaultTally } from './faults/toss-pg-faults';
import { SeededRandom } from './random';
import { PG_RECONCILER, queueDepth, settle, tallyReconcilerRuns, type SettleReport } from './recovery';
import { nameRelayFailures, readRelayFailures } from './relay-failures';
import { CONSUMER_POLLER, PAYMENT_EVENTS_QUEUE, RELAY_POLLER, SweeperRace, sweeperDependencies, type SweeperRaceStats } from './sweeper';

/**
 * The PG reconciler's grace period in a chaos run: longer than the API functions' timeout (10 s),
 * as the stack requires, so its scheduled runs during the drive never take an attempt whose
 * request is still in flight; the settle phase waits for the youngest open attempt to pass it.
 */
export const CHAOS_RECONCILER_GRACE_SECONDS = 12;

/**
 * The relay's retries in a chaos run (the stack's `relay.retryAttempts`, 10 by default): low, so the
 * poller gives up on a poison record after a few invocations and sends it to relay-failures
 * without holding its shard for long. The app is synthesized with it (its own template cache file).
 */
export const CHAOS_RELAY_RETRY_ATTEMPTS = 2;

/** The app's props over bin/'s in a chaos run on `pg`: the relay's low retry count, and the Toss gateway on toss-local. */
export function chaosStackPropsOverrides(pg: PgKind): Record<string, unknown> {
  return { relay: { retryAttempts: CHAOS_RELAY_RETRY_ATTEMPTS }, ...(pg === 'toss-local' && { paymentGateway: 'toss' }) };
}

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

/**
 * toss-local's DEPOSIT_CALLBACK resend schedule in a chaos run (ms before each resend): shorter
 * than its default, so a callback answered 503 (an injected fault) is delivered within the drive.
 */
export const CHAOS_TOSS_CALLBACK_RETRY_DELAYS_MS: readonly number[] = [100, 200, 500, 1_000, 2_000, 5_000, 10_000];

export interface ChaosOptions {
  readonly seed: number;
  readonly payments: number;
  /**
   * The PG: the sandbox (its ledger a table of the stack), or tools/toss-local started by the
   * stack (the app synthesized with `paymentGateway: 'toss'`). @default 'sandbox'
   */
  readonly pg?: PgKind;
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
  /** The PG the run drove. */
  readonly pg: PgKind;
  readonly payments: number;
  readonly concurrency: number;
  readonly consumerConcurrency: number;
  readonly consumerOneAtATime: boolean;
  readonly rates: FaultRates;
  readonly drive: Omit<DriveResult, 'payments'> & { readonly created: number };
  readonly faults: FaultCounts;
  readonly transactionFailures: readonly InjectedTransactionFailure[];
  readonly pgFailures: readonly InjectedPgFailure[];
  /** toss-local's injected faults, counted from its request log (toss-local runs only). */
  readonly tossFaults?: TossFaultTally;
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

/** What attributeTossFaults needs to know of the run: its payments, and when their deposit callbacks went out. */
function tossFaultContext(server: TossLocalServer, plans: readonly PaymentPlan[], drive: DriveResult, rates: FaultRates): TossFaultContext {
  const planByOrder = new Map(plans.map((plan) => [plan.orderId, plan]));
  return {
    payment: (paymentId) => {
      const plan = planByOrder.get(drive.payments.get(paymentId)?.orderId ?? '');
      return plan && { orderId: plan.orderId, method: plan.method, declines: plan.steps.includes('decline') };
    },
    depositCallbacks: (paymentId) => {
      const sent = server.callbacks(paymentId).filter((c) => c.trigger === 'scheduled');
      const firstAt = sent[0] && Date.parse(sent[0].at);
      const delivered = sent.find((c) => c.status === 200);
      return { ...(firstAt !== undefined && { firstAt }), ...(delivered && { deliveredAt: Date.parse(delivered.at) }) };
    },
    answerLostRate: rates.pgAnswerLost,
    downRate: rates.pgDown,
  };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const rates: FaultRates = { ...DEFAULT_RATES, ...options.rates };
  const started = Date.now();
  const timings: ChaosTimings = { stackStartMs: 0, driveMs: 0, drainMs: 0, settleMs: 0, reconcileMs: 0, verifyMs: 0, totalMs: 0 };
  const plans = planPayments(new SeededRandom(options.seed), options.payments, { raceRate: rates.confirmCancelRace });
  const reconcilerGraceSeconds = options.reconcilerGraceSeconds ?? CHAOS_RECONCILER_GRACE_SECONDS;
  const stateDir = options.stack?.stateDir ?? join(DEFAULT_STATE_DIR, 'chaos');
  const pg: PgKind = options.pg ?? 'sandbox';

  // The template cache `npm start` and the tests share (re-synthesized only when lib/ changed), one file per variant.
  const template = options.stack?.template ?? (await loadTemplate(DEFAULT_STATE_DIR, { appStackPropsOverrides: chaosStackPropsOverrides(pg) })).template;
  // toss-local's faults are its own; they are counted from its request log (see toss-pg-faults.ts).
  const tossRequests = pg === 'toss-local' ? new TossRequestLog() : undefined;
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
    ...(tossRequests && {
      paymentGateway: { kind: 'toss-local', port: 0, webhookRetryDelaysMs: CHAOS_TOSS_CALLBACK_RETRY_DELAYS_MS },
      logger: withTossRequestLog(options.stack?.logger ?? createLogger('local', { level: options.stack?.logLevel ?? 'error' }), tossRequests),
    }),
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
  const tossLocal = stack.tossLocal;
  if (pg === 'toss-local' && !tossLocal) {
    await stack.stop();
    await receiver?.close();
    throw new Error('the stack was started without toss-local');
  }
  // Its scheduled runs during the drive close what callers gave up on; the report counts them.
  const reconcilerTally = tallyReconcilerRuns(stack);
  log(`stack up in ${timings.stackStartMs} ms (API ${stack.apiUrl}${tossLocal ? `, toss-local ${tossLocal.url}` : ''}); state in ${stateDir}`);

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
      pg: tossLocal ? tossLocalGatewayDriver(stack.apiUrl, tossLocal) : sandboxGatewayDriver(stack.apiUrl, stack.endpoints.pgCallbackSecret),
      concurrency: options.concurrency,
      ...(options.retryAfterScale !== undefined && { retryAfterScale: options.retryAfterScale }),
      seed: options.seed,
      giveUpRate: rates.callerGivesUp,
      answerLostRate: rates.answerLost,
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
    const failuresRead = await readRelayFailures(stack);
    const named = nameRelayFailures(failuresRead.messages, faults.streamRecordKeys);
    log(`relay-failures: ${failuresRead.messages.length} message(s), ${named.keys.length} record(s) given up, ${faults.poisonedRecords.size} poison record(s)`);
    const toss = tossLocal && tossRequests ? attributeTossFaults(tossRequests, tossFaultContext(tossLocal, plans, drive, rates)) : undefined;
    if (toss) {
      faults.counts.pgAnswersLost = totalOf(toss.tally.answersLost);
      faults.counts.pgDownCalls = totalOf(toss.tally.outages);
    }
    const pgFailures = [...faults.pgFailures, ...(toss?.pgFailures ?? [])];
    const verification = verify(tables, {
      drive,
      faultCounts: faults.counts,
      transactionFailures: faults.transactionFailures,
      pgFailures,
      ...(toss && { tossFaults: toss.tally }),
      race: race.stats,
      settle: settleReport,
      minEvents: options.minEvents ?? 0,
      ...(webhook && { webhook }),
      relayFailures: {
        messages: failuresRead.messages.length,
        sent: named.keys,
        unnamed: [...named.unnamed, ...(failuresRead.unreadable > 0 ? [`${failuresRead.unreadable} message(s) that are no stream batch's invocation record`] : [])],
        poisoned: [...faults.poisonedRecords],
        firstPublisher: faults.firstPublisher,
      },
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
      pg,
      payments: options.payments,
      concurrency: options.concurrency,
      consumerConcurrency: options.consumerConcurrency ?? 4,
      consumerOneAtATime: options.consumerOneAtATime ?? false,
      rates,
      drive: { ...driveSummary, created: payments.size },
      faults: { ...faults.counts },
      transactionFailures: faults.transactionFailures,
      pgFailures,
      ...(toss && { tossFaults: toss.tally }),
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
