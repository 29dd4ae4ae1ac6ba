import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION_BUNDLE_OPTIONS, ESM_REQUIRE_BANNER } from './function-bundling';
import { stagedName } from './stage';
import { validateDurationInRange, validateIntegerInRange } from './validation';
import { REPO_ROOT } from '../repo-root';

/** Repository root: `lib/constructs/` is two levels below it. Entries and the lock file are resolved against it. */
export { REPO_ROOT };

/**
 * CloudFormation Metadata key carrying the repo-relative handler entry of every function,
 * e.g. `lambdas/functions/outbox-relay/entry.ts`. The local runner reads it to import the same source.
 */
export const ENTRY_METADATA_KEY = 'payment-outbox:entry';

/** Runtime of every function. nodejs22.x: the newest runtime whose major version the local toolchain (Node 20) tracks closely. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** The banner of every bundle; defined with the other bundle options in ./function-bundling. */
export { ESM_REQUIRE_BANNER };

/** A DynamoDB item action that can be granted one by one with a {@link NarrowTableAccess}. */
export type TableItemAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'Scan'
  | 'ConditionCheckItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem';

/** Item reads granted by `read` access: on the table ARN only. */
export const TABLE_READ_ACTIONS: readonly TableItemAction[] = ['BatchGetItem', 'ConditionCheckItem', 'GetItem', 'Query', 'Scan'];

/** Item writes added by `readWrite` access: on the table ARN only. */
export const TABLE_WRITE_ACTIONS: readonly TableItemAction[] = ['BatchWriteItem', 'DeleteItem', 'PutItem', 'UpdateItem'];

/**
 * Exactly the item actions a function needs on a table, and the indexes it may query.
 * For a handler that does less than `read`/`readWrite` allow (e.g. the relay: Query + UpdateItem).
 */
export interface NarrowTableAccess {
  /** Item actions allowed on the table ARN (not on its indexes). At least one. */
  readonly actions: readonly TableItemAction[];

  /**
   * Indexes of the table the function may `dynamodb:Query`; granted on each index's own ARN
   * (`<table ARN>/index/<name>`), never on `index/*`. When the table is a `Table` defined in this app,
   * each name must be one of its indexes.
   *
   * @default - no index access
   */
  readonly queryIndexes?: readonly string[];
}

/**
 * Access a function gets to a table it is bound to. Every level is granted on the table ARN only
 * (no `index/*`, no stream): `read` = Get/BatchGet/Query/Scan/ConditionCheck, `readWrite` = `read` +
 * Put/Update/Delete/BatchWrite, or a {@link NarrowTableAccess} naming the exact actions and indexes.
 */
export type TableAccess = 'read' | 'readWrite' | NarrowTableAccess;

/**
 * Access a function gets to a queue it is bound to: `send` is `sqs:SendMessage` only (it also covers
 * SendMessageBatch); `changeVisibility` is `sqs:ChangeMessageVisibility` only (it also covers the batch
 * call), for a consumer that schedules its own retries.
 */
export type QueueAccess = 'send' | 'changeVisibility';

/** Access a function gets to a topic it is bound to. `publish` is `sns:Publish` only (it also covers PublishBatch). */
export type TopicAccess = 'publish';

/** Props of {@link PaymentFunction}. */
export interface PaymentFunctionProps {
  /**
   * Handler source file, relative to the repository root, with forward slashes, e.g. `lambdas/functions/outbox-relay/entry.ts`.
   * The file must export `handler`. Recorded on the CfnFunction as Metadata `payment-outbox:entry`.
   */
  readonly entry: string;

  /**
   * Description of the function.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * Function timeout, between 1 second and 15 minutes.
   *
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;

  /**
   * Memory in MB, an integer between 128 and 10240.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Environment variables of this function. Merged over the defaults (`POWERTOOLS_SERVICE_NAME`,
   * `POWERTOOLS_METRICS_NAMESPACE`, `NODE_OPTIONS=--enable-source-maps`): a key given here wins.
   *
   * @default - the defaults only
   */
  readonly environment?: Record<string, string>;

  /**
   * Powertools service name (`POWERTOOLS_SERVICE_NAME`): the `service` field of every log line and the
   * `service` dimension of every custom metric, so two stages' alarms never count each other's metrics.
   *
   * @default 'payment-outbox', prefixed `<stage>-` in a staged stack
   */
  readonly serviceName?: string;

  /**
   * Powertools metrics namespace (`POWERTOOLS_METRICS_NAMESPACE`).
   *
   * @default 'PaymentOutbox'
   */
  readonly metricsNamespace?: string;

  /**
   * Concurrent executions reserved for (and capping) this function, an integer between 1 and 1000.
   * 1 makes runs of the function strictly one at a time (e.g. a scheduled sweeper).
   *
   * @default - no reservation (unreserved account concurrency)
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Retention of the function's log group.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One Lambda function of this project, with the settings every function shares: Node.js 22 on arm64,
 * active X-Ray tracing, a log group with retention, and an ESM bundle built by the local esbuild
 * (no Docker), minified, with linked source maps and the AWS SDK bundled at the versions pinned in
 * package-lock.json (so the code that runs is the code that was tested, not whatever SDK the runtime ships),
 * its default credential chain reduced to the environment's credentials (see ./function-bundling).
 *
 * The function gets its own role whose only initial permission is writing to its own log group;
 * access to tables, queues, topics and secrets is added with {@link bindTable}, {@link bindQueue},
 * {@link bindTopic} and {@link bindSecret}, which set the environment variable and grant the access in one call;
 * {@link bindEnvironment} sets a plain setting under the same no-rebinding rule.
 */
export class PaymentFunction extends Construct {
  /** The Lambda function. */
  public readonly function: NodejsFunction;
  /** The function's execution role. */
  public readonly role: iam.Role;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The repo-relative entry, as recorded in the function's Metadata. */
  public readonly entry: string;
  /**
   * Powertools service name (`POWERTOOLS_SERVICE_NAME`): the value of the `service` dimension
   * Powertools Metrics puts on every custom metric of this function.
   */
  public readonly serviceName: string;
  /** Powertools metrics namespace (`POWERTOOLS_METRICS_NAMESPACE`) of this function's custom metrics. */
  public readonly metricsNamespace: string;

  private readonly boundEnvironment = new Set<string>();

  constructor(scope: Construct, id: string, props: PaymentFunctionProps) {
    super(scope, id);

    this.entry = validateEntry(this, props.entry);
    const timeout = props.timeout ?? Duration.seconds(10);
    validateDurationInRange(this, 'timeout', timeout, Duration.seconds(1), Duration.minutes(15));
    const memorySize = props.memorySize ?? 256;
    validateIntegerInRange(this, 'memorySize', memorySize, 128, 10_240);
    if (props.reservedConcurrentExecutions !== undefined) {
      validateIntegerInRange(this, 'reservedConcurrentExecutions', props.reservedConcurrentExecutions, 1, 1000);
    }
    this.serviceName = props.serviceName ?? stagedName(this, 'payment-outbox');
    this.metricsNamespace = props.metricsNamespace ?? 'PaymentOutbox';

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    this.role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.entry}`,
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, this.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      timeout,
      memorySize,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: cdkBundling(),
    });

    // Only the log group's own streams: no logs:CreateLogGroup, no "*".
    this.logGroup.grantWrite(this.role);

    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA_KEY, this.entry);

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level ' +
        'permissions (CDK adds them with Resource "*"). test/cdk checks that no other statement of ours uses "*".',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is chosen on purpose: it is the supported Lambda runtime closest to the Node 20 toolchain that ' +
        'runs the same handlers locally and in tests; moving to nodejs24.x is a deliberate upgrade, not a lint fix.',
    });
  }

  /**
   * Sets `envName` to the table's name and grants `access` to its items, on the table ARN only; with a
   * {@link NarrowTableAccess}, also `dynamodb:Query` on the named indexes' own ARNs. No stream access.
   * When the table has a customer managed key, the function may decrypt with it (and encrypt, for writes).
   *
   * @param envName environment variable the handler reads, e.g. `PAYMENTS_TABLE_NAME`
   * @param table the table
   * @param access `read`, `readWrite`, or the exact actions and indexes (see {@link TableAccess})
   */
  public bindTable(envName: string, table: dynamodb.ITable, access: TableAccess): void {
    const { actions, queryIndexes } = this.resolveTableAccess(table, access);
    this.addBoundEnvironment(envName, table.tableName);
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: actions.map((action) => `dynamodb:${action}`),
      resourceArns: [table.tableArn],
    });
    if (queryIndexes.length > 0) {
      iam.Grant.addToPrincipal({
        grantee: this.function,
        actions: ['dynamodb:Query'],
        resourceArns: queryIndexes.map((indexName) => `${table.tableArn}/index/${indexName}`),
      });
    }
    if (table.encryptionKey) {
      const writes = actions.some((action) => TABLE_WRITE_ACTIONS.includes(action));
      if (writes) table.encryptionKey.grantEncryptDecrypt(this.function);
      else table.encryptionKey.grantDecrypt(this.function);
    }
  }

  /**
   * Sets `envName` to the queue's URL and grants `access` to it.
   *
   * @param envName environment variable the handler reads, e.g. `PAYMENT_EVENTS_QUEUE_URL`
   * @param queue the queue
   * @param access `send`: `sqs:SendMessage` on this queue only (plus encrypt on its key when it has a customer
   *   managed key); `changeVisibility`: `sqs:ChangeMessageVisibility` on this queue only
   */
  public bindQueue(envName: string, queue: IQueue, access: QueueAccess): void {
    this.addBoundEnvironment(envName, queue.queueUrl);
    switch (access) {
      case 'send':
        queue.grant(this.function, 'sqs:SendMessage');
        queue.encryptionMasterKey?.grant(this.function, 'kms:Decrypt', 'kms:GenerateDataKey');
        break;
      case 'changeVisibility':
        iam.Grant.addToPrincipal({ grantee: this.function, actions: ['sqs:ChangeMessageVisibility'], resourceArns: [queue.queueArn] });
        break;
    }
  }

  /**
   * Sets `envName` to the topic's ARN and grants `access` to it, on the topic ARN only. A topic encrypted
   * with a key of this app also gets `kms:Decrypt` + `kms:GenerateDataKey` on that key; the AWS managed key
   * `alias/aws/sns` needs no grant (its key policy admits every principal of the account that SNS acts for),
   * so nothing is granted on an imported alias.
   *
   * @param envName environment variable the handler reads, e.g. `PAYMENT_EVENTS_TOPIC_ARN`
   * @param topic the topic
   * @param access `publish`: `sns:Publish` on this topic only
   */
  public bindTopic(envName: string, topic: ITopic, access: TopicAccess): void {
    this.addBoundEnvironment(envName, topic.topicArn);
    switch (access) {
      case 'publish':
        iam.Grant.addToPrincipal({ grantee: this.function, actions: ['sns:Publish'], resourceArns: [topic.topicArn] });
        if (topic.masterKey instanceof kms.Key) topic.masterKey.grant(this.function, 'kms:Decrypt', 'kms:GenerateDataKey');
        break;
    }
  }

  /**
   * Sets `envName` to the secret's ARN and grants read access to its value.
   *
   * @param envName environment variable the handler reads, e.g. `PG_CALLBACK_SECRET_ARN`
   * @param secret the secret
   */
  public bindSecret(envName: string, secret: ISecret): void {
    this.addBoundEnvironment(envName, secret.secretArn);
    secret.grantRead(this.function);
  }

  /**
   * Sets `envName` to a plain configuration value that implies no access (e.g. `PAYMENT_GATEWAY=toss`).
   * Like the other bind methods, it refuses a variable that is already bound, so two bindings cannot
   * silently overwrite each other (a function bound to two PGs fails synthesis).
   *
   * @param envName environment variable the handler reads, e.g. `PAYMENT_GATEWAY`
   * @param value its value
   */
  public bindEnvironment(envName: string, value: string): void {
    this.addBoundEnvironment(envName, value);
  }

  private resolveTableAccess(
    table: dynamodb.ITable,
    access: TableAccess,
  ): { actions: readonly TableItemAction[]; queryIndexes: readonly string[] } {
    if (access === 'read') return { actions: TABLE_READ_ACTIONS, queryIndexes: [] };
    if (access === 'readWrite') return { actions: [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS], queryIndexes: [] };
    if (access.actions.length === 0) {
      throw new Error(`${this.node.path}: a narrow table access needs at least one action`);
    }
    const queryIndexes = [...new Set(access.queryIndexes ?? [])];
    if (table instanceof dynamodb.Table) {
      for (const indexName of queryIndexes) {
        try {
          table.schemaV2(indexName);
        } catch {
          throw new Error(`${this.node.path}: table ${table.node.path} has no index named ${indexName}`);
        }
      }
    }
    return { actions: [...new Set(access.actions)].sort(), queryIndexes };
  }

  private addBoundEnvironment(envName: string, value: string): void {
    if (this.boundEnvironment.has(envName)) {
      throw new Error(`${this.node.path}: environment variable ${envName} is already bound`);
    }
    this.boundEnvironment.add(envName);
    this.function.addEnvironment(envName, value);
  }
}

/**
 * FUNCTION_BUNDLE_OPTIONS (the esbuild options bench/bundles.ts builds with) in the CDK's terms.
 * Local esbuild only (no Docker): its working directory is the repository root, against which the
 * aliases' relative paths resolve.
 */
function cdkBundling(): BundlingOptions {
  const options = FUNCTION_BUNDLE_OPTIONS;
  return {
    forceDockerBundling: false,
    format: options.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
    target: options.target,
    mainFields: [...options.mainFields],
    banner: options.banner.js,
    minify: options.minify,
    sourceMap: options.sourcemap,
    sourcesContent: options.sourcesContent,
    // Bundled at the versions pinned in package-lock.json: no `@aws-sdk/*` external.
    bundleAwsSDK: true,
    logLevel: LogLevel.WARNING,
    esbuildArgs: {
      '--tree-shaking': String(options.treeShaking),
      '--legal-comments': options.legalComments,
      '--alias': Object.entries(options.alias).map(([module, replacement]) => `${module}=${replacement}`),
    },
  };
}

function validateEntry(scope: Construct, entry: string): string {
  const normalized = entry.split(path.sep).join('/');
  if (path.isAbsolute(entry) || normalized.split('/').includes('..') || !/\.(ts|mts|js|mjs)$/.test(normalized)) {
    throw new Error(
      `${scope.node.path}: entry must be a repo-relative path to a .ts/.js file such as lambdas/functions/outbox-relay/entry.ts (got ${entry})`,
    );
  }
  if (!fs.existsSync(path.join(REPO_ROOT, normalized))) {
    throw new Error(`${scope.node.path}: entry ${normalized} does not exist under ${REPO_ROOT}`);
  }
  return normalized;
}
