/**
 * Drives payments through the local stack's real HTTP API, as callers and the PG would.
 *
 * The plan comes from the seed: each payment gets an order id `chaos-<seed>-<n>`, a method, an
 * amount and a script of 2 or 3 state changes (the state machine allows at most 3 events per
 * payment: created, approved/failed, cancelled). Half the creates carry an Idempotency-Key, so a
 * failed create must also leave no idempotency record.
 *
 * Failed writes: a create answered 5xx is abandoned (its order id is recorded; nothing may exist
 * for it). A later change answered 5xx is retried, as a caller would ("safe to retry"), up to a
 * bound; each failed attempt is recorded with the version it tried to write. Any other answer
 * (4xx, 409, a 5xx after the last retry, a network error) is "unexpected": a chaos run injects
 * faults below the API, so the API must either succeed or fail cleanly with a 5xx.
 */
import type { PaymentMethod } from '../lambdas/domain/payment';
import { signPgBody } from '../lambdas/functions/pg-deposit-callback/pg-callback-signature';
import type { SeededRandom } from './random';

export type Step = 'confirm' | 'decline' | 'deposit' | 'cancel';

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

/** Events a plan of `payments` payments commits on average when nothing fails. */
export const AVERAGE_EVENTS_PER_PAYMENT =
  SCRIPTS.reduce((sum, script) => sum + script.weight * (1 + script.steps.length), 0) / SCRIPTS.reduce((sum, script) => sum + script.weight, 0);

export interface PaymentPlan {
  readonly index: number;
  readonly orderId: string;
  readonly method: PaymentMethod;
  readonly amount: number;
  readonly steps: readonly Step[];
  readonly idempotencyKey?: string;
}

export function planPayments(random: SeededRandom, count: number): PaymentPlan[] {
  const plans: PaymentPlan[] = [];
  for (let index = 0; index < count; index++) {
    const script = random.weighted(SCRIPTS.map((s) => [s, s.weight] as const));
    const amount = 1_000 + random.int(500) * 100;
    const withKey = random.next() < 0.5;
    plans.push({
      index,
      orderId: `chaos-${random.seed}-${index}`,
      method: script.method,
      amount,
      steps: script.steps,
      ...(withKey && { idempotencyKey: `chaos-${random.seed}-${index}-create` }),
    });
  }
  return plans;
}

export interface DrivenPayment {
  readonly paymentId: string;
  readonly orderId: string;
  /** The version of the last successful answer: the number of events the payment must have. */
  version: number;
}

export interface FailedWrite {
  readonly orderId: string;
  readonly paymentId?: string;
  readonly step: 'create' | Step;
  /** The version the write would have produced. */
  readonly version: number;
  readonly status: number;
}

export interface UnexpectedAnswer {
  readonly orderId: string;
  readonly step: 'create' | Step;
  readonly status: number;
  readonly body: string;
}

export interface DriveResult {
  /** Created payments by payment id. */
  readonly payments: Map<string, DrivenPayment>;
  /** Order ids whose create failed (5xx): nothing may exist for them. */
  readonly failedCreates: string[];
  /** Every 5xx answer to a write, creates included. */
  readonly failedWrites: FailedWrite[];
  readonly unexpected: UnexpectedAnswer[];
  readonly requests: number;
  readonly durationMs: number;
}

export interface DriveOptions {
  readonly apiUrl: string;
  readonly pgCallbackSecret: string;
  readonly concurrency: number;
  /** Attempts of a change answered 5xx (creates are never retried). @default 5 */
  readonly maxAttempts?: number;
  /** Called after each payment's script finished. */
  readonly onProgress?: (done: number) => void;
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: Record<string, unknown> | undefined;
}

async function call(apiUrl: string, method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  try {
    const response = await fetch(`${apiUrl}${path}`, { method, body, headers: { 'Content-Type': 'application/json', ...headers } });
    const text = await response.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  } catch (error) {
    return { status: 0, text: `network error: ${error instanceof Error ? error.message : String(error)}`, json: undefined };
  }
}

export async function drivePayments(plans: readonly PaymentPlan[], options: DriveOptions): Promise<DriveResult> {
  const started = Date.now();
  const maxAttempts = options.maxAttempts ?? 5;
  const result: { -readonly [K in keyof DriveResult]: DriveResult[K] } = {
    payments: new Map(),
    failedCreates: [],
    failedWrites: [],
    unexpected: [],
    requests: 0,
    durationMs: 0,
  };
  const unexpected = (plan: PaymentPlan, step: 'create' | Step, answer: Answer) =>
    result.unexpected.push({ orderId: plan.orderId, step, status: answer.status, body: answer.text.slice(0, 300) });

  const runStep = (plan: PaymentPlan, paymentId: string, step: Step): Promise<Answer> => {
    result.requests += 1;
    switch (step) {
      case 'confirm':
      case 'decline':
        return call(options.apiUrl, 'POST', `/payments/${paymentId}/confirm`, JSON.stringify({ cardToken: step === 'confirm' ? 'tok_visa' : 'tok_decline_chaos' }));
      case 'cancel':
        return call(options.apiUrl, 'POST', `/payments/${paymentId}/cancel`, JSON.stringify({ reason: 'chaos run' }));
      case 'deposit': {
        const body = JSON.stringify({ pgTransactionId: `pg-${plan.orderId}`, paymentId, amount: plan.amount, depositedAt: new Date().toISOString() });
        return call(options.apiUrl, 'POST', '/pg/webhooks/deposits', body, { 'X-PG-Signature': signPgBody(body, options.pgCallbackSecret) });
      }
    }
  };

  const drive = async (plan: PaymentPlan): Promise<void> => {
    result.requests += 1;
    const created = await call(
      options.apiUrl,
      'POST',
      '/payments',
      JSON.stringify({ orderId: plan.orderId, amount: plan.amount, currency: 'KRW', method: plan.method }),
      plan.idempotencyKey ? { 'Idempotency-Key': plan.idempotencyKey } : {},
    );
    if (created.status >= 500) {
      result.failedCreates.push(plan.orderId);
      result.failedWrites.push({ orderId: plan.orderId, step: 'create', version: 1, status: created.status });
      return;
    }
    const paymentId = created.json?.paymentId;
    if (created.status !== 201 || typeof paymentId !== 'string') {
      unexpected(plan, 'create', created);
      return;
    }
    const payment: DrivenPayment = { paymentId, orderId: plan.orderId, version: Number(created.json?.version) };
    result.payments.set(paymentId, payment);
    for (const step of plan.steps) {
      let answer: Answer | undefined;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        answer = await runStep(plan, paymentId, step);
        if (answer.status < 500) break;
        result.failedWrites.push({ orderId: plan.orderId, paymentId, step, version: payment.version + 1, status: answer.status });
      }
      if (answer?.status !== 200 || typeof answer.json?.version !== 'number') {
        if (answer) unexpected(plan, step, answer);
        return;
      }
      payment.version = answer.json.version;
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
