import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/platform/env-names';
import { serializeSubscribers, type Subscriber } from '../../lambdas/domain/subscribers';
import type { IPaymentGateway, PaymentGatewayKind } from './payment-gateway';
import { PaymentFunction, type TableAccess } from './payment-function';
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
  /** The tables the function is bound to (name variable + grant), with its access to each; no other table. */
  readonly tables: Readonly<Partial<Record<RouteTable, TableAccess>>>;
  /** Whether the function gets the subscriber list (`SUBSCRIBERS_JSON`). */
  readonly subscribers?: boolean;
  /**
   * Whether the function calls the PG: it is bound to the stack's payment gateway (`PAYMENT_GATEWAY` and the
   * gateway's own variables and grants, see {@link IPaymentGateway.bind}) with `call` access.
   */
  readonly callsPg?: boolean;
}

/** The same access to the Payments, Outbox and Idempotency tables: what the payment command and query routes use. */
const paymentTables = (access: TableAccess) => ({ payments: access, outbox: access, idempotency: access });

/**
 * Access to the PG attempts table of the routes that move money at the PG (confirm: authorize; cancel: refund).
 * They read a payment's attempts (GetItem, Query of its partition), record a new one (PutItem) and close it
 * (UpdateItem) inside the TransactWriteItems that also commits the payment and its outbox event; a
 * transaction needs the action of each of its items, ConditionCheckItem included. No DeleteItem, BatchWriteItem
 * or Scan: attempts are the audit trail of the money, never deleted, and nothing lists them but the
 * reconciler (through the OpenAttempts index).
 */
const PG_ATTEMPTS_ACCESS: TableAccess = { actions: ['ConditionCheckItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'] };

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
  return [
    {
      id: 'CreatePayment',
      method: 'POST',
      path: '/payments',
      entry: 'lambdas/functions/create-payment/entry.ts',
      auth: 'iam',
      // Issues virtual accounts at the PG. Moves no money, so no attempt; on Toss, the callback secret Toss
      // issues with a virtual account is written to the PG attempts table inside the create transaction (a Put).
      tables: { ...paymentTables('readWrite'), ...(gateway === 'toss' && { pgAttempts: { actions: ['PutItem'] } }) },
      callsPg: true,
    },
    { id: 'GetPayment', method: 'GET', path: '/payments/{paymentId}', entry: 'lambdas/functions/get-payment/entry.ts', auth: 'iam', tables: paymentTables('read') },
    {
      id: 'ConfirmPayment',
      method: 'POST',
      path: '/payments/{paymentId}/confirm',
      entry: 'lambdas/functions/confirm-payment/entry.ts',
      auth: 'iam',
      tables: { ...paymentTables('readWrite'), pgAttempts: PG_ATTEMPTS_ACCESS },
      callsPg: true,
    },
    {
      id: 'CancelPayment',
      method: 'POST',
      path: '/payments/{paymentId}/cancel',
      entry: 'lambdas/functions/cancel-payment/entry.ts',
      auth: 'iam',
      tables: { ...paymentTables('readWrite'), pgAttempts: PG_ATTEMPTS_ACCESS },
      callsPg: true,
    },
    { id: 'ListPaymentEvents', method: 'GET', path: '/payments/{paymentId}/events', entry: 'lambdas/functions/list-payment-events/entry.ts', auth: 'iam', tables: paymentTables('read') },
    {
      id: 'ListPaymentDeliveries',
      method: 'GET',
      path: '/payments/{paymentId}/deliveries',
      entry: 'lambdas/functions/list-payment-deliveries/entry.ts',
      auth: 'iam',
      // Does the payment exist (GetItem), its events (consistent Query of its Outbox partition), its delivery records (Query).
      tables: { payments: { actions: ['GetItem'] }, outbox: { actions: ['Query'] }, deliveries: { actions: ['Query'] } },
      subscribers: true,
    },
    gateway === 'toss'
      ? {
          id: 'TossDepositCallback',
          method: 'POST',
          path: TOSS_DEPOSIT_CALLBACK_PATH,
          entry: 'lambdas/functions/toss-deposit-callback/entry.ts',
          auth: 'pg-secret',
          // Commits the deposit like PgDepositCallback; reads the payment's callback secret (GetItem of its
          // `callback-secret` item in the PG attempts table, nothing else there) and looks the payment up at Toss.
          tables: { ...paymentTables('readWrite'), pgAttempts: { actions: ['GetItem'] } },
          callsPg: true,
        }
      : {
          id: 'PgDepositCallback',
          method: 'POST',
          path: SANDBOX_DEPOSIT_CALLBACK_PATH,
          entry: 'lambdas/functions/pg-deposit-callback/entry.ts',
          auth: 'hmac',
          tables: paymentTables('readWrite'),
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
   * Stage name.
   *
   * @default 'prod'
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
 * API's own error format. The stage has access logging, ERROR execution logging, X-Ray tracing and throttling.
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
  /** Validated timeout of every route function. */
  public readonly functionTimeout: Duration;

  constructor(scope: Construct, id: string, props: PaymentApiProps) {
    super(scope, id);

    const throttlingRateLimit = props.throttlingRateLimit ?? 100;
    validateIntegerInRange(this, 'throttlingRateLimit', throttlingRateLimit, 1, 10_000);
    const throttlingBurstLimit = props.throttlingBurstLimit ?? 200;
    validateIntegerInRange(this, 'throttlingBurstLimit', throttlingBurstLimit, 1, 5_000);
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
      restApiName: 'payment-outbox',
      description: 'Payments with a transactional outbox',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: props.cloudWatchRole ?? true,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        tracingEnabled: true,
        throttlingRateLimit,
        throttlingBurstLimit,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
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
      for (const [name, access] of Object.entries(route.tables) as [RouteTable, TableAccess][]) {
        fn.bindTable(ROUTE_TABLE_ENV[name], tables[name], access);
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
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every route is authenticated (IAM, or the PG callback by HMAC or callback secret) and the stage is throttled; a WAF web ACL is an account-level ' +
        'choice (shared ACLs, cost) attached at deployment, not part of this stack.',
    });
    if (props.cloudWatchRole ?? true) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for the account-level role API Gateway ' +
          'uses to write execution and access logs; API Gateway picks the log groups, so it cannot be narrowed here.',
      });
    }
  }
}
