import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/platform/env-names';
import { serializeSubscribers, type Subscriber } from '../../lambdas/domain/subscribers';
import type { IPaymentGateway, PaymentGatewayKind } from './payment-gateway';
import { type NarrowTableAccess, PaymentFunction, type TableItemAction } from './payment-function';
import { stagedName, stageOf } from './stage';
import { validateDurationInRange, validateIntegerInRange } from './validation';

/** How a route authenticates its caller. */
export type RouteAuth =
  /** SigV4-signed request, authorized by IAM (`execute-api:Invoke`). */
  | 'iam'
  /** No API Gateway authorizer: the handler verifies the `X-PG-Signature` HMAC with the PG callback secret (the sandbox PG). */
  | 'hmac'
  /**
   * No API Gateway authorizer: the PG does not sign its callbacks (Toss). The handler checks the per-payment
   * callback secret in the body against the one stored when the virtual account was issued (PG attempts
   * table, sort key `callback-secret`), then looks the payment up at the PG before changing anything.
   */
  | 'pg-secret';

/**
 * The tables a route function may be bound to. The PG's own resources (the sandbox ledger, the Toss
 * secret key) are not tables of the routes: a route that calls the PG is bound to the stack's
 * {@link IPaymentGateway} instead ({@link PaymentApiRoute.callsPg}).
 */
export type RouteTable = 'payments' | 'outbox' | 'idempotency' | 'deliveries' | 'pgAttempts';

/** Environment variable of each table a route function is bound to. */
export const ROUTE_TABLE_ENV: Readonly<Record<RouteTable, string>> = {
  payments: ENV.paymentsTable,
  outbox: ENV.outboxTable,
  idempotency: ENV.idempotencyTable,
  deliveries: ENV.deliveriesTable,
  pgAttempts: ENV.pgAttemptsTable,
};

/** Most characters of `SUBSCRIBERS_JSON`: Lambda allows 4 KB of environment per function, the rest is for the other variables. */
export const MAX_SUBSCRIBERS_JSON_LENGTH = 3_000;

/** One API route and the function serving it. */
export interface PaymentApiRoute {
  /** Construct id of the route's function, stable: renaming it replaces the function. */
  readonly id: string;
  /** HTTP method. */
  readonly method: 'GET' | 'POST';
  /** Resource path, with `{param}` placeholders. */
  readonly path: string;
  /** Repo-relative handler entry. */
  readonly entry: string;
  /** Caller authentication. */
  readonly auth: RouteAuth;
  /**
   * The tables the function is bound to (name variable + grant), each with exactly the item actions its code
   * calls (no `read`/`readWrite` preset); no other table.
   */
  readonly tables: Readonly<Partial<Record<RouteTable, NarrowTableAccess>>>;
  /**
   * Tables whose name variable the handler's configuration requires (lambdas/functions/shared/payment-api.ts
   * reads all three payment tables) but that the function never reads or writes: the name is set, nothing is
   * granted.
   *
   * @default - none
   */
  readonly tableNamesOnly?: readonly RouteTable[];
  /** Whether the function gets the subscriber list (`SUBSCRIBERS_JSON`). */
  readonly subscribers?: boolean;
  /**
   * Whether the function calls the PG: it is bound to the stack's payment gateway (`PAYMENT_GATEWAY` and the
   * gateway's own variables and grants, see {@link IPaymentGateway.bind}) with `call` access.
   */
  readonly callsPg?: boolean;
}

/*
 * The DynamoDB item actions of each route, read off its code path (lambdas/functions/<route>/ → use case →
 * lambdas/adapters/dynamodb-payment-repository.ts). A TransactWriteItems is authorized item by item: a `Put`
 * needs dynamodb:PutItem, an `Update` dynamodb:UpdateItem, a `ConditionCheck` dynamodb:ConditionCheckItem, and a
 * TransactGetItems' `Get` dynamodb:GetItem ("Using IAM with DynamoDB transactions", DynamoDB developer guide); the
 * transaction itself has no action.
 * Nothing here uses Scan, DeleteItem, BatchGetItem or BatchWriteItem, and no route updates an item in place
 * (every write is a conditioned Put). test/integration/iam-grants.test.ts records the calls each function
 * really makes on the local stack and checks them against these grants, both ways.
 */

/** Payments, for a new payment: never read (a fresh id cannot exist; the commit's condition guards it). */
const CREATE_PAYMENTS = [
  'PutItem', // repository.commit: the transaction's Put of the payment (conditioned on not existing)
] as const;

/** Payments, for a change of a payment (commitWithRetries in lambdas/use-cases/apply-change.ts). */
const CHANGE_PAYMENTS = [
  'GetItem', // repository.readForChange: the payment's Get in the round's one read (GetItem or TransactGetItems)
  ...CREATE_PAYMENTS, // repository.commit: the Put is conditioned on the payment's version instead
] as const;

/** Outbox, for a change. */
const CHANGE_OUTBOX = [
  'PutItem', // repository.commit: the transaction's Put of the event (conditioned on not existing)
] as const;

/** Idempotency, for a change keyed by an Idempotency-Key or a PG transaction id. */
const CHANGE_IDEMPOTENCY = [
  'GetItem', // the replay check, every round: the record's Get in readForChange's TransactGetItems (create: getIdempotencyRecord)
  'PutItem', // repository.commit: the transaction's Put of the record (conditioned on not existing)
] as const;

/** Payments, for a change that opens a PG attempt (confirm; cancel with a refund). */
const MONEY_CHANGE_PAYMENTS = [
  ...CHANGE_PAYMENTS,
  'ConditionCheckItem', // repository.openAttempt: the transaction's ConditionCheck of the payment's version
] as const;

/**
 * PG attempts of confirm (authorize). No Query, UpdateItem, DeleteItem, BatchWriteItem or Scan: a payment's
 * attempts are read by key (one per operation) with the payment, written whole, never deleted, and nothing
 * lists them all but the reconciler (through the OpenAttempts index).
 */
const CONFIRM_PG_ATTEMPTS = [
  'PutItem', // repository.openAttempt (transaction Put), closeAttempt (PutItem), commit's Put closing the attempt
  'GetItem', // repository.readForChange: one Get per operation in the TransactGetItems that reads the payment
] as const;

/** PG attempts of cancel (refund, or a cancel that calls no PG). */
const CANCEL_PG_ATTEMPTS = [
  ...CONFIRM_PG_ATTEMPTS,
  'ConditionCheckItem', // repository.commit: a cancel without refund checks that no attempt is open (AttemptGuard.noneOpen)
] as const;

/** A route's access to one table: exactly these item actions on the table ARN, no index. */
const actions = (list: readonly TableItemAction[]): NarrowTableAccess => ({ actions: list });

/** Default {@link PaymentApiProps.pgCallbackThrottlingRateLimit}. */
export const DEFAULT_PG_CALLBACK_RATE_LIMIT = 10;
/** Default {@link PaymentApiProps.pgCallbackThrottlingBurstLimit}. */
export const DEFAULT_PG_CALLBACK_BURST_LIMIT = 20;
/** Default {@link PaymentApiProps.pgWebAclRateLimit}. */
export const DEFAULT_PG_WEB_ACL_RATE_LIMIT = 1_500;

/** Path of the sandbox PG's deposit callback route (HMAC-signed). */
export const SANDBOX_DEPOSIT_CALLBACK_PATH = '/pg/webhooks/deposits';

/** Path of Toss Payments' deposit callback route: the webhook URL to register in Toss's developer center is the API URL + this. */
export const TOSS_DEPOSIT_CALLBACK_PATH = '/pg/webhooks/toss';

/**
 * The API contract on a stack whose PG is `gateway`: one function per route. The caller routes are the
 * same on every PG; the PG's deposit callback is the PG's own: `POST /pg/webhooks/deposits` (HMAC,
 * PgDepositCallback) on the sandbox, `POST /pg/webhooks/toss` (per-payment callback secret,
 * TossDepositCallback) on Toss.
 */
export function paymentApiRoutes(gateway: PaymentGatewayKind): readonly PaymentApiRoute[] {
  /** What every change commits: the payment, its event and (with a key) the idempotency record. */
  const changeTables = {
    payments: actions(CHANGE_PAYMENTS),
    outbox: actions(CHANGE_OUTBOX),
    idempotency: actions(CHANGE_IDEMPOTENCY),
  } as const;
  /** What a change that moves money commits, with its attempt. */
  const moneyChangeTables = { ...changeTables, payments: actions(MONEY_CHANGE_PAYMENTS) } as const;
  return [
    {
      id: 'CreatePayment',
      method: 'POST',
      path: '/payments',
      entry: 'lambdas/functions/create-payment/entry.ts',
      auth: 'iam',
      // Issues virtual accounts at the PG. Moves no money, so no attempt; on Toss, the callback secret Toss
      // issues with a virtual account is written to the PG attempts table inside the create transaction.
      tables: {
        ...changeTables,
        payments: actions(CREATE_PAYMENTS),
        ...(gateway === 'toss' && {
          pgAttempts: actions([
            'PutItem', // repository.commit: the transaction's Put of the `callback-secret` item (AttemptGuard.callbackSecret)
          ]),
        }),
      },
      callsPg: true,
    },
    {
      id: 'GetPayment',
      method: 'GET',
      path: '/payments/{paymentId}',
      entry: 'lambdas/functions/get-payment/entry.ts',
      auth: 'iam',
      tables: {
        payments: actions([
          'GetItem', // getPaymentUseCase → repository.getPayment
        ]),
      },
      tableNamesOnly: ['outbox', 'idempotency'],
    },
    {
      id: 'ConfirmPayment',
      method: 'POST',
      path: '/payments/{paymentId}/confirm',
      entry: 'lambdas/functions/confirm-payment/entry.ts',
      auth: 'iam',
      tables: { ...moneyChangeTables, pgAttempts: actions(CONFIRM_PG_ATTEMPTS) },
      callsPg: true,
    },
    {
      id: 'CancelPayment',
      method: 'POST',
      path: '/payments/{paymentId}/cancel',
      entry: 'lambdas/functions/cancel-payment/entry.ts',
      auth: 'iam',
      tables: { ...moneyChangeTables, pgAttempts: actions(CANCEL_PG_ATTEMPTS) },
      callsPg: true,
    },
    {
      id: 'ListPaymentEvents',
      method: 'GET',
      path: '/payments/{paymentId}/events',
      entry: 'lambdas/functions/list-payment-events/entry.ts',
      auth: 'iam',
      tables: {
        payments: actions([
          'GetItem', // listPaymentEventsUseCase → repository.getPayment (404 when absent)
        ]),
        outbox: actions([
          'Query', // repository.listEvents → queryOutboxPartition: consistent Query of the payment's partition
        ]),
      },
      tableNamesOnly: ['idempotency'],
    },
    {
      id: 'ListPaymentDeliveries',
      method: 'GET',
      path: '/payments/{paymentId}/deliveries',
      entry: 'lambdas/functions/list-payment-deliveries/entry.ts',
      auth: 'iam',
      tables: {
        payments: actions([
          'GetItem', // DynamoDbPaymentEventsReader.paymentExists
        ]),
        outbox: actions([
          'Query', // DynamoDbPaymentEventsReader.listPublishedEvents → queryOutboxPartition
        ]),
        deliveries: actions([
          'Query', // DynamoDbDeliveryLog: the payment's delivery records
        ]),
      },
      subscribers: true,
    },
    gateway === 'toss'
      ? {
          id: 'TossDepositCallback',
          method: 'POST',
          path: TOSS_DEPOSIT_CALLBACK_PATH,
          entry: 'lambdas/functions/toss-deposit-callback/entry.ts',
          auth: 'pg-secret',
          // Commits the deposit like PgDepositCallback and looks the payment up at Toss.
          tables: {
            ...changeTables,
            pgAttempts: actions([
              'GetItem', // repository.getCallbackSecret: the payment's `callback-secret` item, nothing else there
            ]),
          },
          callsPg: true,
        }
      : {
          id: 'PgDepositCallback',
          method: 'POST',
          path: SANDBOX_DEPOSIT_CALLBACK_PATH,
          entry: 'lambdas/functions/pg-deposit-callback/entry.ts',
          auth: 'hmac',
          // recordDepositUseCase: a change keyed by the PG transaction id.
          tables: changeTables,
        },
  ];
}

/** Props of {@link PaymentApi}. */
export interface PaymentApiProps {
  /** Payments table (`PAYMENTS_TABLE_NAME`). */
  readonly paymentsTable: ITable;
  /** Outbox table (`OUTBOX_TABLE_NAME`). */
  readonly outboxTable: ITable;
  /** Idempotency table (`IDEMPOTENCY_TABLE_NAME`). */
  readonly idempotencyTable: ITable;
  /** Deliveries table (`DELIVERIES_TABLE_NAME`), read by the delivery status route. */
  readonly deliveriesTable: ITable;
  /** PG attempts table (`PG_ATTEMPTS_TABLE_NAME`), written by the routes that move money at the PG. */
  readonly pgAttemptsTable: ITable;
  /**
   * The payment gateway: picks the PG's deposit callback route ({@link paymentApiRoutes}) and is bound to
   * every route that calls the PG (create, confirm, cancel, and Toss's deposit callback).
   */
  readonly paymentGateway: IPaymentGateway;

  /** The subscribers (parsed), given to the delivery status route as `SUBSCRIBERS_JSON`. */
  readonly subscribers: readonly Subscriber[];

  /** Outbox retention in days, passed to the handlers as `OUTBOX_RETENTION_DAYS` (they set `expiresAt`). */
  readonly retentionDays: number;

  /**
   * API Gateway stage name (the last part of the API's base URL).
   *
   * @default the stack's stage (lib/constructs/stage.ts), else 'prod'
   */
  readonly stageName?: string;

  /**
   * Stage-wide steady-state request rate limit (requests per second), an integer between 1 and 10000.
   *
   * @default 100
   */
  readonly throttlingRateLimit?: number;

  /**
   * Stage-wide burst limit (requests), an integer between 1 and 5000.
   *
   * @default 200
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Steady-state request rate limit (requests per second) of the PG's deposit callback method
   * (`POST /pg/webhooks/deposits` on the sandbox, `POST /pg/webhooks/toss` on Toss), an integer between 1
   * and {@link throttlingRateLimit}. The route is open to the internet (no IAM), so it gets a cap of its own,
   * below the callers': a flood of unauthenticated callbacks then spends at most this much of the account's
   * API Gateway quota and Lambda concurrency. A throttled callback loses nothing: the PG gets 429, not 200,
   * and resends it on its schedule. 10 per second is 864,000 callbacks a day, far above one deposit callback
   * (plus resends) per virtual-account payment, while a flood then keeps only a few Lambda executions busy
   * (10/s times a callback's fraction of a second), leaving the account's concurrency to the callers.
   *
   * @default 10, or throttlingRateLimit when that is lower
   */
  readonly pgCallbackThrottlingRateLimit?: number;

  /**
   * Burst limit (requests) of the PG's deposit callback method, an integer between 1 and
   * {@link throttlingBurstLimit}: room for a PG flushing the resends it queued while it (or we) was down,
   * two seconds' worth of the rate at once; beyond it the PG gets 429 and resends later.
   *
   * @default 20, or throttlingBurstLimit when that is lower
   */
  readonly pgCallbackThrottlingBurstLimit?: number;

  /**
   * Associate a regional WAF web ACL with the stage, whose rate-based rule blocks any client IP that sends
   * more than {@link pgWebAclRateLimit} requests to the PG's deposit callback path in 5 minutes (other paths
   * are not counted; every request the rule does not block is allowed). Costs a web ACL and a rule per month,
   * plus requests.
   *
   * @default false
   */
  readonly pgWebAcl?: boolean;

  /**
   * Requests one client IP may send to the PG's deposit callback path in 5 minutes before the web ACL blocks
   * it (for the rest of the window), an integer between 10 and 2000000000. Only with {@link pgWebAcl}.
   * A PG calls from a few addresses, one call per deposit plus resends; the default, 1500 (5 per second
   * sustained from one address), stays above a PG's traffic at the callback throttle's own rate split over
   * two addresses, and stops a single flooding client long before the method's throttle is all it gets.
   *
   * @default 1500
   */
  readonly pgWebAclRateLimit?: number;

  /**
   * Timeout of each route's function, between 1 and 29 seconds (API Gateway's integration limit).
   *
   * @default Duration.seconds(10)
   */
  readonly functionTimeout?: Duration;

  /**
   * Create the account-level role API Gateway needs to write execution and access logs to CloudWatch.
   * Set to false when the account already has one configured (it is one setting per account and region).
   *
   * @default true
   */
  readonly cloudWatchRole?: boolean;

  /**
   * Removal policy of the PG callback secret (created only when the PG signs its callbacks: the sandbox).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly secretRemovalPolicy?: RemovalPolicy;

  /**
   * Retention of the access log group.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly accessLogRetention?: logs.RetentionDays;
}

/**
 * The payment REST API: one function per route of {@link paymentApiRoutes} for the gateway's kind. Caller
 * routes need IAM (SigV4) authorization; the PG's deposit callback route has no authorizer. On the sandbox
 * it is authenticated by an HMAC signature the handler checks with a key from a Secrets Manager secret this
 * construct then creates (readable by the callback function only, `PG_CALLBACK_SECRET_ARN`); on Toss, by the
 * per-payment callback secret Toss issued with the virtual account, and the handler confirms the deposit
 * with Toss before recording it. Every route that calls the PG is bound to the payment gateway.
 *
 * Request bodies are not validated by API Gateway: handlers validate them and answer 400/413 in the
 * API's own error format. The stage has access logging, ERROR execution logging, X-Ray tracing and throttling;
 * the PG's callback method has a lower throttle of its own, and with `pgWebAcl` a WAF web ACL limits it per client IP.
 */
export class PaymentApi extends Construct {
  /** The REST API. */
  public readonly api: apigateway.RestApi;
  /** The routes this API serves ({@link paymentApiRoutes} of the gateway's kind). */
  public readonly routes: readonly PaymentApiRoute[];
  /** The secret holding the PG callback HMAC key, when a route is authenticated by it (the sandbox's deposit callback). */
  public readonly pgCallbackSecret: secretsmanager.Secret | undefined;
  /** Route functions by route id (e.g. `CreatePayment`). */
  public readonly functions: Readonly<Record<string, PaymentFunction>>;
  /** The functions of the routes that call the PG ({@link PaymentApiRoute.callsPg}), by route id. */
  public readonly pgFunctions: Readonly<Record<string, PaymentFunction>>;
  /** The access log group of the stage. */
  public readonly accessLogGroup: logs.LogGroup;
  /** The web ACL associated with the stage, when {@link PaymentApiProps.pgWebAcl} is on. */
  public readonly pgWebAcl: wafv2.CfnWebACL | undefined;
  /** Validated timeout of every route function. */
  public readonly functionTimeout: Duration;

  constructor(scope: Construct, id: string, props: PaymentApiProps) {
    super(scope, id);

    const throttlingRateLimit = props.throttlingRateLimit ?? 100;
    validateIntegerInRange(this, 'throttlingRateLimit', throttlingRateLimit, 1, 10_000);
    const throttlingBurstLimit = props.throttlingBurstLimit ?? 200;
    validateIntegerInRange(this, 'throttlingBurstLimit', throttlingBurstLimit, 1, 5_000);
    const pgCallbackThrottlingRateLimit = props.pgCallbackThrottlingRateLimit ?? Math.min(DEFAULT_PG_CALLBACK_RATE_LIMIT, throttlingRateLimit);
    validateIntegerInRange(this, 'pgCallbackThrottlingRateLimit', pgCallbackThrottlingRateLimit, 1, throttlingRateLimit);
    const pgCallbackThrottlingBurstLimit = props.pgCallbackThrottlingBurstLimit ?? Math.min(DEFAULT_PG_CALLBACK_BURST_LIMIT, throttlingBurstLimit);
    validateIntegerInRange(this, 'pgCallbackThrottlingBurstLimit', pgCallbackThrottlingBurstLimit, 1, throttlingBurstLimit);
    const pgWebAclRateLimit = props.pgWebAclRateLimit ?? DEFAULT_PG_WEB_ACL_RATE_LIMIT;
    if (props.pgWebAclRateLimit !== undefined && props.pgWebAcl !== true) {
      throw new Error(`${this.node.path}: pgWebAclRateLimit is set but pgWebAcl is not: set pgWebAcl: true to create the web ACL`);
    }
    validateIntegerInRange(this, 'pgWebAclRateLimit', pgWebAclRateLimit, 10, 2_000_000_000);
    const functionTimeout = props.functionTimeout ?? Duration.seconds(10);
    validateDurationInRange(this, 'functionTimeout', functionTimeout, Duration.seconds(1), Duration.seconds(29));
    this.functionTimeout = functionTimeout;
    validateIntegerInRange(this, 'retentionDays', props.retentionDays, 2, 365);
    const subscribersJson = serializeSubscribers(props.subscribers);
    if (subscribersJson.length > MAX_SUBSCRIBERS_JSON_LENGTH) {
      throw new Error(
        `${this.node.path}: the subscriber list takes ${subscribersJson.length} characters as SUBSCRIBERS_JSON, more than the ` +
          `${MAX_SUBSCRIBERS_JSON_LENGTH} a Lambda environment leaves room for; shorten names and URLs or use fewer subscribers`,
      );
    }
    const tables: Record<RouteTable, ITable> = {
      payments: props.paymentsTable,
      outbox: props.outboxTable,
      idempotency: props.idempotencyTable,
      deliveries: props.deliveriesTable,
      pgAttempts: props.pgAttemptsTable,
    };
    this.routes = paymentApiRoutes(props.paymentGateway.kind);
    const pgCallbackRoutes = this.routes.filter((route) => route.auth !== 'iam');

    // The construct id predates the "PG callback" name; it stays, since a new id would replace the
    // secret and the key the PG signs with.
    this.pgCallbackSecret = this.routes.some((route) => route.auth === 'hmac')
      ? new secretsmanager.Secret(this, 'PgWebhookSecret', {
          description: 'HMAC-SHA256 key the PG signs deposit callbacks with (X-PG-Signature: sha256=<hex>).',
          generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
          removalPolicy: props.secretRemovalPolicy ?? RemovalPolicy.RETAIN,
        })
      : undefined;
    if (this.pgCallbackSecret) {
      Validations.of(this.pgCallbackSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The key is shared with the PG out of band; rotating it needs the PG to switch keys at the same time ' +
          '(a coordinated manual procedure), so an automatic rotation Lambda would break webhook authentication.',
      });
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.THREE_MONTHS,
    });

    this.api = new apigateway.RestApi(this, 'RestApi', {
      restApiName: stagedName(this, 'payment-outbox'),
      description: 'Payments with a transactional outbox',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: props.cloudWatchRole ?? true,
      deployOptions: {
        stageName: props.stageName ?? stageOf(this) ?? 'prod',
        tracingEnabled: true,
        throttlingRateLimit,
        throttlingBurstLimit,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        // The PG's callback is open to the internet: its own, lower cap. A method setting replaces the stage's
        // default for that method, so it repeats the logging and metrics settings.
        methodOptions: Object.fromEntries(
          pgCallbackRoutes.map((route) => [
            `${route.path}/${route.method}`,
            {
              throttlingRateLimit: pgCallbackThrottlingRateLimit,
              throttlingBurstLimit: pgCallbackThrottlingBurstLimit,
              loggingLevel: apigateway.MethodLoggingLevel.ERROR,
              dataTraceEnabled: false,
              metricsEnabled: true,
            },
          ]),
        ),
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
    });

    // RestApi adds its own "Endpoint" output; the stack outputs the URL once, as ApiUrl.
    this.api.node.tryRemoveChild('Endpoint');

    const functions: Record<string, PaymentFunction> = {};
    const pgFunctions: Record<string, PaymentFunction> = {};
    for (const route of this.routes) {
      const fn = new PaymentFunction(this, route.id, {
        entry: route.entry,
        description: `${route.method} ${route.path}`,
        timeout: functionTimeout,
        environment: {
          [ENV.outboxRetentionDays]: String(props.retentionDays),
          ...(route.subscribers && { [ENV.subscribersJson]: subscribersJson }),
        },
      });
      for (const [name, access] of Object.entries(route.tables) as [RouteTable, NarrowTableAccess][]) {
        fn.bindTable(ROUTE_TABLE_ENV[name], tables[name], access);
      }
      for (const name of route.tableNamesOnly ?? []) {
        fn.bindEnvironment(ROUTE_TABLE_ENV[name], tables[name].tableName);
      }
      if (route.callsPg) {
        props.paymentGateway.bind(fn, 'call');
        pgFunctions[route.id] = fn;
      }
      if (route.auth === 'hmac') {
        fn.bindSecret(ENV.pgCallbackSecretArn, this.pgCallbackSecret!);
      }

      const method = this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, new apigateway.LambdaIntegration(fn.function, { allowTestInvoke: false }), {
          authorizationType: route.auth === 'iam' ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE,
        });
      if (route.auth === 'hmac') {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'The PG cannot sign with AWS credentials: the handler authenticates every request by the HMAC-SHA256 ' +
            'X-PG-Signature over the raw body (key in Secrets Manager) and answers 401 INVALID_SIGNATURE otherwise.',
        });
      }
      if (route.auth === 'pg-secret') {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Toss cannot sign with AWS credentials and does not sign its deposit callbacks: the handler accepts one only when ' +
            'its secret matches the one Toss issued for that payment, and records a deposit only after Toss confirms it.',
        });
      }
      functions[route.id] = fn;
    }
    this.functions = functions;
    this.pgFunctions = pgFunctions;

    this.pgWebAcl = props.pgWebAcl === true ? this.createPgWebAcl(pgCallbackRoutes, pgWebAclRateLimit) : undefined;

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Bodies are validated by the handlers, which answer 400 VALIDATION_ERROR naming the field and 413 ' +
        'PAYLOAD_TOO_LARGE in the API error format; an API Gateway validator would answer in its own format first.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are services, authorized with IAM (SigV4, execute-api:Invoke) rather than Cognito user pools; ' +
        'the PG callback is authenticated by HMAC signature (sandbox) or the per-payment callback secret (Toss).',
    });
    if (!this.pgWebAcl) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'Every route is authenticated (IAM, or the PG callback by HMAC or callback secret), the stage is throttled and the PG callback has a ' +
          'lower throttle of its own; the web ACL is opt-in (pgWebAcl, -c pgWebAcl=true) since it costs per month and accounts often share one.',
      });
    }
    if (props.cloudWatchRole ?? true) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for the account-level role API Gateway ' +
          'uses to write execution and access logs; API Gateway picks the log groups, so it cannot be narrowed here.',
      });
    }
  }

  /** The web ACL of {@link PaymentApiProps.pgWebAcl}, associated with the stage. */
  private createPgWebAcl(pgCallbackRoutes: readonly PaymentApiRoute[], limit: number): wafv2.CfnWebACL {
    const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true });
    // The path as WAF sees it ends with the route's path (`/<stage>/pg/webhooks/...` on the execute-api host,
    // or a custom domain's base path before it); a route path has no uppercase, so compare lowercased.
    const onPath = (route: PaymentApiRoute): wafv2.CfnWebACL.StatementProperty => ({
      byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: 'ENDS_WITH',
        searchString: route.path.toLowerCase(),
        textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
      },
    });
    const scopeDown =
      pgCallbackRoutes.length === 1 ? onPath(pgCallbackRoutes[0]!) : { orStatement: { statements: pgCallbackRoutes.map(onPath) } };
    const webAcl = new wafv2.CfnWebACL(this, 'PgWebAcl', {
      scope: 'REGIONAL',
      description: 'Rate limit per client IP on the PG deposit callback of the payment API',
      defaultAction: { allow: {} },
      visibilityConfig: metric('PaymentApiWebAcl'),
      rules: [
        {
          name: 'PgCallbackRatePerIp',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: { limit, evaluationWindowSec: 300, aggregateKeyType: 'IP', scopeDownStatement: scopeDown },
          },
          visibilityConfig: metric('PgCallbackRatePerIp'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'PgWebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });
    return webAcl;
  }
}
