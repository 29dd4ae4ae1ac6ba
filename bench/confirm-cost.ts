/**
 * What one confirm costs on the local stack: DynamoDB requests the confirm function makes (by
 * operation, counted on the clients it is given) and its latency through the local API, for
 * confirms one at a time and at a concurrency. The floor is measured in the same run: a GET of the
 * payment (one GetItem) through the same local API, on the same stack.
 *
 *   npx tsx bench/confirm-cost.ts [payments=200] [concurrency=8]
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AwsClients } from '../lambdas/platform/aws-clients';
import { DEFAULT_STATE_DIR } from '../local/paths';
import { prepareRunnerProcess } from '../local/process/runner-process';
import { startLocalStack } from '../local/stack';
import { summarize } from './stats';

export interface ConfirmCost {
  readonly payments: number;
  readonly concurrency: number;
  /** DynamoDB requests of the confirm function per confirm, by command. */
  readonly dynamodbRequestsPerConfirm: Record<string, number>;
  readonly dynamodbRequestsPerConfirmTotal: number;
  readonly confirmLatencyMsSequential: ReturnType<typeof summarize>;
  readonly confirmLatencyMsConcurrent: ReturnType<typeof summarize>;
  /** The ceiling's stand-in: a GET of the payment (one GetItem) through the same local API. */
  readonly getPaymentLatencyMsSequential: ReturnType<typeof summarize>;
}

async function timed(call: () => Promise<Response>): Promise<number> {
  const started = performance.now();
  const response = await call();
  await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return performance.now() - started;
}

export async function runConfirmCost(options: { payments: number; concurrency: number }): Promise<ConfirmCost> {
  const counts: Record<string, number> = {};
  const count = (clients: AwsClients): AwsClients => {
    clients.documents.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        counts[name] = (counts[name] ?? 0) + 1;
        return next(args);
      },
      // Below the document client's marshalling, so each request is counted once, by its wire name.
      { step: 'finalizeRequest', name: 'benchCountRequests' },
    );
    return clients;
  };
  const stack = await startLocalStack({
    apiPort: 0,
    dynamodbPort: 0,
    sqsPort: 0,
    consumers: false,
    schedules: false,
    figuresIntervalSeconds: 0,
    webhookReceiver: false,
    logLevel: 'warn',
    handlerLogLevel: 'ERROR',
    stateDir: join(DEFAULT_STATE_DIR, 'bench-confirm-cost'),
    functionClients: (fn, clients) => (fn.name === 'confirm-payment' ? count(clients) : clients),
  });
  try {
    const post = (path: string, body: unknown) =>
      fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const create = async (i: number): Promise<string> => {
      const response = await post('/payments', { orderId: `bench-${i}`, amount: 1000 + i, currency: 'KRW', method: 'CARD' });
      return ((await response.json()) as { paymentId: string }).paymentId;
    };
    const ids: string[] = [];
    for (let i = 0; i < options.payments * 2; i++) ids.push(await create(i));
    const sequentialIds = ids.slice(0, options.payments);
    const concurrentIds = ids.slice(options.payments);

    const getLatencies: number[] = [];
    for (const id of sequentialIds) getLatencies.push(await timed(() => fetch(`${stack.apiUrl}/payments/${id}`)));

    for (const key of Object.keys(counts)) delete counts[key];
    const sequential: number[] = [];
    for (const id of sequentialIds) sequential.push(await timed(() => post(`/payments/${id}/confirm`, { cardToken: 'tok_visa' })));
    const perConfirm = Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, Math.round((n / options.payments) * 100) / 100]));

    const concurrent: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < concurrentIds.length) {
          const id = concurrentIds[next++] as string;
          concurrent.push(await timed(() => post(`/payments/${id}/confirm`, { cardToken: 'tok_visa' })));
        }
      }),
    );
    return {
      payments: options.payments,
      concurrency: options.concurrency,
      dynamodbRequestsPerConfirm: perConfirm,
      dynamodbRequestsPerConfirmTotal: Math.round(Object.values(perConfirm).reduce((a, b) => a + b, 0) * 100) / 100,
      confirmLatencyMsSequential: summarize(sequential),
      confirmLatencyMsConcurrent: summarize(concurrent),
      getPaymentLatencyMsSequential: summarize(getLatencies),
    };
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  prepareRunnerProcess();
  const [payments = '200', concurrency = '8'] = process.argv.slice(2);
  const result = await runConfirmCost({ payments: Number(payments), concurrency: Number(concurrency) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
