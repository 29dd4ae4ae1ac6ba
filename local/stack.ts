/**
 * The whole pipeline on one machine: DynamoDB Local and the SQS emulator, the template's
 * tables and queues, the same handler code behind a local API Gateway, the event source
 * mappings played by pollers, and a TTL sweeper. Used by `npm start` and by the integration tests.
 */
import { randomBytes } from 'node:crypto';
import { formatWebhookSecret } from '../lambdas/domain/webhook-signature';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { startApiServer } from './api/api-server';
import { createFunctionClients, createLocalClients, type LocalClients, type LocalEndpoints } from './clients';
import { destroyAwsClients, type AwsClients } from '../lambdas/platform/aws-clients';
import { startDynamoDbLocal, type DynamoDbLocal } from './emulators/dynamodb-local';
import { assertJava } from './emulators/java';
import { assertPortFree } from './emulators/ports';
import { startSqsEmulator, type SqsEmulator } from './emulators/sqs-emulator';
import { LocalStartupError } from './errors';
import { createLogger, describeError, type LocalLogger, type LogLevel } from './log';
import { endpointsFilePath, type EndpointsFile } from './endpoints-file';
import { DEFAULT_STATE_DIR, REPO_ROOT } from './paths';

export type { EndpointsFile } from './endpoints-file';
import { SqsPoller } from './pollers/sqs-poller';
import { StreamPoller } from './pollers/stream-poller';
import { PidFile } from './process/pid-file';
import { killProcessGroupNow } from './process/process-group';
import { createQueues, type CreatedQueue } from './provision/queues';
import { createTables, type CreatedTable } from './provision/tables';
import { createSubscriptions, createTopics, type CreatedTopic } from './provision/topics';
import { resolveFunctionEnvironment, webhookSecretReference } from './runtime/function-environment';
import { loadFunction, type LocalFunction } from './runtime/local-function';
import { LOCAL_ACCOUNT_ID, type LocalRegistry } from './template/intrinsics';
import { readTemplate, webhookSubscriberOf, type LocalModel } from './template/resolve';
import { loadTemplate } from './template/template-cache';
import type { CfnTemplate } from './template/types';
import { FiguresReporter } from './figures-reporter';
import { Scheduler } from './scheduler';
import { TtlSweeper } from './ttl-sweeper';
import { ENV } from '../lambdas/platform/env-names';
import { webhookInvocationReporter } from './pollers/webhook-report';
import { startWebhookReceiverProcess, type WebhookReceiverProcess } from './webhook-receiver-process';
import { startTossLocalServer, type TossFaultChanges, type TossLocalServer } from '../tools/toss-local/server';

export interface LocalStackOptions {
  /** API port; 0 = a free port. @default 3000 */
  readonly apiPort?: number;
  /** DynamoDB Local port; 0 = a free port. @default 8000 */
  readonly dynamodbPort?: number;
  /** SQS emulator port; 0 = a free port. @default 4566 */
  readonly sqsPort?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Run the SQS event source mappings (the example consumer). @default true */
  readonly consumers?: boolean;
  /** Seconds between TTL sweeps. @default 30 */
  readonly ttlSweepIntervalSeconds?: number;
  /** Time between the starts of two GetRecords of a shard (at once after a full read). @default 250, Lambda's 4 polls per second */
  readonly streamPollIntervalMs?: number;
  /** Stream poller retry backoff. @default { baseMs: 200, maxMs: 5_000 } */
  readonly retryBackoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Long-poll wait of the SQS pollers. @default 1 */
  readonly sqsWaitTimeSeconds?: number;
  /** Local cap on concurrent invocations per SQS mapping (a mapping's MaximumConcurrency caps too; see SqsPollerOptions.concurrency). @default 10 */
  readonly sqsConcurrency?: number;
  /** Test acceleration: failed SQS messages become visible again after this many seconds. @default - the queue's visibility timeout */
  readonly sqsFailedMessageVisibilitySeconds?: number;
  /** The PG callback HMAC key. @default env PG_CALLBACK_SECRET, else random per run */
  readonly pgCallbackSecret?: string;
  /** The PG the stack calls: the sandbox, a Toss-compatible server, or tools/toss-local started here. @default { kind: 'sandbox' } */
  readonly paymentGateway?: LocalPaymentGateway;
  /** Where endpoints.json and pids.json go. @default env LOCAL_STATE_DIR, else `<repo>/.local` */
  readonly stateDir?: string;
  /** A template synthesized earlier (tests synthesize once). @default the cached template, synthesized when its inputs changed */
  readonly template?: CfnTemplate;
  /** Props for the stack when synthesizing. */
  readonly stackProps?: Record<string, unknown>;
  /** Runner log level. @default 'info' */
  readonly logLevel?: LogLevel;
  readonly logger?: LocalLogger;
  /** Powertools log level of the handlers. @default env POWERTOOLS_LOG_LEVEL, else 'WARN' */
  readonly handlerLogLevel?: string;
  /** Start the pollers paused (tests arrange data first). @default false */
  readonly startPaused?: boolean;
  /** Seconds between the log lines with the pipeline's figures; 0 = none. @default 60 */
  readonly figuresIntervalSeconds?: number;
  /** Run the template's schedule rules (the outbox sweeper). @default true */
  readonly schedules?: boolean;
  /** Seconds between scheduled runs instead of each rule's rate. @default each rule's rate */
  readonly scheduleIntervalSeconds?: number;
  /**
   * tools/webhook-receiver as a child process, receiving for the first webhook subscriber whose
   * template URL is http://localhost or http://127.0.0.1 (and that `webhookOverrides` gives no url):
   * `port` (0 = a free port) and receiver flags (`args`, e.g. `['--fail-first', '2']`); that
   * dispatcher's URL is pointed at the receiver's real port. `false`: no receiver.
   * @default { port: env WEBHOOK_RECEIVER_PORT, else the template URL's port }
   */
  readonly webhookReceiver?: false | { readonly port?: number; readonly args?: readonly string[] };
  /**
   * Per webhook subscriber (by name): `url` replaces the dispatcher's WEBHOOK_URL, `env` is merged
   * into its environment (e.g. `{ WEBHOOK_BACKOFF_BASE_SECONDS: '1' }`).
   */
  readonly webhookOverrides?: Readonly<Record<string, WebhookOverride>>;
  /**
   * Called once per function with the SDK clients the runner made for it; what it returns is what
   * the function gets (chaos adds fault-injecting middleware here). @default the clients unchanged
   */
  readonly functionClients?: (fn: { readonly logicalId: string; readonly name: string }, clients: AwsClients) => AwsClients;
  /**
   * Variables merged into a function's resolved environment, by function name (its folder, e.g.
   * `{ 'pg-reconciler': { RECONCILER_GRACE_SECONDS: '1' } }`): tests and chaos shorten periods.
   */
  readonly functionEnvironment?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The PG of a local run. */
export type LocalPaymentGateway =
  | { readonly kind: 'sandbox' }
  /** Any Toss-compatible server (Toss itself, with a test secret key). */
  | { readonly kind: 'toss'; readonly baseUrl: string; readonly secretKey: string }
  /**
   * tools/toss-local in this process, its DEPOSIT_CALLBACKs pointed at the stack's `/pg/webhooks/toss`:
   * `port` (0 = a free port; @default env TOSS_LOCAL_PORT, else 3002), the resend schedule and the faults to start with.
   */
  | {
      readonly kind: 'toss-local';
      readonly port?: number;
      readonly webhookRetryDelaysMs?: readonly number[];
      readonly faults?: TossFaultChanges;
    };

/** Local changes to one webhook subscriber's dispatcher. */
export interface WebhookOverride {
  readonly url?: string;
  /** The signing key (for a receiver of the caller's own). @default random per run */
  readonly secret?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface LocalStackTimings {
  templateMs: number;
  dynamodbMs: number;
  sqsMs: number;
  provisionMs: number;
  handlersMs: number;
  totalMs: number;
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly endpoints: EndpointsFile;
  readonly clients: LocalClients;
  readonly model: LocalModel;
  readonly template: CfnTemplate;
  /** Tables by logical id. */
  readonly tables: ReadonlyMap<string, CreatedTable>;
  /** Queues by queue name. */
  readonly queues: ReadonlyMap<string, CreatedQueue>;
  /** SNS topics by topic name. */
  readonly topics: ReadonlyMap<string, CreatedTopic>;
  /** tools/toss-local, when the stack runs on `toss-local`. */
  readonly tossLocal?: TossLocalServer;
  /** The webhook receiver child process, when the runner started one. */
  readonly webhookReceiver?: WebhookReceiverProcess;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly pollers: {
    readonly streams: readonly StreamPoller[];
    readonly queues: readonly SqsPoller[];
    /** The poller whose function has this short name (its folder: `outbox-relay`, `example-consumer`); a dispatcher's is `webhook:<subscriber>`. */
    stream(name: string): StreamPoller;
    queue(name: string): SqsPoller;
  };
  readonly ttlSweeper: TtlSweeper;
  /** The template's schedule rules; `runNow('outbox-sweeper')` invokes one at once. */
  readonly scheduler: Scheduler;
  readonly timings: LocalStackTimings;
  /** Where endpoints.json and pids.json are. */
  readonly stateDir: string;
  readonly pids: { readonly dynamodb: number; readonly sqs: number; readonly webhookReceiver?: number };
  /** The table whose logical id starts with `prefix`-ish name (e.g. `Outbox`). */
  tableName(nameFragment: string): string;
  /** Every item of a table (picked as by `tableName`), strongly consistent: for checks, tests and benchmarks on small tables. */
  scanTable(nameFragment: string): Promise<Record<string, unknown>[]>;
  queueUrl(queueName: string): string;
  topicArn(topicName: string): string;
  stop(): Promise<void>;
}

const envNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new LocalStartupError(`${name} must be a port number, got "${raw}"`);
  return value;
};

/** WEBHOOK_RECEIVER_PORT, when set. */
export function webhookReceiverPortFromEnvironment(): number | undefined {
  return process.env.WEBHOOK_RECEIVER_PORT === undefined || process.env.WEBHOOK_RECEIVER_PORT === ''
    ? undefined
    : envNumber('WEBHOOK_RECEIVER_PORT', 0);
}

/** tools/toss-local's port when TOSS_LOCAL_PORT is not set. */
export const DEFAULT_TOSS_LOCAL_PORT = 3002;

/** What the template is synthesized from: the caller's props, or the app's with the PG of the run. */
function templateOptions(options: LocalStackOptions): { stackProps?: Record<string, unknown>; appStackPropsOverrides?: Record<string, unknown> } {
  const onToss = options.paymentGateway !== undefined && options.paymentGateway.kind !== 'sandbox';
  if (options.stackProps) return { stackProps: onToss ? { ...options.stackProps, paymentGateway: 'toss' } : options.stackProps };
  return onToss ? { appStackPropsOverrides: { paymentGateway: 'toss' } } : {};
}

/** Ports from PORT, DYNAMODB_PORT and SQS_PORT (defaults 3000, 8000, 4566). */
export function portsFromEnvironment(): { apiPort: number; dynamodbPort: number; sqsPort: number } {
  return { apiPort: envNumber('PORT', 3000), dynamodbPort: envNumber('DYNAMODB_PORT', 8000), sqsPort: envNumber('SQS_PORT', 4566) };
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const started = Date.now();
  const log = options.logger ?? createLogger('local', { level: options.logLevel ?? 'info' });
  const region = options.region ?? 'us-east-1';
  const stateDir = options.stateDir ?? process.env.LOCAL_STATE_DIR ?? DEFAULT_STATE_DIR;
  const apiPort = options.apiPort ?? 3000;
  const pgCallbackSecret = options.pgCallbackSecret ?? process.env.PG_CALLBACK_SECRET ?? randomBytes(24).toString('hex');
  const paymentGateway = options.paymentGateway ?? { kind: 'sandbox' };

  assertJava();
  const pidFile = new PidFile(stateDir);
  const owner = pidFile.liveOwner();
  if (owner !== undefined) {
    throw new LocalStartupError(`another local stack (pid ${owner}) is running with the state directory ${stateDir}; stop it first or set LOCAL_STATE_DIR`);
  }
  await pidFile.stopLeftovers(log);
  await assertPortFree(apiPort, 'API', 'PORT');

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => log.warn(`cleanup: ${describeError(error)}`));
    cleanups.length = 0;
  };
  const exitGuard = () => {
    for (const child of pidFile.children) killProcessGroupNow(child.pid);
  };
  process.once('exit', exitGuard);
  cleanups.push(async () => {
    process.removeListener('exit', exitGuard);
  });

  try {
    const timings: LocalStackTimings = { templateMs: 0, dynamodbMs: 0, sqsMs: 0, provisionMs: 0, handlersMs: 0, totalMs: 0 };
    const [dynamo, sqsEmulator, template] = await settleAll(
      [
        startDynamoDbLocal({ port: options.dynamodbPort ?? 8000, region, log, pidFile }),
        startSqsEmulator({ port: options.sqsPort ?? 4566, region, log, pidFile }),
        (async () => {
          const t = Date.now();
          // The cache lives in the repository's .local/ whatever the state directory: it is keyed by its inputs.
          const result = options.template ?? (await loadTemplate(DEFAULT_STATE_DIR, templateOptions(options))).template;
          timings.templateMs = Date.now() - t;
          return result;
        })(),
      ],
      cleanups,
    );
    timings.dynamodbMs = dynamo.startMs;
    timings.sqsMs = sqsEmulator.startMs;

    const model = readTemplate(template);
    const endpoints = { region, dynamodbEndpoint: dynamo.endpoint, sqsEndpoint: sqsEmulator.endpoint, snsEndpoint: sqsEmulator.endpoint };
    const clients = createLocalClients(endpoints);
    cleanups.push(async () => clients.destroy());

    const webhooks = planWebhooks(model, template, options);
    const provisionStarted = Date.now();
    const [[tables, queues, topics], receiver] = await Promise.all([
      (async () => {
        const [createdTables, createdQueues] = await Promise.all([createTables(clients.dynamodb, model.tables), createQueues(clients.sqs, model.queues)]);
        const createdTopics = await createTopics(clients.sns, model.topics);
        await createSubscriptions(
          clients.sns,
          model.subscriptions,
          new Map(createdTopics.map((t) => [t.spec.logicalId, t])),
          new Map(createdQueues.map((q) => [q.spec.logicalId, q])),
        );
        return [createdTables, createdQueues, createdTopics] as const;
      })(),
      (async () => {
        if (!webhooks.receiver) return undefined;
        const started = await startWebhookReceiverProcess({
          port: webhooks.receiver.port,
          secret: webhooks.receiver.secret,
          ...(webhooks.receiver.args && { args: webhooks.receiver.args }),
          repoRoot: REPO_ROOT,
          log: log.child('receiver'),
          pidFile,
        });
        cleanups.push(() => started.stop());
        return started;
      })(),
    ]);
    timings.provisionMs = Date.now() - provisionStarted;
    const webhookReceiverUrl = receiver && webhooks.receiver ? new URL(webhooks.receiver.path, receiver.url).href : undefined;

    let tossLocal: TossLocalServer | undefined;
    if (paymentGateway.kind === 'toss-local') {
      const port = paymentGateway.port ?? envNumber('TOSS_LOCAL_PORT', DEFAULT_TOSS_LOCAL_PORT);
      if (port !== 0) await assertPortFree(port, 'toss-local', 'TOSS_LOCAL_PORT');
      const tossLog = log.child('toss-local');
      tossLocal = await startTossLocalServer({
        secretKey: `test_sk_local_${randomBytes(12).toString('hex')}`,
        port,
        ...(paymentGateway.webhookRetryDelaysMs && { webhookRetryDelaysMs: paymentGateway.webhookRetryDelaysMs }),
        ...(paymentGateway.faults && { faults: paymentGateway.faults }),
        log: (line: string) => tossLog.debug(line),
      });
      const started = tossLocal;
      cleanups.push(() => started.close());
    }
    const toss =
      paymentGateway.kind === 'toss'
        ? { baseUrl: paymentGateway.baseUrl, secretKey: paymentGateway.secretKey }
        : tossLocal
          ? { baseUrl: tossLocal.url, secretKey: tossLocal.secretKey }
          : undefined;

    const handlersStarted = Date.now();
    const functions = await loadFunctions(
      model,
      template,
      {
        region,
        tables,
        queues,
        topics,
        pgCallbackSecret,
        ...(toss && { toss }),
        webhookSecretsById: webhooks.secretsById,
        adjustEnvironment: (env) => {
          const subscriber = env[ENV.subscriberName];
          if (subscriber === undefined || env[ENV.webhookUrl] === undefined) return env;
          const override = options.webhookOverrides?.[subscriber];
          const url = override?.url ?? (subscriber === webhooks.receiver?.subscriber ? webhookReceiverUrl : undefined);
          return { ...env, ...(url !== undefined && { [ENV.webhookUrl]: url }), ...override?.env };
        },
        endpoints,
        log,
        handlerLogLevel: options.handlerLogLevel,
        functionClients: options.functionClients,
        functionEnvironment: options.functionEnvironment,
      },
      cleanups,
    );
    timings.handlersMs = Date.now() - handlersStarted;

    const api = await startApiServer({ port: apiPort, routes: model.routes, functions, stage: model.stageName, log: log.child('api') });
    cleanups.push(() => api.stop());
    const tossDepositCallbackUrl = toss ? new URL('pg/webhooks/toss', api.url.endsWith('/') ? api.url : `${api.url}/`).href : undefined;
    if (tossLocal && tossDepositCallbackUrl) tossLocal.setWebhookUrl(tossDepositCallbackUrl);

    const tablesById = new Map(tables.map((t) => [t.spec.logicalId, t]));
    const queuesById = new Map(queues.map((q) => [q.spec.logicalId, q]));
    const streamPollers = model.streamMappings
      .filter((m) => m.enabled)
      .map((mapping) => {
        const fn = functions.get(mapping.functionLogicalId) as LocalFunction;
        const table = tablesById.get(mapping.tableLogicalId);
        if (!table?.streamArn) throw new LocalStartupError(`${mapping.logicalId}: table ${mapping.tableLogicalId} has no stream`);
        const onFailureQueue = mapping.onFailureQueueLogicalId ? queuesById.get(mapping.onFailureQueueLogicalId) : undefined;
        return new StreamPoller({
          name: fn.spec.shortName,
          mapping,
          streamArn: table.streamArn,
          region,
          fn,
          streams: clients.streams,
          sqs: clients.sqs,
          ...(onFailureQueue && { onFailureQueue }),
          log: log.child(fn.spec.shortName),
          ...(options.streamPollIntervalMs !== undefined && { pollIntervalMs: options.streamPollIntervalMs }),
          ...(options.retryBackoff && { retryBackoff: options.retryBackoff }),
        });
      });
    const queuePollers = (options.consumers ?? true)
      ? model.queueMappings
          .filter((m) => m.enabled)
          .map((mapping) => {
            const fn = functions.get(mapping.functionLogicalId) as LocalFunction;
            const queue = queuesById.get(mapping.queueLogicalId) as CreatedQueue;
            const dispatcher = webhooks.dispatchers.get(mapping.functionLogicalId);
            const name = dispatcher ? `webhook:${dispatcher.subscriber}` : fn.spec.shortName;
            const pollerLog = log.child(dispatcher ? `webhook ${dispatcher.subscriber}` : fn.spec.shortName);
            const deliveriesTable = dispatcher && tables.find((t) => t.spec.logicalId === dispatcher.deliveriesTableLogicalId)?.tableName;
            return new SqsPoller({
              name,
              mapping,
              queue,
              region,
              fn,
              sqs: clients.sqs,
              log: pollerLog,
              ...(options.sqsConcurrency !== undefined && { concurrency: options.sqsConcurrency }),
              ...(options.sqsWaitTimeSeconds !== undefined && { waitTimeSeconds: options.sqsWaitTimeSeconds }),
              // A dispatcher sets its messages' visibility itself (its backoff): no acceleration that would reset it.
              ...(options.sqsFailedMessageVisibilitySeconds !== undefined &&
                !dispatcher && { failedMessageVisibilitySeconds: options.sqsFailedMessageVisibilitySeconds }),
              ...(dispatcher &&
                deliveriesTable && {
                  reporter: webhookInvocationReporter({ subscriber: dispatcher.subscriber, deliveriesTable, documents: clients.documents, log: pollerLog }),
                }),
            });
          })
      : [];
    for (const poller of [...streamPollers, ...queuePollers]) {
      if (options.startPaused) void poller.pause();
      poller.start();
      cleanups.push(() => poller.stop());
    }

    const ttlSweeper = new TtlSweeper({
      client: clients.dynamodb,
      tables: model.tables,
      log: log.child('ttl'),
      intervalSeconds: options.ttlSweepIntervalSeconds ?? 30,
    });
    ttlSweeper.start();
    cleanups.push(() => ttlSweeper.stop());

    const scheduler = new Scheduler({
      schedules: model.schedules,
      functions,
      region,
      log: log.child('schedule'),
      ...(options.scheduleIntervalSeconds !== undefined && { intervalSecondsOverride: options.scheduleIntervalSeconds }),
    });
    if (options.schedules ?? true) scheduler.start();
    cleanups.push(() => scheduler.stop());

    const figuresIntervalSeconds = options.figuresIntervalSeconds ?? 60;
    const outboxTable = tables.find((t) => t.tableName.includes('Outbox'));
    if (figuresIntervalSeconds > 0 && outboxTable) {
      const deadLetterIds = new Set(model.queues.flatMap((q) => (q.redrive ? [q.redrive.deadLetterQueueLogicalId] : [])));
      const figures = new FiguresReporter({
        documents: clients.documents,
        sqs: clients.sqs,
        outboxTable: outboxTable.tableName,
        ...(streamPollers[0] && { relay: streamPollers[0] }),
        consumers: queuePollers.filter((p) => !p.name.startsWith('webhook:')),
        deadLetterQueues: queues.filter((q) => deadLetterIds.has(q.spec.logicalId)),
        log: log.child('figures'),
        intervalSeconds: figuresIntervalSeconds,
      });
      figures.start();
      cleanups.push(() => figures.stop());
    }

    const endpointsFile: EndpointsFile = {
      apiUrl: api.url,
      region,
      sqsEndpoint: sqsEmulator.endpoint,
      snsEndpoint: sqsEmulator.endpoint,
      dynamodbEndpoint: dynamo.endpoint,
      queues: Object.fromEntries(queues.map((q) => [q.queueName, q.url])),
      topics: Object.fromEntries(topics.map((t) => [t.topicName, t.arn])),
      tables: Object.fromEntries(tables.map((t) => [t.spec.logicalId, t.tableName])),
      pgCallbackSecret,
      paymentGateway:
        toss && tossDepositCallbackUrl
          ? {
              kind: 'toss',
              baseUrl: toss.baseUrl,
              depositCallbackUrl: tossDepositCallbackUrl,
              // A key made up for this run is no secret; a real test key is never written to disk.
              ...(tossLocal && { local: { secretKey: tossLocal.secretKey, controlUrl: `${tossLocal.url}/_local` } }),
            }
          : { kind: 'sandbox' },
      webhookSecrets: Object.fromEntries(webhooks.secretsBySubscriber),
      ...(webhookReceiverUrl !== undefined && { webhookReceiverUrl }),
    };
    mkdirSync(stateDir, { recursive: true });
    const endpointsPath = endpointsFilePath(stateDir);
    writeFileSync(endpointsPath, `${JSON.stringify(endpointsFile, null, 2)}\n`);
    cleanups.push(async () => rmSync(endpointsPath, { force: true }));
    timings.totalMs = Date.now() - started;
    log.debug(`ready: ${JSON.stringify(timings)}`);

    const queuesByName = new Map(queues.map((q) => [q.queueName, q]));
    let stopped: Promise<void> | undefined;
    return {
      apiUrl: api.url,
      endpoints: endpointsFile,
      clients,
      model,
      template,
      tables: tablesById,
      queues: queuesByName,
      topics: new Map(topics.map((t) => [t.topicName, t])),
      ...(receiver && { webhookReceiver: receiver }),
      ...(tossLocal && { tossLocal }),
      functions,
      pollers: {
        streams: streamPollers,
        queues: queuePollers,
        stream: (name) => findByName(streamPollers, name),
        queue: (name) => findByName(queuePollers, name),
      },
      ttlSweeper,
      scheduler,
      timings,
      stateDir,
      pids: { dynamodb: dynamo.pid, sqs: sqsEmulator.pid, ...(receiver && { webhookReceiver: receiver.pid }) },
      tableName: (fragment) => {
        const found = tables.filter((t) => t.tableName.includes(fragment));
        if (found.length !== 1) throw new Error(`no single table matches "${fragment}" (${tables.map((t) => t.tableName).join(', ')})`);
        return (found[0] as CreatedTable).tableName;
      },
      scanTable: (fragment) => {
        const found = tables.filter((t) => t.tableName.includes(fragment));
        if (found.length !== 1) throw new Error(`no single table matches "${fragment}" (${tables.map((t) => t.tableName).join(', ')})`);
        return scanWholeTable(clients.documents, (found[0] as CreatedTable).tableName);
      },
      queueUrl: (name) => {
        const queue = queuesByName.get(name);
        if (!queue) throw new Error(`no queue named ${name}`);
        return queue.url;
      },
      topicArn: (name) => {
        const topic = topics.find((t) => t.topicName === name);
        if (!topic) throw new Error(`no topic named ${name}`);
        return topic.arn;
      },
      stop: () => (stopped ??= cleanup()),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function scanWholeTable(documents: LocalClients['documents'], tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

function findByName<T extends { name: string }>(pollers: readonly T[], name: string): T {
  const found = pollers.find((p) => p.name === name);
  if (!found) throw new Error(`no poller named ${name} (have: ${pollers.map((p) => p.name).join(', ') || 'none'})`);
  return found;
}

/** Like Promise.all, but registers the stop of everything that did start before rethrowing. */
async function settleAll<A extends DynamoDbLocal, B extends SqsEmulator, C>(
  tasks: [Promise<A>, Promise<B>, Promise<C>],
  cleanups: (() => Promise<void>)[],
): Promise<[A, B, C]> {
  const results = await Promise.allSettled(tasks);
  for (const result of results.slice(0, 2)) {
    if (result.status === 'fulfilled') {
      const emulator = result.value as DynamoDbLocal | SqsEmulator;
      cleanups.push(() => emulator.stop());
    }
  }
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [A, B, C];
}

interface LoadContext {
  readonly region: string;
  readonly tables: readonly CreatedTable[];
  readonly queues: readonly CreatedQueue[];
  readonly topics: readonly CreatedTopic[];
  readonly pgCallbackSecret: string;
  readonly toss?: { readonly baseUrl: string; readonly secretKey: string };
  /** Webhook signing keys by the logical id of the secret they stand for. */
  readonly webhookSecretsById: ReadonlyMap<string, string>;
  /** Local changes to a function's resolved environment (webhook URL and overrides). */
  readonly adjustEnvironment: (env: Record<string, string>) => Record<string, string>;
  readonly endpoints: LocalEndpoints;
  readonly log: LocalLogger;
  readonly handlerLogLevel: string | undefined;
  readonly functionClients: LocalStackOptions['functionClients'];
  readonly functionEnvironment: LocalStackOptions['functionEnvironment'];
}

/** Resolves every function's environment and builds its handler with clients of its own. */
async function loadFunctions(
  model: LocalModel,
  template: CfnTemplate,
  ctx: LoadContext,
  cleanups: (() => Promise<void>)[],
): Promise<Map<string, LocalFunction>> {
  const functionRefs = new Map(
    model.functions.map((f) => [f.logicalId, { functionName: f.logicalId, arn: `arn:aws:lambda:${ctx.region}:${LOCAL_ACCOUNT_ID}:function:${f.logicalId}` }]),
  );
  const registry: LocalRegistry = {
    region: ctx.region,
    stackName: 'PaymentOutboxStack',
    tables: new Map(ctx.tables.map((t) => [t.spec.logicalId, t])),
    queues: new Map(ctx.queues.map((q) => [q.spec.logicalId, q])),
    topics: new Map(ctx.topics.map((t) => [t.spec.logicalId, t])),
    functions: functionRefs,
    resourceTypes: Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [id, r.Type])),
  };
  const warned = new Set<string>();
  const onUnresolved = (logicalId: string, type: string, where: string) => {
    if (warned.has(logicalId)) return;
    warned.add(logicalId);
    ctx.log.warn(`${where} refers to ${logicalId} (${type}), which is not emulated: it gets a placeholder ARN`);
  };

  const functions = new Map<string, LocalFunction>();
  for (const spec of model.functions) {
    const ref = functionRefs.get(spec.logicalId) as { functionName: string; arn: string };
    const environment: Record<string, string> = {
      ...ctx.adjustEnvironment(
        resolveFunctionEnvironment(spec, registry, {
          pgCallbackSecret: ctx.pgCallbackSecret,
          ...(ctx.toss && { toss: ctx.toss }),
          webhookSecrets: ctx.webhookSecretsById,
          onUnresolved,
        }),
      ),
      POWERTOOLS_LOG_LEVEL: ctx.handlerLogLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      ...ctx.functionEnvironment?.[spec.shortName],
    };
    const own = createFunctionClients(ctx.endpoints);
    cleanups.push(async () => destroyAwsClients(own));
    const aws = ctx.functionClients?.({ logicalId: spec.logicalId, name: spec.shortName }, own) ?? own;
    functions.set(
      spec.logicalId,
      await loadFunction({ spec, functionName: ref.functionName, arn: ref.arn, repoRoot: REPO_ROOT, environment, aws }),
    );
  }
  return functions;
}

/** A webhook dispatcher of the template: the function with a WEBHOOK_URL and its subscriber. */
interface DispatcherPlan {
  readonly subscriber: string;
  /** WEBHOOK_URL as the template sets it. */
  readonly templateUrl?: string;
  readonly deliveriesTableLogicalId?: string;
}

interface WebhookPlan {
  /** Dispatcher functions by logical id. */
  readonly dispatchers: ReadonlyMap<string, DispatcherPlan>;
  /** Signing keys by the logical id of the secret WEBHOOK_SECRET_ARN names. */
  readonly secretsById: ReadonlyMap<string, string>;
  /** Signing keys by subscriber name. */
  readonly secretsBySubscriber: ReadonlyMap<string, string>;
  readonly receiver?: { readonly subscriber: string; readonly port: number; readonly secret: string; readonly path: string; readonly args?: readonly string[] };
}

const LOCAL_WEBHOOK_HOSTS = new Set(['localhost', '127.0.0.1']);

/** The template's webhook dispatchers, a random signing key per webhook secret, and whom the receiver stands in for. */
function planWebhooks(model: LocalModel, template: CfnTemplate, options: LocalStackOptions): WebhookPlan {
  const resourceTypes = Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [id, r.Type]));
  const dispatchers = new Map<string, DispatcherPlan>();
  const secretsById = new Map<string, string>();
  const secretsBySubscriber = new Map<string, string>();
  for (const spec of model.functions) {
    const name = webhookSubscriberOf(spec);
    if (name === undefined) continue;
    const url = spec.environment[ENV.webhookUrl];
    const table = spec.environment[ENV.deliveriesTable];
    const tableId = table !== null && typeof table === 'object' && !Array.isArray(table) && typeof table.Ref === 'string' ? table.Ref : undefined;
    dispatchers.set(spec.logicalId, { subscriber: name, ...(typeof url === 'string' && { templateUrl: url }), ...(tableId && { deliveriesTableLogicalId: tableId }) });
    const secret = webhookSecretReference(spec, resourceTypes);
    if (secret) {
      const value = options.webhookOverrides?.[name]?.secret ?? secretsById.get(secret.secretLogicalId) ?? formatWebhookSecret(randomBytes(32));
      secretsById.set(secret.secretLogicalId, value);
      secretsBySubscriber.set(name, value);
    }
  }
  let receiver: WebhookPlan['receiver'];
  // No receiver without dispatchers (--no-consumers): nothing would call it.
  if (options.webhookReceiver !== false && (options.consumers ?? true)) {
    for (const dispatcher of dispatchers.values()) {
      if (!dispatcher.templateUrl || options.webhookOverrides?.[dispatcher.subscriber]?.url !== undefined) continue;
      const url = new URL(dispatcher.templateUrl);
      const secret = secretsBySubscriber.get(dispatcher.subscriber);
      if (url.protocol !== 'http:' || !LOCAL_WEBHOOK_HOSTS.has(url.hostname) || secret === undefined) continue;
      const port = options.webhookReceiver?.port ?? webhookReceiverPortFromEnvironment() ?? Number(url.port || '80');
      const args = options.webhookReceiver?.args;
      receiver = { subscriber: dispatcher.subscriber, port, secret, path: `${url.pathname}${url.search}`, ...(args && { args }) };
      break;
    }
  }
  return { dispatchers, secretsById, secretsBySubscriber, ...(receiver && { receiver }) };
}
