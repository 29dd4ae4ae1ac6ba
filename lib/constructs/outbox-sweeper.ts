import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/platform/env-names';
import { PENDING_EVENTS_INDEX_NAME } from '../../lambdas/domain/pending-shards';
import { PaymentFunction, type TableItemAction } from './payment-function';
import { validateDurationInRange, validateIntegerInRange } from './validation';

/** Handler entry of the sweeper. */
export const SWEEPER_ENTRY = 'lambdas/functions/outbox-sweeper/entry.ts';

/**
 * What the sweeper does to Outbox items (`OUTBOX_TABLE_NAME`): `Query` on the `PendingEvents` index
 * finds pending events, a consistent `Query` of the table reads each payment's partition, `UpdateItem`
 * marks republished events.
 */
export const SWEEPER_OUTBOX_ACTIONS: readonly TableItemAction[] = ['Query', 'UpdateItem'];

/** Props of {@link OutboxSweeper}. */
export interface OutboxSweeperProps {
  /**
   * The Outbox table. It must have the `PendingEvents` index (see PaymentTables): the sweeper queries it
   * and its own partitions, and marks what it republished (`OUTBOX_TABLE_NAME`).
   */
  readonly outboxTable: dynamodb.ITable;

  /** The FIFO topic to republish to (`PAYMENT_EVENTS_TOPIC_ARN`), the relay's topic. The sweeper may only publish to it. */
  readonly eventTopic: ITopic;

  /**
   * How long an event may stay pending before the sweeper republishes it (`SWEEPER_GRACE_SECONDS`), whole
   * seconds between 1 second and 24 hours. Shorter than this, the relay is still expected to publish it;
   * too short only costs duplicate sends (same deduplication id, idempotent consumers).
   *
   * @default Duration.seconds(120)
   */
  readonly gracePeriod?: Duration;

  /**
   * Most pending index items one run reads (`SWEEPER_MAX_EVENTS`), an integer between 1 and 10000:
   * the run's work bound, so a backlog is worked off over several runs within the timeout.
   *
   * @default 1000
   */
  readonly maxEventsPerRun?: number;

  /**
   * How often the sweeper runs: an EventBridge rule with `rate(...)`, whole minutes between 1 minute and 1 hour.
   *
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;

  /**
   * Timeout of the sweeper function, between 1 second and `interval`: a run normally ends before the
   * next one is due. Runs may still overlap (nothing is reserved: an invocation can start late), which
   * only costs duplicate publishes (see {@link OutboxSweeper}).
   *
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
}

/**
 * The outbox sweeper: a scheduled function that republishes events still pending (in the sparse
 * `PendingEvents` index) after a grace period, with their original deduplication id, marks them
 * published, and emits `OldestPendingAgeSeconds`. It covers events the stream lost (24 h retention,
 * a disabled stream, records sent to the relay's on-failure queue) and relay bugs.
 *
 * Reserves no concurrency: a new account's concurrency quota (10) leaves none to reserve once the
 * unreserved minimum is kept, and a reservation would make `cdk deploy` roll back there. Two runs may
 * therefore overlap (a late invocation, a slow run), and that is harmless: each run publishes a payment's
 * events in sequence order from the first one its consistent read shows pending, with the event's own id
 * as FIFO deduplication id (the topic drops the second copy within its 5-minute window, consumers drop
 * it later), and marks an event published only after the topic accepted it, idempotently (`REMOVE
 * pendingShard`, `publishedAt` kept from the first mark). An invocation that could not start within one
 * interval (throttled) is dropped rather than retried, so runs do not pile up; the next scheduled run is
 * the retry. The EventBridge rule has a plain `rate(...)` schedule and targets the function directly (the
 * local runner plays it from the template).
 *
 * Grants: `dynamodb:Query` + `dynamodb:UpdateItem` on the Outbox table ARN, `dynamodb:Query` on the
 * `PendingEvents` index ARN, `sns:Publish` on the event topic. Nothing else.
 */
export class OutboxSweeper extends Construct {
  /** The sweeper function. */
  public readonly sweeperFunction: PaymentFunction;
  /** The EventBridge rule that runs it. */
  public readonly schedule: events.Rule;
  /** Validated grace period. */
  public readonly gracePeriod: Duration;
  /** Validated interval between runs. */
  public readonly interval: Duration;

  constructor(scope: Construct, id: string, props: OutboxSweeperProps) {
    super(scope, id);

    this.gracePeriod = props.gracePeriod ?? Duration.seconds(120);
    validateDurationInRange(this, 'gracePeriod', this.gracePeriod, Duration.seconds(1), Duration.hours(24));
    const maxEventsPerRun = props.maxEventsPerRun ?? 1000;
    validateIntegerInRange(this, 'maxEventsPerRun', maxEventsPerRun, 1, 10_000);
    this.interval = props.interval ?? Duration.minutes(1);
    validateDurationInRange(this, 'interval', this.interval, Duration.minutes(1), Duration.hours(1));
    if (this.interval.toSeconds() % 60 !== 0) {
      throw new Error(`${this.node.path}: interval must be a whole number of minutes (got ${this.interval.toHumanString()})`);
    }
    const timeout = props.timeout ?? Duration.seconds(60);
    validateDurationInRange(this, 'timeout', timeout, Duration.seconds(1), this.interval);
    if (props.eventTopic.fifo !== true) {
      throw new Error(`${this.node.path}: eventTopic must be a FIFO topic (the sweeper republishes with the events' group and deduplication ids)`);
    }
    if (props.outboxTable instanceof dynamodb.Table) {
      try {
        props.outboxTable.schemaV2(PENDING_EVENTS_INDEX_NAME);
      } catch {
        throw new Error(`${this.node.path}: outboxTable must have the ${PENDING_EVENTS_INDEX_NAME} index (see PaymentTables)`);
      }
    }

    this.sweeperFunction = new PaymentFunction(this, 'Function', {
      entry: SWEEPER_ENTRY,
      description: 'Scheduled: republishes outbox events still pending after the grace period; oldest pending age',
      timeout,
      // No reserved concurrency (new accounts cannot reserve any): overlapping runs are harmless.
      environment: {
        [ENV.sweeperGraceSeconds]: String(this.gracePeriod.toSeconds()),
        [ENV.sweeperMaxEvents]: String(maxEventsPerRun),
      },
    });
    this.sweeperFunction.bindTable(ENV.outboxTable, props.outboxTable, {
      actions: SWEEPER_OUTBOX_ACTIONS,
      queryIndexes: [PENDING_EVENTS_INDEX_NAME],
    });
    this.sweeperFunction.bindTopic(ENV.paymentEventsTopicArn, props.eventTopic, 'publish');

    // A run that fails is not retried and one that could not start within a whole interval (throttled)
    // is dropped: the next scheduled run does the same work.
    this.sweeperFunction.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: this.interval,
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs the outbox sweeper every ${this.interval.toHumanString()}`,
      schedule: events.Schedule.rate(this.interval),
      targets: [new targets.LambdaFunction(this.sweeperFunction.function, { retryAttempts: 0 })],
    });
  }
}
