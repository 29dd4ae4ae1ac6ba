/**
 * The outbox sweeper in a chaos run: the real use case (lambdas/use-cases/sweep-pending.ts) over
 * SDK clients of its own, which the run gives the same fault middlewares as the functions'
 * (chaos-run.ts), so it meets the same publish faults as the relay.
 * - `SweeperRace` runs it on a short timer with a tiny grace period while the relay works, so both
 *   publish the same pending events at the same time (same deduplication ids; consumers skip
 *   what they already applied).
 * - `sweepUntilNothingPending` runs it with grace 0 at the end, until the PendingEvents index is empty.
 */
import type { AwsClients } from '../lambdas/platform/aws-clients';
import { DynamoDbPublicationLedger } from '../lambdas/adapters/dynamodb-publication-ledger';
import { SnsEventPublisher } from '../lambdas/adapters/sns-event-publisher';
import { PENDING_SHARDS } from '../lambdas/domain/pending-shards';
import type { PublicationLedger } from '../lambdas/ports/publication-ledger';
import { sweepPending, type SweepDependencies } from '../lambdas/use-cases/sweep-pending';
import {
  EXAMPLE_CONSUMER_DLQ_NAME,
  EXAMPLE_CONSUMER_QUEUE_NAME,
  PAYMENT_EVENTS_TOPIC_NAME,
  RELAY_FAILURES_QUEUE_NAME,
} from '../lambdas/platform/resource-names';
import type { LocalStack } from '../local/stack';

/** The topic the relay and the sweeper publish to, and the example consumer's queues (lambdas/platform/resource-names.ts). */
export const PAYMENT_EVENTS_TOPIC = PAYMENT_EVENTS_TOPIC_NAME;
export const PAYMENT_EVENTS_QUEUE = EXAMPLE_CONSUMER_QUEUE_NAME;
export const PAYMENT_EVENTS_DLQ = EXAMPLE_CONSUMER_DLQ_NAME;
export const RELAY_FAILURES_QUEUE = RELAY_FAILURES_QUEUE_NAME;
/** The stack's pollers chaos hooks into (a poller is named after its function's folder). */
export const RELAY_POLLER = 'outbox-relay';
export const CONSUMER_POLLER = 'example-consumer';

export interface SweeperDependencies extends SweepDependencies {
  readonly ledger: PublicationLedger;
}

/**
 * The sweeper's ledger and publisher on `clients` (the caller's: chaos passes clients of the
 * sweeper's own, with the fault middlewares installed, and destroys them at the end).
 */
export function sweeperDependencies(stack: LocalStack, clients: Pick<AwsClients, 'documents' | 'sns'>): SweeperDependencies {
  const clock = { now: () => new Date() };
  return {
    ledger: new DynamoDbPublicationLedger(clients.documents, { tableName: stack.tableName('Outbox') }, clock),
    publisher: new SnsEventPublisher(clients.sns, stack.topicArn(PAYMENT_EVENTS_TOPIC)),
  };
}

export interface SweeperRaceStats {
  runs: number;
  /** Events the racing runs republished (the topic accepted them). */
  republished: number;
  /** Pending events a run found but could not republish (the next run retries). */
  failed: number;
  /** Runs that threw. */
  errors: number;
}

export class SweeperRace {
  readonly stats: SweeperRaceStats = { runs: 0, republished: 0, failed: 0, errors: 0 };
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly dependencies: SweeperDependencies,
    private readonly options: { readonly intervalMs: number; readonly graceSeconds: number; readonly limit?: number },
  ) {}

  start(): void {
    this.stopping = false;
    this.running ??= this.loop();
  }

  /** Stops the timer; resolves when the run under way finished. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        const report = await sweepPending(
          { now: new Date(), graceSeconds: this.options.graceSeconds, limit: this.options.limit ?? 1_000 },
          this.dependencies,
        );
        this.stats.runs += 1;
        this.stats.republished += report.republished;
        this.stats.failed += report.failed;
      } catch {
        this.stats.errors += 1;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** Pending events left in the PendingEvents index (all shards). */
export async function countPending(ledger: PublicationLedger): Promise<number> {
  let count = 0;
  for (const shard of PENDING_SHARDS) {
    let cursor: Awaited<ReturnType<PublicationLedger['listPending']>>['cursor'];
    do {
      const page = await ledger.listPending(shard, { occurredBefore: '9999-12-31T23:59:59.999Z', limit: 1_000, ...(cursor && { cursor }) });
      count += page.scanned;
      cursor = page.cursor;
    } while (cursor);
  }
  return count;
}

export interface FinalSweepReport {
  readonly rounds: number;
  readonly republished: number;
  /** Pending events still in the index after the last round (0 when the sweep succeeded). */
  readonly remaining: number;
}

/** Sweeps with grace 0 until nothing is pending, at most `maxRounds` runs. */
export async function sweepUntilNothingPending(dependencies: SweeperDependencies, maxRounds = 50): Promise<FinalSweepReport> {
  let republished = 0;
  let rounds = 0;
  let remaining = await countPending(dependencies.ledger);
  while (remaining > 0 && rounds < maxRounds) {
    const report = await sweepPending({ now: new Date(Date.now() + 1_000), graceSeconds: 0, limit: 1_000 }, dependencies);
    rounds += 1;
    republished += report.republished;
    remaining = await countPending(dependencies.ledger);
  }
  return { rounds, republished, remaining };
}
