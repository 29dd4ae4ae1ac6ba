/**
 * The smoke test's steps, in order: subscribe a queue of its own to the topic, create a payment,
 * confirm it, receive its two events (`payment.created` #1, `payment.approved` #2) on that queue,
 * wait until `GET /payments/{id}/deliveries` shows both handed to the `payment-events` subscriber,
 * and remove the queue. Each step is reported as it ends, with its latency; after a failure the
 * remaining steps are skipped, except the clean-up, which always runs.
 *
 * When the caller may not create or subscribe a queue (an access error), the events are read from
 * `GET /payments/{id}/events` instead, and the report says so.
 */
import { EXAMPLE_CONSUMER_SUBSCRIBER } from '../../lambdas/platform/resource-names';
import type { ApiAnswer, ApiCall } from './api-client';
import { isAccessError, smokeQueueName, SmokeEventQueue, type EventQueueClients, type ExpectedEvent, type ReceivedEvent } from './event-queue';
import type { SmokeTarget } from './target';

export const STEP_NAMES = ['queue', 'create', 'confirm', 'events received', 'delivery status', 'cleanup'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface StepResult {
  readonly name: StepName | 'target';
  /** `warn`: done another way than planned (events read from the API), not a failure. */
  readonly outcome: 'ok' | 'warn' | 'fail' | 'skipped';
  readonly latencyMs?: number;
  readonly detail: string;
}

export interface SmokeReport {
  readonly passed: boolean;
  readonly steps: readonly StepResult[];
  readonly paymentId?: string;
  /** The first failed step. */
  readonly failed?: StepResult;
  /** Where the events were read: the smoke queue, or the API after an access error. */
  readonly eventsSource: 'queue' | 'api';
}

export interface SmokeDeps {
  /** The stack's API (signed for a deployed stack). */
  readonly api: ApiCall;
  /** Unsigned calls to tools/toss-local's control routes (`controlUrl` + path). */
  readonly control?: ApiCall;
  /** SNS and SQS clients of the target's account and region (or the emulator). */
  readonly brokers: EventQueueClients;
  /** Names the order (`smoke-<runId>`) and the queue (`smoke-<runId>.fifo`). */
  readonly runId: string;
  /** Each wait (events, delivery status). */
  readonly timeoutMs: number;
  /** Pause between polls of the API. @default 250 */
  readonly pollIntervalMs?: number;
  /** Called as each step ends. */
  readonly onStep?: (step: StepResult) => void;
}

/** The payment's events the test waits for, in order. */
export const EXPECTED_EVENTS: readonly ExpectedEvent[] = [
  { type: 'payment.created', sequence: 1 },
  { type: 'payment.approved', sequence: 2 },
];

/** The sandbox PG approves this test card. */
export const SANDBOX_CARD_TOKEN = 'tok_visa';
export const SMOKE_AMOUNT = 1000;

/** A step that did not pass; its message is the step's detail. */
export class SmokeStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeStepError';
  }
}

/** Delivery states after which the `payment-events` subscriber has its event. */
const HANDED_OVER = new Set(['enqueued', 'delivered']);

export async function runSmoke(target: SmokeTarget, deps: SmokeDeps): Promise<SmokeReport> {
  const steps: StepResult[] = [];
  let failed: StepResult | undefined;
  const record = (step: StepResult) => {
    steps.push(step);
    if (step.outcome === 'fail' && !failed) failed = step;
    deps.onStep?.(step);
  };
  /** Runs a step unless one failed; its result's detail is what `body` returns. */
  const step = async <T>(name: StepName, body: () => Promise<{ value: T; detail: string; outcome?: 'ok' | 'warn' }>): Promise<T | undefined> => {
    if (failed) {
      record({ name, outcome: 'skipped', detail: `skipped after ${failed.name} failed` });
      return undefined;
    }
    const started = performance.now();
    try {
      const { value, detail, outcome } = await body();
      record({ name, outcome: outcome ?? 'ok', latencyMs: performance.now() - started, detail });
      return value;
    } catch (error) {
      record({ name, outcome: 'fail', latencyMs: performance.now() - started, detail: errorText(error) });
      return undefined;
    }
  };
  const poll = deps.pollIntervalMs ?? 250;
  const orderId = `smoke-${deps.runId}`;
  let queue: SmokeEventQueue | undefined;
  let eventsSource: SmokeReport['eventsSource'] = 'queue';
  let paymentId: string | undefined;

  await step('queue', async () => {
    const queueName = smokeQueueName(deps.runId);
    try {
      queue = await SmokeEventQueue.open(deps.brokers, { topicArn: target.topicArn, queueName });
    } catch (error) {
      if (!isAccessError(error)) throw error;
      eventsSource = 'api';
      return {
        value: undefined,
        outcome: 'warn',
        detail: `cannot subscribe a queue of its own to the topic (${errorText(error)}): events will be read from GET /payments/{id}/events instead`,
      };
    }
    return { value: undefined, detail: `${queueName} subscribed to ${target.topicArn} (raw delivery)` };
  });

  const created = await step('create', async () => {
    const answer = await deps.api('POST', '/payments', { orderId, amount: SMOKE_AMOUNT, currency: 'KRW', method: 'CARD' });
    const payment = expectStatus(answer, 201, 'POST /payments');
    const id = field(payment, 'paymentId', 'POST /payments');
    paymentId = id;
    // Without the filter the queue still works (other payments' messages are dropped): a failure here only costs noise.
    const narrowed = await queue?.narrowTo(id).then(
      () => '',
      (error: unknown) => `; the smoke queue receives every payment's events (filter not set: ${errorText(error)})`,
    );
    return { value: id, detail: `${answer.status} ${id} ${String((payment as { status?: unknown }).status)} (order ${orderId})${narrowed ?? ''}` };
  });

  await step('confirm', async () => {
    const id = created as string;
    const body =
      target.paymentGateway.kind === 'toss-local' ? { paymentKey: await tossLocalPaymentKey(deps, id) } : { cardToken: SANDBOX_CARD_TOKEN };
    const answer = await deps.api('POST', `/payments/${id}/confirm`, body);
    const payment = expectStatus(answer, 200, 'POST /payments/{id}/confirm');
    const status = (payment as { status?: unknown }).status;
    if (status !== 'APPROVED') {
      throw new SmokeStepError(`the payment is ${String(status)}, not APPROVED: ${answer.text.slice(0, 200)}`);
    }
    return { value: undefined, detail: `${answer.status} APPROVED${target.paymentGateway.kind === 'toss-local' ? ' (toss-local session)' : ' (sandbox card tok_visa)'}` };
  });

  await step('events received', async () => {
    const id = created as string;
    if (queue) {
      const events = await queue.waitForEvents(id, EXPECTED_EVENTS, deps.timeoutMs);
      return { value: undefined, detail: `${describeEvents(events)} in order on ${queue.name}` };
    }
    const events = await pollApiEvents(deps.api, id, deps.timeoutMs, poll);
    return {
      value: undefined,
      outcome: 'warn',
      detail: `${events.map((e) => `${e.type} #${e.sequence}`).join(', ')} from GET /payments/${id}/events (not from the topic: no queue of its own)`,
    };
  });

  await step('delivery status', async () => {
    const id = created as string;
    return { value: undefined, detail: await waitForDeliveries(deps.api, id, deps.timeoutMs, poll) };
  });

  // Clean-up runs whatever happened before.
  const cleanupStarted = performance.now();
  if (queue) {
    const name = queue.name;
    try {
      await queue.close();
      record({ name: 'cleanup', outcome: 'ok', latencyMs: performance.now() - cleanupStarted, detail: `${name}: subscription and queue deleted` });
    } catch (error) {
      record({ name: 'cleanup', outcome: 'fail', latencyMs: performance.now() - cleanupStarted, detail: errorText(error) });
    }
  } else {
    record({ name: 'cleanup', outcome: 'ok', latencyMs: performance.now() - cleanupStarted, detail: 'nothing to remove' });
  }

  return {
    passed: failed === undefined,
    steps,
    ...(paymentId !== undefined && { paymentId }),
    ...(failed !== undefined && { failed }),
    eventsSource,
  };
}

/** tools/toss-local stands in for the buyer: a session for the payment (Toss's orderId = our payment id). */
async function tossLocalPaymentKey(deps: SmokeDeps, paymentId: string): Promise<string> {
  if (!deps.control) throw new SmokeStepError('toss-local: no control client');
  const answer = await deps.control('POST', '/payment-sessions', { orderId: paymentId, amount: SMOKE_AMOUNT });
  return field(expectStatus(answer, 201, 'toss-local POST /payment-sessions'), 'paymentKey', 'toss-local POST /payment-sessions');
}

async function pollApiEvents(api: ApiCall, paymentId: string, timeoutMs: number, pollMs: number): Promise<ExpectedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  let last: ExpectedEvent[] = [];
  for (;;) {
    const answer = await api('GET', `/payments/${paymentId}/events`);
    const events = (expectStatus(answer, 200, 'GET /payments/{id}/events') as { events?: unknown }).events;
    last = Array.isArray(events) ? events.map((e: { type?: unknown; sequence?: unknown }) => ({ type: String(e.type), sequence: Number(e.sequence) })) : [];
    const matches = EXPECTED_EVENTS.every((want, i) => last[i]?.type === want.type && last[i]?.sequence === want.sequence);
    if (matches) return last;
    if (Date.now() >= deadline) {
      throw new SmokeStepError(`timed out after ${timeoutMs} ms: GET /payments/${paymentId}/events shows ${last.map((e) => `${e.type} #${e.sequence}`).join(', ') || 'no events'}`);
    }
    await sleep(pollMs);
  }
}

interface DeliveriesView {
  readonly subscribers?: ReadonlyArray<{ readonly name?: string; readonly kind?: string; readonly events?: ReadonlyArray<{ sequence?: number; type?: string; state?: string; reason?: string; lastError?: string }> }>;
}

/**
 * Polls `GET /payments/{id}/deliveries` until the `payment-events` subscriber has both events
 * (`enqueued` for a queue subscriber, `delivered` for a webhook). Returns each subscriber's states.
 * @throws SmokeStepError when the subscriber is missing, an event is dead-lettered, or on timeout
 */
async function waitForDeliveries(api: ApiCall, paymentId: string, timeoutMs: number, pollMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await api('GET', `/payments/${paymentId}/deliveries`);
    const view = expectStatus(answer, 200, 'GET /payments/{id}/deliveries') as DeliveriesView;
    const subscribers = view.subscribers ?? [];
    const own = subscribers.find((s) => s.name === EXAMPLE_CONSUMER_SUBSCRIBER);
    if (!own) {
      throw new SmokeStepError(`no ${EXAMPLE_CONSUMER_SUBSCRIBER} subscriber in the answer (subscribers: ${subscribers.map((s) => s.name).join(', ') || 'none'})`);
    }
    const states = EXPECTED_EVENTS.map((want) => own.events?.find((e) => e.sequence === want.sequence));
    const dead = states.find((e) => e?.state === 'dead-lettered');
    if (dead) throw new SmokeStepError(`${EXAMPLE_CONSUMER_SUBSCRIBER}: #${dead.sequence} dead-lettered (${dead.reason ?? '?'}: ${dead.lastError ?? ''})`);
    const summary = subscribers.map((s) => `${s.name} (${s.kind}): ${(s.events ?? []).map((e) => `#${e.sequence} ${e.state}`).join(', ') || 'no events'}`).join('; ');
    if (states.every((e) => e !== undefined && HANDED_OVER.has(e.state ?? ''))) return summary;
    if (Date.now() >= deadline) throw new SmokeStepError(`timed out after ${timeoutMs} ms: ${summary}`);
    await sleep(pollMs);
  }
}

function expectStatus(answer: ApiAnswer, status: number, what: string): unknown {
  if (answer.status !== status) {
    const code = (answer.body as { code?: unknown; message?: unknown } | undefined)?.code;
    throw new SmokeStepError(`${what} answered ${answer.status}${code !== undefined ? ` ${String(code)}` : ''}, expected ${status}: ${answer.text.slice(0, 200)}`);
  }
  if (answer.body === undefined || typeof answer.body !== 'object' || answer.body === null) throw new SmokeStepError(`${what}: the answer is not a JSON object: ${answer.text.slice(0, 200)}`);
  return answer.body;
}

function field(body: unknown, name: string, what: string): string {
  const value = (body as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value === '') throw new SmokeStepError(`${what}: no "${name}" in the answer`);
  return value;
}

function describeEvents(events: readonly ReceivedEvent[]): string {
  return events.map((e) => `${e.type} #${e.sequence} +${Math.round(e.receivedAfterMs)} ms`).join(', ');
}

function errorText(error: unknown): string {
  if (error instanceof SmokeStepError) return error.message;
  return error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
