import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { OPEN_ATTEMPTS_INDEX } from '../../lambdas/domain/pg-attempt-keys';
import { ENV } from '../../lambdas/platform/env-names';
import type { IPaymentGateway } from './payment-gateway';
import { PaymentFunction, type TableItemAction } from './payment-function';
import { validateDurationInRange, validateIntegerInRange } from './validation';

/** Handler entry of the PG reconciler. */
export const PG_RECONCILER_ENTRY = 'lambdas/functions/pg-reconciler/entry.ts';

/**
 * What the reconciler does to Payments items (`PAYMENTS_TABLE_NAME`): `GetItem` reads the payment of an
 * attempt; `PutItem` (conditioned on its version) writes the outcome, inside the commit's `TransactWriteItems`.
 */
export const RECONCILER_PAYMENTS_ACTIONS: readonly TableItemAction[] = ['GetItem', 'PutItem'];

/** What the reconciler does to Outbox items (`OUTBOX_TABLE_NAME`): `PutItem` of the outcome's event, inside the commit's `TransactWriteItems`. */
export const RECONCILER_OUTBOX_ACTIONS: readonly TableItemAction[] = ['PutItem'];

/**
 * What the reconciler does to PG attempt items (`PG_ATTEMPTS_TABLE_NAME`): `PutItem` of the closed attempt,
 * conditioned on it being still open at its generation, inside the commit's `TransactWriteItems` or alone
 * (an attempt the PG never saw). Open attempts are found through the `OpenAttempts` index (granted on its own ARN).
 */
export const RECONCILER_PG_ATTEMPTS_ACTIONS: readonly TableItemAction[] = ['PutItem'];

/** Props of {@link PgReconciler}. */
export interface PgReconcilerProps {
  /** The Payments table (`PAYMENTS_TABLE_NAME`): the reconciler reads an attempt's payment and commits its outcome. */
  readonly paymentsTable: dynamodb.ITable;

  /** The Outbox table (`OUTBOX_TABLE_NAME`): the reconciler writes the outcome's event in the same transaction. */
  readonly outboxTable: dynamodb.ITable;

  /**
   * The idempotency table. Only its name is passed (`IDEMPOTENCY_TABLE_NAME`, part of the payment service's
   * configuration); no access is granted: the reconciler writes no idempotency record.
   */
  readonly idempotencyTable: dynamodb.ITable;

  /**
   * The PG attempts table (`PG_ATTEMPTS_TABLE_NAME`). It must have the `OpenAttempts` index (see PaymentTables):
   * the reconciler queries it for open attempts and closes them.
   */
  readonly pgAttemptsTable: dynamodb.ITable;

  /**
   * The payment gateway the reconciler looks attempts up at, bound with `lookup` access: `PAYMENT_GATEWAY` and
   * the PG's own settings. The sandbox grants consistent `GetItem` on its ledger (`SANDBOX_PG_LEDGER_TABLE_NAME`),
   * Toss read access to its secret key (`TOSS_SECRET_KEY_ARN`); see {@link IPaymentGateway.bind}.
   */
  readonly paymentGateway: IPaymentGateway;

  /**
   * Outbox retention in days (`OUTBOX_RETENTION_DAYS`), an integer between 2 and 365: the TTL of the events the
   * reconciler commits, the same as the payment API's.
   *
   * @default 30
   */
  readonly retentionDays?: number;

  /**
   * How long a PG attempt may stay open before the reconciler takes it (`RECONCILER_GRACE_SECONDS`), whole
   * seconds between 1 second and 24 hours. It must exceed the confirm/cancel functions' timeout and the PG's,
   * so no request of the attempt is still in flight; too short only costs lost races (the commit is conditioned).
   *
   * @default Duration.seconds(120)
   */
  readonly gracePeriod?: Duration;

  /**
   * Most open attempts one run reads (`RECONCILER_MAX_ATTEMPTS`), an integer between 1 and 1000: the run's
   * work bound (each attempt is a PG lookup and a commit), so a backlog is worked off over several runs.
   *
   * @default 200
   */
  readonly maxAttemptsPerRun?: number;

  /**
   * How often the reconciler runs: an EventBridge rule with `rate(...)`, whole minutes between 1 minute and 1 hour.
   *
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;

  /**
   * Timeout of the reconciler function, between 1 second and `interval`, so a run normally ends before the next is due.
   *
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
}

/**
 * The PG reconciler: a scheduled function that closes PG attempts left open past a grace period (a lost
 * PG answer, a killed function, a PG outage) by looking them up at the PG under the attempt's idempotency
 * key, and commits the outcome (approved, declined, refunded) with its event, in one `TransactWriteItems`
 * that also closes the attempt. An attempt the PG never saw is closed without a payment change. Emits
 * `OldestOpenPgAttemptAgeSeconds`, `PgAttemptsReconciled` and `PgReconcileFailures`.
 *
 * No reserved concurrency (new accounts have an account concurrency quota of 10, too little to reserve
 * from): two runs may overlap, and that is harmless, since every commit is conditioned on the attempt
 * still being open at its generation (and the payment on its version), so of two runs taking the same
 * attempt one commits and the other loses the condition and moves on. A failed run is not retried and
 * an invocation that could not start within one interval is dropped: the next scheduled run is the
 * retry. The EventBridge rule has a plain `rate(...)` schedule and targets the function directly (the
 * local runner plays it from the template).
 *
 * Grants: `dynamodb:GetItem` + `dynamodb:PutItem` on the Payments table ARN, `dynamodb:PutItem` on the
 * Outbox and PG attempts table ARNs, `dynamodb:Query` on the `OpenAttempts` index ARN, and what the payment
 * gateway's `lookup` binding grants (the sandbox: `dynamodb:GetItem` on its ledger table ARN; Toss: reading
 * its secret key). Nothing on the idempotency table, nothing else.
 */
export class PgReconciler extends Construct {
  /** The reconciler function. */
  public readonly reconcilerFunction: PaymentFunction;
  /** The EventBridge rule that runs it. */
  public readonly schedule: events.Rule;
  /** Validated grace period. */
  public readonly gracePeriod: Duration;
  /** Validated interval between runs. */
  public readonly interval: Duration;

  constructor(scope: Construct, id: string, props: PgReconcilerProps) {
    super(scope, id);

    const retentionDays = props.retentionDays ?? 30;
    validateIntegerInRange(this, 'retentionDays', retentionDays, 2, 365);
    this.gracePeriod = props.gracePeriod ?? Duration.seconds(120);
    validateDurationInRange(this, 'gracePeriod', this.gracePeriod, Duration.seconds(1), Duration.hours(24));
    const maxAttemptsPerRun = props.maxAttemptsPerRun ?? 200;
    validateIntegerInRange(this, 'maxAttemptsPerRun', maxAttemptsPerRun, 1, 1000);
    this.interval = props.interval ?? Duration.minutes(1);
    validateDurationInRange(this, 'interval', this.interval, Duration.minutes(1), Duration.hours(1));
    if (this.interval.toSeconds() % 60 !== 0) {
      throw new Error(`${this.node.path}: interval must be a whole number of minutes (got ${this.interval.toHumanString()})`);
    }
    const timeout = props.timeout ?? Duration.seconds(60);
    validateDurationInRange(this, 'timeout', timeout, Duration.seconds(1), this.interval);
    if (props.pgAttemptsTable instanceof dynamodb.Table) {
      try {
        props.pgAttemptsTable.schemaV2(OPEN_ATTEMPTS_INDEX);
      } catch {
        throw new Error(`${this.node.path}: pgAttemptsTable must have the ${OPEN_ATTEMPTS_INDEX} index (see PaymentTables)`);
      }
    }

    this.reconcilerFunction = new PaymentFunction(this, 'Function', {
      entry: PG_RECONCILER_ENTRY,
      description: 'Scheduled: closes PG attempts open past the grace period with the PG outcome; oldest open attempt age',
      timeout,
      // No reserved concurrency: overlapping runs are safe (every commit is conditioned on the attempt's generation).
      environment: {
        [ENV.idempotencyTable]: props.idempotencyTable.tableName,
        [ENV.outboxRetentionDays]: String(retentionDays),
        [ENV.reconcilerGraceSeconds]: String(this.gracePeriod.toSeconds()),
        [ENV.reconcilerMaxAttempts]: String(maxAttemptsPerRun),
      },
    });
    this.reconcilerFunction.bindTable(ENV.paymentsTable, props.paymentsTable, { actions: RECONCILER_PAYMENTS_ACTIONS });
    this.reconcilerFunction.bindTable(ENV.outboxTable, props.outboxTable, { actions: RECONCILER_OUTBOX_ACTIONS });
    this.reconcilerFunction.bindTable(ENV.pgAttemptsTable, props.pgAttemptsTable, {
      actions: RECONCILER_PG_ATTEMPTS_ACTIONS,
      queryIndexes: [OPEN_ATTEMPTS_INDEX],
    });
    props.paymentGateway.bind(this.reconcilerFunction, 'lookup');

    // A run that fails is not retried and one that could not start within an interval is dropped:
    // the next scheduled run does the same work.
    this.reconcilerFunction.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: this.interval,
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs the PG reconciler every ${this.interval.toHumanString()}`,
      schedule: events.Schedule.rate(this.interval),
      targets: [new targets.LambdaFunction(this.reconcilerFunction.function, { retryAttempts: 0 })],
    });
  }
}
