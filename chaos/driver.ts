/**
 * Drives payments through the local stack's real HTTP API, as callers and the PG would.
 *
 * The plan comes from the seed: each payment gets an order id `chaos-<seed>-<n>`, a method, an
 * amount and a script of 2 or 3 state changes (the state machine allows at most 3 events per
 * payment: created, approved/failed, cancelled). Half the payments carry Idempotency-Keys (on
 * the create, the confirm and the cancel), so a failed create must also leave no idempotency record.
 *
 * Failed writes: a create answered 5xx is abandoned (its order id is recorded; nothing may exist
 * for it). A later change answered 5xx is retried, as a caller would ("safe to retry"), up to a
 * bound, after a 503 once its `Retry-After` (scaled down) has passed; each failed attempt is
 * recorded with the event it tried to commit. Any other answer (4xx, 409, a network error, a 5xx
 * after the last retry of a change that moves no money) is "unexpected": a chaos run injects
 * faults below the API, so the API must either succeed or fail cleanly with a 5xx.
 *
 * Money-moving steps (a confirm, the cancel of an approved payment) are different after their
 * last retry, or when the caller gives up after a 5xx (a keyed draw, `giveUpRate`): the request
 * left an open PG attempt that the reconciler closes with whatever the PG did, so the payment's
 * outcome is "unresolved" by the driver and read from the store after recovery (see
 * `settledVersions` in checks.ts); the payment's script ends there.
 *
 * The PG's part (what a confirm carries, how a buyer's deposit reaches the API) is a
 * `PaymentGatewayDriver`: the sandbox's (a card token; the deposit webhook it signs, sent by the
 * driver) or toss-local's (a payment session made at the server for the payment id, confirmed with
 * its paymentKey; the deposit made at the server, whose DEPOSIT_CALLBACK the server resends until
 * the API answers 200, then resends once more as a duplicate). On Toss the cancel of a deposited
 * virtual account is refused (422 PG_REJECTED: Toss refunds a deposit only to a refund account the
 * API does not take), and that refusal is the step's expected answer.
 *
 * Lost answers ("commit succeeded, answer lost"): a payment planned with an Idempotency-Key sends
 * it on its create and on its confirm and cancel (`<plan key>-<step>`). For a share of those
 * requests (a keyed draw per order and step, `answerLostRate`) the caller never sees the 2xx the
 * API answered: the driver's HTTP client drops it after the server answered (the commit is done),
 * and the caller sends the same request again, same key and body. The retry must be answered the
 * committed result (a replay, `Idempotent-Replayed: true`) and write nothing; each such pair is
 * recorded (`lostAnswers`) for the checks, and the retry's answer is the step's.
 *
 * Confirm/cancel races: a share of the "approved, then cancelled" payments (keyed on the seed and
 * the order id, so the plan itself does not change) sends its cancel together with its confirm.
 * Either may win: the cancel of a READY payment (the confirm is then refused 409
 * INVALID_STATE_TRANSITION), the confirm (the cancel then refunds), or the cancel arrives while
 * the charge is in flight and is refused 409 PG_ATTEMPT_IN_PROGRESS, and is sent again once the
 * confirm answered, as a caller would. Those 409s are expected answers of a race.
 */
import type { PaymentMethod } from '../lambdas/domain/payment';
import { signPgBody } from '../lambdas/functions/pg-deposit-callback/pg-callback-signature';
import type { TossLocalServer } from '../tools/toss-local/server';
import { KeyedRandom, type SeededRandom } from './random';

export type Step = 'confirm' | 'decline' | 'deposit' | 'cancel';

/** The PGs a chaos run can drive: the sandbox, or tools/toss-local started by the local stack. */
export const PG_KINDS = ['sandbox', 'toss-local'] as const;
export type PgKind = (typeof PG_KINDS)[number];

interface Script {
  readonly name: string;
  readonly method: PaymentMethod;
  readonly steps: readonly Step[];
  readonly weight: number;
}

/** Every script has 2 or 3 events; 80 % of the weight has 3. */
export const SCRIPTS: readonly Script[] = [
  { name: 'card approved, cancelled', method: 'CARD', steps: ['confirm', 'cancel'], weight: 30 },
  { name: 'virtual account deposited, cancelled', method: 'VIRTUAL_ACCOUNT', steps: ['deposit', 'cancel'], weight: 25 },
  { name: 'easy pay approved, cancelled', method: 'EASY_PAY', steps: ['confirm', 'cancel'], weight: 25 },
  { name: 'card declined', method: 'CARD', steps: ['decline'], weight: 8 },
  { name: 'easy pay approved', method: 'EASY_PAY', steps: ['confirm'], weight: 6 },
  { name: 'virtual account cancelled before the deposit', method: 'VIRTUAL_ACCOUNT', steps: ['cancel'], weight: 6 },
];

/**
 * Whether `pg` refuses a script's cancel by design: Toss refunds a deposited virtual account only to
 * a refund account the buyer names, which the API does not take (the payment stays APPROVED).
 */
export function cancelRefusedOn(pg: PgKind, method: PaymentMethod, charged: boolean): boolean {
  return pg === 'toss-local' && method === 'VIRTUAL_ACCOUNT' && charged;
}

/** Events a script commits when nothing fails (its create included). */
function eventsOfScript(script: Script, pg: PgKind): number {
  const refused = script.steps.at(-1) === 'cancel' && cancelRefusedOn(pg, script.method, script.steps.includes('deposit'));
  return 1 + script.steps.length - (refused ? 1 : 0);
}

/** Events a plan commits per payment on average on `pg` when nothing fails. */
export function averageEventsPerPayment(pg: PgKind): number {
  return SCRIPTS.reduce((sum, script) => sum + script.weight * eventsOfScript(script, pg), 0) / SCRIPTS.reduce((sum, script) => sum + script.weight, 0);
}

/** Events a plan of `payments` payments commits on average on the sandbox when nothing fails. */
export const AVERAGE_EVENTS_PER_PAYMENT = averageEventsPerPayment('sandbox');

export interface PaymentPlan {
  readonly index: number;
  readonly orderId: string;
  readonly method: PaymentMethod;
  readonly amount: number;
  readonly steps: readonly Step[];
  readonly idempotencyKey?: string;
  /** The confirm and the cancel are sent at once (only for steps confirm, cancel). */
  readonly race?: boolean;
}

/**
 * The Idempotency-Key a payment's request carries: planned ones carry `<plan key>` on the create
 * and `<plan key without -create>-<step>` on a confirm, decline (a confirm) or cancel; none on a
 * deposit (the PG's notification is keyed by its transaction id).
 */
export function idempotencyKeyOf(plan: PaymentPlan, step: 'create' | Step): string | undefined {
  if (plan.idempotencyKey === undefined || step === 'deposit') return undefined;
  if (step === 'create') return plan.idempotencyKey;
  return `${plan.idempotencyKey.replace(/-create$/, '')}-${step}`;
}

export interface PlanOptions {
  /** Share of the payments planned "confirm, cancel" whose cancel races the confirm. @default 0 */
  readonly raceRate?: number;
}

export function planPayments(random: SeededRandom, count: number, options: PlanOptions = {}): PaymentPlan[] {
  // A keyed draw, not the sequential stream: the plan of a seed stays what it was without races.
  const races = new KeyedRandom(random.seed);
  const plans: PaymentPlan[] = [];
  for (let index = 0; index < count; index++) {
    const script = random.weighted(SCRIPTS.map((s) => [s, s.weight] as const));
    const amount = 1_000 + random.int(500) * 100;
    const withKey = random.next() < 0.5;
    const orderId = `chaos-${random.seed}-${index}`;
    const race = isConfirmThenCancel(script.steps) && races.chance('confirm-cancel-race', orderId, options.raceRate ?? 0);
    plans.push({
      index,
      orderId,
      method: script.method,
      amount,
      steps: script.steps,
      ...(withKey && { idempotencyKey: `chaos-${random.seed}-${index}-create` }),
      ...(race && { race: true }),
    });
  }
  return plans;
}

function isConfirmThenCancel(steps: readonly Step[]): boolean {
  return steps.length === 2 && steps[0] === 'confirm' && steps[1] === 'cancel';
}

/** The event a step commits (one of each per payment at most). */
export const EVENT_OF_STEP: Readonly<Record<'create' | Step, string>> = {
  create: 'payment.created',
  confirm: 'payment.approved',
  deposit: 'payment.approved',
  decline: 'payment.failed',
  cancel: 'payment.cancelled',
};

/** The status a step leaves the payment in. */
export const STATUS_OF_STEP: Readonly<Record<'create' | Step, string>> = {
  create: 'READY',
  confirm: 'APPROVED',
  deposit: 'APPROVED',
  decline: 'FAILED',
  cancel: 'CANCELLED',
};

export interface DrivenPayment {
  readonly paymentId: string;
  readonly orderId: string;
  /** The version of the last successful answer: the number of events the payment must have. */
  version: number;
  /**
   * A money-moving step still answered 5xx after the last retry: its PG attempt was left open, and
   * what the reconciler made of it decides. The payment then ends at `version`, or at `version + 1`
   * in this step's status.
   */
  unresolved?: Step;
  /** Set when its confirm and cancel raced. */
  race?: RaceOutcome;
}

export interface FailedWrite {
  readonly orderId: string;
  readonly paymentId?: string;
  readonly step: 'create' | Step;
  /** The version the write would have produced (in a race, the driver's best guess). */
  readonly version: number;
  readonly status: number;
  /** The error code of the answer, when it had one (a create answered 503 PG_UNAVAILABLE met the PG). */
  readonly code?: string;
}

/** A money-moving step answered 5xx after the last retry (see DrivenPayment.unresolved). */
export interface UnresolvedStep {
  readonly orderId: string;
  readonly paymentId: string;
  readonly step: Step;
  readonly status: number;
  readonly code?: string;
  /** The caller gave up after this answer (else the retries ran out). */
  readonly gaveUp: boolean;
}

export type RaceOutcome =
  /** The cancel of the READY payment won; the confirm was refused (409 INVALID_STATE_TRANSITION). */
  | 'cancel first, confirm refused'
  /** The confirm won; the cancel then refunded (both 200). */
  | 'confirm first, cancel refunded'
  /** The cancel met the charge in flight (409 PG_ATTEMPT_IN_PROGRESS) and was sent again after the confirm. */
  | 'cancel refused while charging, then sent again'
  /** A side ended 5xx after its retries (the reconciler decides) or answered something unexpected. */
  | 'unresolved';

export interface RaceStats {
  total: number;
  outcomes: Record<RaceOutcome, number>;
}

export interface UnexpectedAnswer {
  readonly orderId: string;
  readonly step: 'create' | Step;
  readonly status: number;
  readonly body: string;
}

/** What an answer said of the payment (status 0 and no fields: no usable answer). */
export interface AnsweredPayment {
  readonly status: number;
  readonly paymentId?: string;
  readonly paymentStatus?: string;
  readonly version?: number;
  /** The answer carried `Idempotent-Replayed: true`. */
  readonly replayed: boolean;
}

/** A 2xx the caller never saw (dropped after the commit), and what the retry with the same key and body was answered. */
export interface LostAnswer {
  readonly orderId: string;
  readonly step: 'create' | Step;
  readonly idempotencyKey: string;
  /** The answer dropped: the committed result. */
  readonly committed: AnsweredPayment;
  readonly retry: AnsweredPayment;
}

export interface DriveResult {
  /** Created payments by payment id. */
  readonly payments: Map<string, DrivenPayment>;
  /** Order ids whose create failed (5xx): nothing may exist for them. */
  readonly failedCreates: string[];
  /** Every 5xx answer to a write, creates included. */
  readonly failedWrites: FailedWrite[];
  readonly unexpected: UnexpectedAnswer[];
  /** Money-moving steps left to the reconciler (5xx after the last retry, or the caller gave up). */
  readonly unresolved: UnresolvedStep[];
  /** Of those, the steps whose caller gave up after a 5xx instead of retrying. */
  readonly gaveUp: number;
  /** Answers 503 PG_UNAVAILABLE (each one retried after its scaled Retry-After, unless it was the last attempt). */
  readonly pgUnavailable: number;
  /** Confirm/cancel races run and how they ended. */
  readonly races: RaceStats;
  /** Steps the PG refused by design, with the answer expected for them (Toss: the cancel of a deposited virtual account, 422 PG_REJECTED). */
  readonly refusedAsExpected: number;
  /** Deposit callbacks the PG sent again after one was answered 200 (toss-local; each must answer 200 and change nothing). */
  readonly duplicateDepositCallbacks: number;
  /** 2xx answers dropped after the commit, each with its retry (same key and body). */
  readonly lostAnswers: LostAnswer[];
  readonly requests: number;
  readonly durationMs: number;
}

export interface DriveOptions {
  readonly apiUrl: string;
  /** The PG's part: sandboxGatewayDriver or tossLocalGatewayDriver. */
  readonly pg: PaymentGatewayDriver;
  readonly concurrency: number;
  /** Attempts of a change answered 5xx (creates are never retried). @default 5 */
  readonly maxAttempts?: number;
  /** A 503's Retry-After is honoured times this before the retry (2 s -> 100 ms). @default 0.05 */
  readonly retryAfterScale?: number;
  /** Seed of the callers' keyed decisions (giving up, lost answers). @default 0 */
  readonly seed?: number;
  /** Per 5xx answer of a money-moving step: the caller gives up instead of retrying (the reconciler decides). @default 0 */
  readonly giveUpRate?: number;
  /** Per request carrying an Idempotency-Key (once per step): its 2xx is dropped after the commit and the request sent again. @default 0 */
  readonly answerLostRate?: number;
  /** Called after each payment's script finished. */
  readonly onProgress?: (done: number) => void;
}

/** An answer of the API (status 0: no HTTP answer, or none the step could use; `text` says why). */
export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: Record<string, unknown> | undefined;
  /** Seconds, from the Retry-After header. */
  readonly retryAfter?: number;
  /** The answer carried `Idempotent-Replayed: true` (a stored result answered again). */
  readonly replayed?: boolean;
}

/** What a buyer's deposit came to at the API. */
export interface DepositOutcome {
  /** The answer that shows the deposit recorded (200 with the payment), or why there is none. */
  readonly answer: Answer;
  /** Statuses of the deliveries answered other than 200 before it (the PG resent them; 0: no HTTP answer): each is a failed write. */
  readonly failedDeliveries: readonly number[];
  /** Duplicate deliveries made after the one answered 200. */
  readonly duplicates: number;
  /** Requests made to the API. */
  readonly requests: number;
}

/** The PG's part in a chaos run: what a confirm carries and how a deposit reaches the API. */
export interface PaymentGatewayDriver {
  readonly kind: PgKind;
  /** The confirm request's body; one payment gets the same credential on every attempt (a retry resumes its PG attempt). */
  confirmBody(plan: PaymentPlan, paymentId: string, outcome: 'approve' | 'decline'): string;
  /** The buyer pays the virtual account of the payment; the PG tells the API. */
  deposit(plan: PaymentPlan, paymentId: string): Promise<DepositOutcome>;
}

/** A step that could not be sent, as an answer the checks report as unexpected. */
function noAnswer(text: string): Answer {
  return { status: 0, text, json: undefined };
}

/** The error code of an error answer (`{ error: { code } }`). */
function codeOf(answer: Answer): string | undefined {
  const code = (answer.json?.error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(apiUrl: string, method: string, path: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  try {
    const response = await fetch(`${apiUrl}${path}`, { method, body, headers: { 'Content-Type': 'application/json', ...headers } });
    const text = await response.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
    const replayed = response.headers.get('idempotent-replayed') === 'true';
    return { status: response.status, text, json, ...(Number.isFinite(retryAfter) && { retryAfter }), ...(replayed && { replayed }) };
  } catch (error) {
    return { status: 0, text: `network error: ${error instanceof Error ? error.message : String(error)}`, json: undefined };
  }
}

/** What an answer says of the payment. */
function answeredPayment(answer: Answer): AnsweredPayment {
  const { json } = answer;
  return {
    status: answer.status,
    ...(typeof json?.paymentId === 'string' && { paymentId: json.paymentId }),
    ...(typeof json?.status === 'string' && { paymentStatus: json.status }),
    ...(typeof json?.version === 'number' && { version: json.version }),
    replayed: answer.replayed === true,
  };
}

/** The sandbox PG: a card token (`tok_decline_chaos` declines), and the HMAC-signed deposit webhook the driver sends as the PG would. */
export function sandboxGatewayDriver(apiUrl: string, pgCallbackSecret: string): PaymentGatewayDriver {
  return {
    kind: 'sandbox',
    confirmBody: (_plan, _paymentId, outcome) => JSON.stringify({ cardToken: outcome === 'approve' ? 'tok_visa' : 'tok_decline_chaos' }),
    deposit: async (plan, paymentId) => {
      const body = JSON.stringify({ pgTransactionId: `pg-${plan.orderId}`, paymentId, amount: plan.amount, depositedAt: new Date().toISOString() });
      const answer = await call(apiUrl, 'POST', '/pg/webhooks/deposits', body, { 'X-PG-Signature': signPgBody(body, pgCallbackSecret) });
      return { answer, failedDeliveries: [], duplicates: 0, requests: 1 };
    },
  };
}

/**
 * toss-local, in the local stack's process: a confirm carries the paymentKey of a payment session
 * made at the server for the payment id (Toss's orderId) and amount, declining for a decline
 * script; a deposit is made at the server, whose DEPOSIT_CALLBACK to the API is resent until it is
 * answered 200 (the answers before it are failed writes), then sent once more as a duplicate (it
 * must answer 200); the payment is then read back for its version.
 */
export function tossLocalGatewayDriver(apiUrl: string, server: TossLocalServer): PaymentGatewayDriver {
  const paymentKeys = new Map<string, string>();
  const status = (delivered: number | 'error') => (delivered === 'error' ? 0 : delivered);
  return {
    kind: 'toss-local',
    confirmBody: (plan, paymentId, outcome) => {
      let paymentKey = paymentKeys.get(paymentId);
      if (paymentKey === undefined) {
        const method = plan.method === 'EASY_PAY' ? 'EASY_PAY' : 'CARD';
        paymentKey = server.createPaymentSession({ orderId: paymentId, amount: plan.amount, method, outcome }).paymentKey;
        paymentKeys.set(paymentId, paymentKey);
      }
      return JSON.stringify({ paymentKey });
    },
    deposit: async (_plan, paymentId) => {
      let made;
      try {
        made = await server.deposit(paymentId);
      } catch (error) {
        return { answer: noAnswer(`toss-local refused the deposit: ${error instanceof Error ? error.message : String(error)}`), failedDeliveries: [], duplicates: 0, requests: 0 };
      }
      const delivery = await made.delivery;
      const deliveries = server.callbacks(paymentId).filter((c) => c.transactionKey === made.transactionKey && c.trigger === 'scheduled');
      const failedDeliveries = deliveries.filter((c) => c.status !== 200).map((c) => status(c.status));
      const requests = deliveries.length;
      if (delivery.outcome !== 'delivered') {
        const statuses = deliveries.map((c) => String(c.status)).join(', ');
        return { answer: noAnswer(`DEPOSIT_CALLBACK ${delivery.outcome} after ${delivery.attempts} deliveries (${statuses})`), failedDeliveries, duplicates: 0, requests };
      }
      // Read before the duplicate: a duplicate that changed anything leaves the payment past this version.
      const read = await call(apiUrl, 'GET', `/payments/${paymentId}`, undefined);
      const duplicate = await server.resendCallback(paymentId);
      const counted = { failedDeliveries, duplicates: 1, requests: requests + 2 };
      if (duplicate.status !== 200) return { ...counted, answer: noAnswer(`the duplicate DEPOSIT_CALLBACK was answered ${duplicate.status}${duplicate.error ? ` (${duplicate.error})` : ''}`) };
      if (read.status !== 200 || read.json?.status !== 'APPROVED') return { ...counted, answer: noAnswer(`after its deposit callback was answered 200, GET answered ${read.status}: ${read.text.slice(0, 200)}`) };
      return { ...counted, answer: read };
    },
  };
}

export async function drivePayments(plans: readonly PaymentPlan[], options: DriveOptions): Promise<DriveResult> {
  const started = Date.now();
  const maxAttempts = options.maxAttempts ?? 5;
  const retryAfterScale = options.retryAfterScale ?? 0.05;
  const callers = new KeyedRandom(options.seed ?? 0);
  const gaveUp = new Set<string>();
  const result: { -readonly [K in keyof DriveResult]: DriveResult[K] } = {
    payments: new Map(),
    failedCreates: [],
    failedWrites: [],
    unexpected: [],
    unresolved: [],
    gaveUp: 0,
    pgUnavailable: 0,
    races: {
      total: 0,
      outcomes: { 'cancel first, confirm refused': 0, 'confirm first, cancel refunded': 0, 'cancel refused while charging, then sent again': 0, unresolved: 0 },
    },
    refusedAsExpected: 0,
    duplicateDepositCallbacks: 0,
    lostAnswers: [],
    requests: 0,
    durationMs: 0,
  };
  const lostAnswerDecided = new Set<string>();

  /**
   * One API request of a step (a create, confirm or cancel). With an Idempotency-Key, its first 2xx
   * may be lost (keyed draw per order and step): the answer is dropped after the server committed
   * and answered, and the same request (key and body) is sent again; the retry's answer is the one
   * the caller gets.
   */
  const send = async (plan: PaymentPlan, step: 'create' | Step, method: string, path: string, body: string): Promise<Answer> => {
    const key = idempotencyKeyOf(plan, step);
    const headers: Record<string, string> = key === undefined ? {} : { 'Idempotency-Key': key };
    result.requests += 1;
    const answer = await call(options.apiUrl, method, path, body, headers);
    if (key === undefined || answer.status < 200 || answer.status >= 300) return answer;
    const decision = `${plan.orderId}#${step}`;
    if (lostAnswerDecided.has(decision)) return answer;
    lostAnswerDecided.add(decision);
    if (!callers.chance('answer-lost', decision, options.answerLostRate ?? 0)) return answer;
    result.requests += 1;
    const retry = await call(options.apiUrl, method, path, body, headers);
    result.lostAnswers.push({ orderId: plan.orderId, step, idempotencyKey: key, committed: answeredPayment(answer), retry: answeredPayment(retry) });
    return retry;
  };
  const unexpected = (plan: PaymentPlan, step: 'create' | Step, answer: Answer) =>
    result.unexpected.push({ orderId: plan.orderId, step, status: answer.status, body: answer.text.slice(0, 300) });

  const runStep = async (plan: PaymentPlan, payment: DrivenPayment, step: Step): Promise<Answer> => {
    const { paymentId } = payment;
    switch (step) {
      case 'confirm':
      case 'decline': {
        let body: string;
        try {
          body = options.pg.confirmBody(plan, paymentId, step === 'confirm' ? 'approve' : 'decline');
        } catch (error) {
          return noAnswer(`no ${options.pg.kind} credential for the confirm: ${error instanceof Error ? error.message : String(error)}`);
        }
        return send(plan, step, 'POST', `/payments/${paymentId}/confirm`, body);
      }
      case 'cancel':
        return send(plan, step, 'POST', `/payments/${paymentId}/cancel`, JSON.stringify({ reason: 'chaos run' }));
      case 'deposit': {
        const deposited = await options.pg.deposit(plan, paymentId);
        result.requests += deposited.requests;
        result.duplicateDepositCallbacks += deposited.duplicates;
        // Deliveries the PG resent after a failed answer: failed writes of this step, as a 5xx the driver retried would be.
        for (const status of deposited.failedDeliveries) {
          result.failedWrites.push({ orderId: plan.orderId, paymentId, step, version: payment.version + 1, status });
        }
        return deposited.answer;
      }
    }
  };

  /**
   * One step, retried while it answers 5xx (after a 503, once its Retry-After scaled down has
   * passed); the caller of a money-moving step may give up after a 5xx instead.
   */
  const attemptStep = async (plan: PaymentPlan, payment: DrivenPayment, step: Step, movesMoney: boolean): Promise<Answer> => {
    let answer: Answer | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      answer = await runStep(plan, payment, step);
      if (answer.status < 500) return answer;
      const code = codeOf(answer);
      result.failedWrites.push({ orderId: plan.orderId, paymentId: payment.paymentId, step, version: payment.version + 1, status: answer.status, ...(code !== undefined && { code }) });
      if (answer.status === 503 && codeOf(answer) === 'PG_UNAVAILABLE') result.pgUnavailable += 1;
      if (movesMoney && callers.chance('caller-gives-up', `${plan.orderId}#${step}@${attempt}`, options.giveUpRate ?? 0)) {
        gaveUp.add(`${plan.orderId}#${step}`);
        return answer;
      }
      if (attempt < maxAttempts && answer.status === 503 && answer.retryAfter !== undefined) await sleep(answer.retryAfter * 1000 * retryAfterScale);
    }
    return answer as Answer;
  };

  const leaveUnresolved = (plan: PaymentPlan, payment: DrivenPayment, step: Step, answer: Answer) => {
    payment.unresolved = step;
    const code = codeOf(answer);
    const abandoned = gaveUp.has(`${plan.orderId}#${step}`);
    if (abandoned) result.gaveUp += 1;
    result.unresolved.push({ orderId: plan.orderId, paymentId: payment.paymentId, step, status: answer.status, ...(code !== undefined && { code }), gaveUp: abandoned });
  };

  /** The confirm and the cancel at once, then the cancel again if it met the charge in flight. */
  const race = async (plan: PaymentPlan, payment: DrivenPayment): Promise<void> => {
    result.races.total += 1;
    const end = (outcome: RaceOutcome) => {
      payment.race = outcome;
      result.races.outcomes[outcome] += 1;
    };
    // Either may move money (the cancel refunds when the confirm won).
    const [confirmed, cancelled] = await Promise.all([attemptStep(plan, payment, 'confirm', true), attemptStep(plan, payment, 'cancel', true)]);
    const versionOf = (answer: Answer) => (answer.status === 200 && typeof answer.json?.version === 'number' ? answer.json.version : undefined);
    const confirmVersion = versionOf(confirmed);
    const cancelVersion = versionOf(cancelled);
    const confirmRefused = confirmed.status === 409 && codeOf(confirmed) === 'INVALID_STATE_TRANSITION';
    const cancelInProgress = cancelled.status === 409 && codeOf(cancelled) === 'PG_ATTEMPT_IN_PROGRESS';
    payment.version = Math.max(payment.version, confirmVersion ?? 0, cancelVersion ?? 0);

    if (confirmVersion === undefined && !confirmRefused && confirmed.status < 500) unexpected(plan, 'confirm', confirmed);
    if (cancelVersion === undefined && !cancelInProgress && cancelled.status < 500) unexpected(plan, 'cancel', cancelled);
    // A confirm left open decides (a cancel then moved no money: it could refund only an answered charge).
    if (confirmed.status >= 500) leaveUnresolved(plan, payment, 'confirm', confirmed);
    else if (cancelled.status >= 500) leaveUnresolved(plan, payment, 'cancel', cancelled);
    if (payment.unresolved !== undefined) return end('unresolved');

    if (confirmRefused && cancelVersion !== undefined) return end('cancel first, confirm refused');
    if (confirmVersion !== undefined && cancelVersion !== undefined) return end('confirm first, cancel refunded');
    if (confirmVersion !== undefined && cancelInProgress) {
      const again = await attemptStep(plan, payment, 'cancel', true);
      if (again.status >= 500) leaveUnresolved(plan, payment, 'cancel', again);
      else if (again.status !== 200 || typeof again.json?.version !== 'number') unexpected(plan, 'cancel', again);
      else payment.version = again.json.version;
      return end(payment.unresolved === undefined ? 'cancel refused while charging, then sent again' : 'unresolved');
    }
    // Both refused, or an answer already reported as unexpected.
    if (confirmRefused && cancelInProgress) unexpected(plan, 'cancel', cancelled);
    end('unresolved');
  };

  const drive = async (plan: PaymentPlan): Promise<void> => {
    const created = await send(plan, 'create', 'POST', '/payments', JSON.stringify({ orderId: plan.orderId, amount: plan.amount, currency: 'KRW', method: plan.method }));
    if (created.status >= 500) {
      const code = codeOf(created);
      result.failedCreates.push(plan.orderId);
      result.failedWrites.push({ orderId: plan.orderId, step: 'create', version: 1, status: created.status, ...(code !== undefined && { code }) });
      return;
    }
    const paymentId = created.json?.paymentId;
    if (created.status !== 201 || typeof paymentId !== 'string') {
      unexpected(plan, 'create', created);
      return;
    }
    const payment: DrivenPayment = { paymentId, orderId: plan.orderId, version: Number(created.json?.version) };
    result.payments.set(paymentId, payment);
    if (plan.race && isConfirmThenCancel(plan.steps)) return race(plan, payment);
    let charged = false;
    for (const step of plan.steps) {
      // Money moves at the PG for a confirm and for the cancel of an approved payment: an open attempt decides.
      const movesMoney = step === 'confirm' || step === 'decline' || (step === 'cancel' && charged);
      const answer = await attemptStep(plan, payment, step, movesMoney);
      if (answer.status >= 500 && movesMoney) {
        leaveUnresolved(plan, payment, step, answer);
        return;
      }
      if (step === 'cancel' && cancelRefusedOn(options.pg.kind, plan.method, charged)) {
        // Refused by design (see cancelRefusedOn): the payment stays where it was; anything else is unexpected.
        if (answer.status === 422 && codeOf(answer) === 'PG_REJECTED') result.refusedAsExpected += 1;
        else unexpected(plan, step, answer);
        return;
      }
      if (answer.status !== 200 || typeof answer.json?.version !== 'number') {
        unexpected(plan, step, answer);
        return;
      }
      payment.version = answer.json.version;
      if (step === 'confirm' || step === 'deposit') charged = true;
    }
  };

  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < plans.length) {
      const plan = plans[next++] as PaymentPlan;
      await drive(plan);
      done += 1;
      options.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return { ...result, durationMs: Date.now() - started };
}
