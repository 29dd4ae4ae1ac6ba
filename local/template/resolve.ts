/**
 * Reads the synthesized template into the local model: tables, queues, functions, event source
 * mappings and API routes, with every setting the local runner plays. Pure: no I/O.
 * Values that depend on local resources (names, URLs, ARNs) stay as CloudFormation values here
 * and are resolved by `intrinsics.ts` once the emulators have created the resources.
 */
import { ENV } from '../../lambdas/platform/env-names';
import { LocalStartupError } from '../errors';
import { ENTRY_METADATA_KEY, isRecord, type CfnResource, type CfnTemplate, type CfnValue } from './types';

export interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}

export interface TableSpec {
  readonly logicalId: string;
  /** Local name: the template's TableName if it sets one, else the logical id. */
  readonly tableName: string;
  readonly keySchema: KeySchemaElement[];
  readonly attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  readonly globalSecondaryIndexes: GlobalSecondaryIndexSpec[];
  readonly localSecondaryIndexes: LocalSecondaryIndexSpec[];
  /** StreamViewType when the table has a stream. */
  readonly streamViewType?: 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';
  /** TTL attribute when TimeToLiveSpecification is enabled. */
  readonly ttlAttribute?: string;
}

export interface GlobalSecondaryIndexSpec {
  readonly IndexName: string;
  readonly KeySchema: KeySchemaElement[];
  readonly Projection: { ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
}
export type LocalSecondaryIndexSpec = GlobalSecondaryIndexSpec;

export interface QueueSpec {
  readonly logicalId: string;
  /** Local name: QueueName if set, else the logical id (+ `.fifo` for a FIFO queue). */
  readonly queueName: string;
  readonly fifo: boolean;
  /** CreateQueue attributes that need no resolution (VisibilityTimeout, ContentBasedDeduplication, ...). */
  readonly attributes: Record<string, string>;
  readonly redrive?: { readonly deadLetterQueueLogicalId: string; readonly maxReceiveCount: number };
}

/** An SNS topic (`AWS::SNS::Topic`), created in the SNS emulator (fauxqs serves SNS on its SQS port). */
export interface TopicSpec {
  readonly logicalId: string;
  /** Local name: TopicName if set, else the logical id (+ `.fifo` for a FIFO topic). */
  readonly topicName: string;
  readonly fifo: boolean;
  /** CreateTopic attributes that need no resolution (FifoTopic, ContentBasedDeduplication). */
  readonly attributes: Record<string, string>;
}

/** An SNS subscription of a queue of this template to a topic of this template. */
export interface SubscriptionSpec {
  readonly logicalId: string;
  readonly topicLogicalId: string;
  /** The subscribed queue (Endpoint = Fn::GetAtt <queue>.Arn). */
  readonly queueLogicalId: string;
  readonly rawMessageDelivery: boolean;
  /** FilterPolicy as JSON text, when the subscription filters. */
  readonly filterPolicy?: string;
  readonly filterPolicyScope?: 'MessageAttributes' | 'MessageBody';
}

export interface FunctionSpec {
  readonly logicalId: string;
  /** Repo-relative handler source (Metadata `payment-outbox:entry`). */
  readonly entry: string;
  /** The export named by Handler (`index.handler` -> `handler`). */
  readonly exportName: string;
  /** A readable name: the function's folder (`outbox-relay`, `create-payment`), or the entry's file name without extension. */
  readonly shortName: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Environment.Variables as in the template (may hold Ref / Fn::GetAtt / Fn::Join). */
  readonly environment: Record<string, CfnValue>;
}

/** The subscriber a webhook dispatcher delivers for (SUBSCRIBER_NAME next to a WEBHOOK_URL), or `undefined` for any other function. */
export function webhookSubscriberOf(spec: FunctionSpec): string | undefined {
  const name = spec.environment[ENV.subscriberName];
  return typeof name === 'string' && spec.environment[ENV.webhookUrl] !== undefined ? name : undefined;
}

export interface StreamMappingSpec {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  readonly tableLogicalId: string;
  readonly enabled: boolean;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** FilterCriteria.Filters[].Pattern, each a JSON string. */
  readonly filterPatterns: string[];
  readonly bisectBatchOnFunctionError: boolean;
  /** -1 = infinite. */
  readonly maximumRetryAttempts: number;
  /** -1 = infinite. */
  readonly maximumRecordAgeInSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly parallelizationFactor: number;
  /** Logical id of the on-failure destination queue. */
  readonly onFailureQueueLogicalId?: string;
}

export interface QueueMappingSpec {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  readonly queueLogicalId: string;
  readonly enabled: boolean;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly filterPatterns: string[];
  readonly reportBatchItemFailures: boolean;
  readonly maximumConcurrency?: number;
}

export interface RouteSpec {
  readonly methodLogicalId: string;
  readonly httpMethod: string;
  /** Resource path with `{param}` / `{proxy+}` placeholders, e.g. `/payments/{paymentId}/confirm`. */
  readonly path: string;
  readonly authorizationType: string;
  /** Lambda proxy integration target, or undefined for a MOCK integration. */
  readonly functionLogicalId?: string;
  /** MOCK integrations (CORS preflight): status and headers of the first integration response. */
  readonly mock?: { readonly statusCode: number; readonly headers: Record<string, string> };
}

/** An EventBridge rule with a schedule that targets a function of the template. */
export interface ScheduleSpec {
  readonly logicalId: string;
  /** As in the template, e.g. `rate(1 minute)`. */
  readonly expression: string;
  /** Seconds between runs for `rate(...)`; undefined for `cron(...)` (not played locally). */
  readonly rateSeconds?: number;
  readonly functionLogicalId: string;
  /** The target's constant Input (parsed JSON), if any. */
  readonly input?: unknown;
  readonly enabled: boolean;
}

export interface LocalModel {
  readonly tables: TableSpec[];
  readonly queues: QueueSpec[];
  readonly topics: TopicSpec[];
  readonly subscriptions: SubscriptionSpec[];
  readonly functions: FunctionSpec[];
  readonly streamMappings: StreamMappingSpec[];
  readonly queueMappings: QueueMappingSpec[];
  readonly routes: RouteSpec[];
  readonly schedules: ScheduleSpec[];
  /** Logical ids of AWS::SecretsManager::Secret resources. */
  readonly secrets: string[];
  /** API Gateway stage name (for requestContext.stage). */
  readonly stageName: string;
  /** Functions without entry metadata (CDK custom-resource providers etc.): not run locally. */
  readonly skippedFunctions: string[];
}

const TABLE_TYPES = new Set(['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable']);

/** Reads `template` into the local model, or throws a LocalStartupError naming what it cannot play. */
export function readTemplate(template: CfnTemplate): LocalModel {
  const resources = template.Resources ?? {};
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  const tables = Object.entries(resources)
    .filter(([, r]) => TABLE_TYPES.has(r.Type))
    .map(([id, r]) => readTable(id, r));
  const queues = orderDeadLetterQueuesFirst(byType('AWS::SQS::Queue').map(([id, r]) => readQueue(id, r, resources)));

  // Subscriptions that notify people (the alarm topic's email) are not played locally.
  const subscriptions = byType('AWS::SNS::Subscription')
    .filter(([, r]) => props(r).Protocol !== 'email' && props(r).Protocol !== 'email-json')
    .map(([id, r]) => readSubscription(id, r, resources));

  const functions: FunctionSpec[] = [];
  const skippedFunctions: string[] = [];
  for (const [id, r] of byType('AWS::Lambda::Function')) {
    const entry = r.Metadata?.[ENTRY_METADATA_KEY];
    if (typeof entry === 'string') functions.push(readFunction(id, r, entry));
    else skippedFunctions.push(id);
  }
  const functionIds = new Set(functions.map((f) => f.logicalId));

  const streamMappings: StreamMappingSpec[] = [];
  const queueMappings: QueueMappingSpec[] = [];
  for (const [id, r] of byType('AWS::Lambda::EventSourceMapping')) {
    const mapping = readEventSourceMapping(id, r, resources, functionIds);
    if ('tableLogicalId' in mapping) streamMappings.push(mapping);
    else queueMappings.push(mapping);
  }

  // Only the topics something here uses (a function publishes to, a queue subscribes to): the alarm
  // topic, which only CloudWatch alarms notify, has no local role.
  const usedTopics = new Set([
    ...subscriptions.map((subscription) => subscription.topicLogicalId),
    ...functions.flatMap((fn) => Object.values(fn.environment).map((value) => referencedLogicalId(value)).filter((id): id is string => id !== undefined)),
  ]);
  const topics = byType('AWS::SNS::Topic')
    .filter(([id]) => usedTopics.has(id))
    .map(([id, r]) => readTopic(id, r));

  const routes = readRoutes(resources, functionIds);
  const stage = byType('AWS::ApiGateway::Stage')[0]?.[1].Properties?.StageName;

  return {
    tables,
    queues,
    topics,
    subscriptions,
    functions,
    streamMappings,
    queueMappings,
    routes,
    schedules: byType('AWS::Events::Rule').flatMap(([id, r]) => readSchedules(id, r, functionIds)),
    secrets: byType('AWS::SecretsManager::Secret').map(([id]) => id),
    stageName: typeof stage === 'string' ? stage : 'prod',
    skippedFunctions,
  };
}

function fail(logicalId: string, message: string): never {
  throw new LocalStartupError(`template resource ${logicalId}: ${message}`);
}

function props(resource: CfnResource): Record<string, CfnValue> {
  return resource.Properties ?? {};
}

function readTable(logicalId: string, resource: CfnResource): TableSpec {
  const p = props(resource);
  const keySchema = p.KeySchema as unknown as KeySchemaElement[] | undefined;
  const attributeDefinitions = p.AttributeDefinitions as unknown as TableSpec['attributeDefinitions'] | undefined;
  if (!Array.isArray(keySchema) || !Array.isArray(attributeDefinitions)) fail(logicalId, 'a table needs KeySchema and AttributeDefinitions');
  const stream = isRecord(p.StreamSpecification) ? p.StreamSpecification.StreamViewType : undefined;
  const ttl = isRecord(p.TimeToLiveSpecification) ? p.TimeToLiveSpecification : undefined;
  const ttlEnabled = ttl !== undefined && ttl.Enabled !== false && typeof ttl.AttributeName === 'string';
  const indexes = (value: CfnValue | undefined): GlobalSecondaryIndexSpec[] =>
    Array.isArray(value)
      ? value.filter(isRecord).map((i) => ({
          IndexName: String(i.IndexName),
          KeySchema: i.KeySchema as unknown as KeySchemaElement[],
          Projection: (isRecord(i.Projection) ? i.Projection : { ProjectionType: 'ALL' }) as GlobalSecondaryIndexSpec['Projection'],
        }))
      : [];
  return {
    logicalId,
    tableName: typeof p.TableName === 'string' ? p.TableName : logicalId,
    keySchema,
    attributeDefinitions,
    globalSecondaryIndexes: indexes(p.GlobalSecondaryIndexes),
    localSecondaryIndexes: indexes(p.LocalSecondaryIndexes),
    ...(typeof stream === 'string' && { streamViewType: stream as TableSpec['streamViewType'] }),
    ...(ttlEnabled && { ttlAttribute: String(ttl.AttributeName) }),
  };
}

/** Queue properties passed to CreateQueue as they are (everything else is not emulated: encryption, tags). */
const PLAIN_QUEUE_ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

function readQueue(logicalId: string, resource: CfnResource, resources: Record<string, CfnResource>): QueueSpec {
  const p = props(resource);
  const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
  const attributes: Record<string, string> = {};
  if (fifo) attributes.FifoQueue = 'true';
  for (const name of PLAIN_QUEUE_ATTRIBUTES) {
    const value = p[name];
    if (value !== undefined && value !== null && typeof value !== 'object') attributes[name] = String(value);
  }
  let redrive: QueueSpec['redrive'];
  if (p.RedrivePolicy !== undefined) {
    const policy = typeof p.RedrivePolicy === 'string' ? (JSON.parse(p.RedrivePolicy) as CfnValue) : p.RedrivePolicy;
    if (!isRecord(policy)) fail(logicalId, 'RedrivePolicy must be an object');
    const target = referencedLogicalId(policy.deadLetterTargetArn, 'Arn');
    if (!target || resources[target]?.Type !== 'AWS::SQS::Queue') {
      fail(logicalId, 'RedrivePolicy.deadLetterTargetArn must be Fn::GetAtt <queue>.Arn of a queue in this template');
    }
    redrive = { deadLetterQueueLogicalId: target, maxReceiveCount: Number(policy.maxReceiveCount) };
  }
  const name = typeof p.QueueName === 'string' ? p.QueueName : fifo ? `${logicalId}.fifo` : logicalId;
  return { logicalId, queueName: name, fifo, attributes, ...(redrive && { redrive }) };
}

/** Dead-letter queues before the queues that name them (CreateQueue needs the target ARN). */
function orderDeadLetterQueuesFirst(queues: QueueSpec[]): QueueSpec[] {
  const byId = new Map(queues.map((q) => [q.logicalId, q]));
  const ordered: QueueSpec[] = [];
  const visiting = new Set<string>();
  const visit = (queue: QueueSpec) => {
    if (ordered.includes(queue)) return;
    if (visiting.has(queue.logicalId)) fail(queue.logicalId, 'redrive policies form a cycle');
    visiting.add(queue.logicalId);
    const dlq = queue.redrive && byId.get(queue.redrive.deadLetterQueueLogicalId);
    if (dlq) visit(dlq);
    ordered.push(queue);
  };
  queues.forEach(visit);
  return ordered;
}

function readTopic(logicalId: string, resource: CfnResource): TopicSpec {
  const p = props(resource);
  const fifo = p.FifoTopic === true || p.FifoTopic === 'true';
  const attributes: Record<string, string> = {};
  if (fifo) attributes.FifoTopic = 'true';
  const contentBased = p.ContentBasedDeduplication;
  if (contentBased !== undefined && contentBased !== null && typeof contentBased !== 'object') {
    attributes.ContentBasedDeduplication = String(contentBased);
  }
  const name = typeof p.TopicName === 'string' ? p.TopicName : fifo ? `${logicalId}.fifo` : logicalId;
  if (fifo !== name.endsWith('.fifo')) fail(logicalId, `a FIFO topic's name ends in .fifo and only a FIFO topic's does (${name})`);
  return { logicalId, topicName: name, fifo, attributes };
}

/** Only SQS subscriptions of this template's queues to this template's topics can be played locally. */
function readSubscription(logicalId: string, resource: CfnResource, resources: Record<string, CfnResource>): SubscriptionSpec {
  const p = props(resource);
  if (p.Protocol !== 'sqs') fail(logicalId, `only SNS subscriptions with Protocol sqs are played locally, got ${JSON.stringify(p.Protocol)}`);
  const topic = referencedLogicalId(p.TopicArn);
  if (!topic || resources[topic]?.Type !== 'AWS::SNS::Topic') {
    fail(logicalId, 'TopicArn must be a Ref to a topic of this template');
  }
  const queue = referencedLogicalId(p.Endpoint, 'Arn');
  if (!queue || resources[queue]?.Type !== 'AWS::SQS::Queue') fail(logicalId, 'Endpoint must be Fn::GetAtt <queue>.Arn of a queue in this template');
  const scope = p.FilterPolicyScope;
  if (scope !== undefined && scope !== 'MessageAttributes' && scope !== 'MessageBody') fail(logicalId, `unknown FilterPolicyScope ${JSON.stringify(scope)}`);
  const policy = p.FilterPolicy;
  if (policy !== undefined && typeof policy !== 'string' && !isRecord(policy)) fail(logicalId, 'FilterPolicy must be an object');
  return {
    logicalId,
    topicLogicalId: topic,
    queueLogicalId: queue,
    rawMessageDelivery: p.RawMessageDelivery === true || p.RawMessageDelivery === 'true',
    ...(policy !== undefined && { filterPolicy: typeof policy === 'string' ? policy : JSON.stringify(policy) }),
    ...(scope !== undefined && { filterPolicyScope: scope }),
  };
}

/** `lambdas/functions/<name>/entry.ts` -> `<name>`; any other entry -> its file name without extension. */
export function functionNameOfEntry(entry: string): string | undefined {
  const parts = entry.split('/');
  const file = parts.at(-1)?.replace(/\.(ts|mts|js|mjs)$/, '');
  return file === 'entry' && parts.length > 1 ? parts.at(-2) : file;
}

function readFunction(logicalId: string, resource: CfnResource, entry: string): FunctionSpec {
  const p = props(resource);
  const handler = typeof p.Handler === 'string' ? p.Handler : 'index.handler';
  const exportName = handler.slice(handler.lastIndexOf('.') + 1);
  const environment = isRecord(p.Environment) && isRecord(p.Environment.Variables) ? p.Environment.Variables : {};
  const shortName = functionNameOfEntry(entry) ?? logicalId;
  return {
    logicalId,
    entry,
    exportName,
    shortName,
    timeoutSeconds: typeof p.Timeout === 'number' ? p.Timeout : 3,
    memoryMb: typeof p.MemorySize === 'number' ? p.MemorySize : 128,
    environment,
  };
}

/**
 * The logical id a value points at: `{Ref: X}`, `{Fn::GetAtt: [X, attribute]}` or `{Fn::GetAtt: "X.attribute"}`.
 * With `attribute`, a GetAtt must name that attribute.
 */
export function referencedLogicalId(value: CfnValue | undefined, attribute?: string): string | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.Ref === 'string') return attribute === undefined ? value.Ref : undefined;
  const getAtt = value['Fn::GetAtt'];
  const parts = typeof getAtt === 'string' ? getAtt.split('.') : Array.isArray(getAtt) ? getAtt.map(String) : undefined;
  if (!parts || parts.length < 2) return undefined;
  if (attribute !== undefined && parts[1] !== attribute) return undefined;
  return parts[0];
}

function filterPatterns(p: Record<string, CfnValue>): string[] {
  const criteria = p.FilterCriteria;
  if (!isRecord(criteria) || !Array.isArray(criteria.Filters)) return [];
  return criteria.Filters.filter(isRecord).map((f) => (typeof f.Pattern === 'string' ? f.Pattern : JSON.stringify(f.Pattern)));
}

function readEventSourceMapping(
  logicalId: string,
  resource: CfnResource,
  resources: Record<string, CfnResource>,
  functionIds: Set<string>,
): StreamMappingSpec | QueueMappingSpec {
  const p = props(resource);
  const functionLogicalId = referencedLogicalId(p.FunctionName);
  if (!functionLogicalId || !functionIds.has(functionLogicalId)) {
    fail(logicalId, 'FunctionName must reference a function of this template that has "payment-outbox:entry" metadata');
  }
  const source = referencedLogicalId(p.EventSourceArn);
  const sourceType = source ? resources[source]?.Type : undefined;
  const responseTypes = Array.isArray(p.FunctionResponseTypes) ? p.FunctionResponseTypes : [];
  const common = {
    logicalId,
    functionLogicalId,
    enabled: p.Enabled !== false,
    maxBatchingWindowSeconds: typeof p.MaximumBatchingWindowInSeconds === 'number' ? p.MaximumBatchingWindowInSeconds : 0,
    filterPatterns: filterPatterns(p),
    reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
  };
  if (source && sourceType && TABLE_TYPES.has(sourceType)) {
    if (referencedLogicalId(p.EventSourceArn, 'StreamArn') !== source) fail(logicalId, 'EventSourceArn must be Fn::GetAtt <table>.StreamArn');
    const destination = isRecord(p.DestinationConfig) && isRecord(p.DestinationConfig.OnFailure) ? p.DestinationConfig.OnFailure.Destination : undefined;
    const onFailure = destination === undefined ? undefined : referencedLogicalId(destination, 'Arn');
    if (destination !== undefined && (!onFailure || resources[onFailure]?.Type !== 'AWS::SQS::Queue')) {
      fail(logicalId, 'only an SQS queue of this template is supported as on-failure destination locally');
    }
    return {
      ...common,
      tableLogicalId: source,
      batchSize: typeof p.BatchSize === 'number' ? p.BatchSize : 100,
      startingPosition: p.StartingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
      bisectBatchOnFunctionError: p.BisectBatchOnFunctionError === true,
      maximumRetryAttempts: typeof p.MaximumRetryAttempts === 'number' ? p.MaximumRetryAttempts : -1,
      maximumRecordAgeInSeconds: typeof p.MaximumRecordAgeInSeconds === 'number' ? p.MaximumRecordAgeInSeconds : -1,
      parallelizationFactor: typeof p.ParallelizationFactor === 'number' ? p.ParallelizationFactor : 1,
      ...(onFailure && { onFailureQueueLogicalId: onFailure }),
    };
  }
  if (source && sourceType === 'AWS::SQS::Queue') {
    const scaling = isRecord(p.ScalingConfig) ? p.ScalingConfig.MaximumConcurrency : undefined;
    return {
      ...common,
      queueLogicalId: source,
      batchSize: typeof p.BatchSize === 'number' ? p.BatchSize : 10,
      ...(typeof scaling === 'number' && { maximumConcurrency: scaling }),
    };
  }
  return fail(logicalId, 'only DynamoDB stream and SQS event sources of this template can be played locally');
}

function readRoutes(resources: Record<string, CfnResource>, functionIds: Set<string>): RouteSpec[] {
  const pathOf = (value: CfnValue | undefined, seen: string[] = []): string => {
    // The root resource: Fn::GetAtt [RestApi, RootResourceId].
    if (referencedLogicalId(value, 'RootResourceId')) return '';
    const id = referencedLogicalId(value);
    const resource = id ? resources[id] : undefined;
    if (!id || resource?.Type !== 'AWS::ApiGateway::Resource') throw new LocalStartupError('API resource with an unreadable ParentId');
    if (seen.includes(id)) throw new LocalStartupError(`API resources form a cycle at ${id}`);
    const p = props(resource);
    return `${pathOf(p.ParentId, [...seen, id])}/${String(p.PathPart)}`;
  };

  const routes: RouteSpec[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::ApiGateway::Method') continue;
    const p = props(resource);
    const path = pathOf(p.ResourceId) || '/';
    const integration = isRecord(p.Integration) ? p.Integration : {};
    const base = { methodLogicalId: logicalId, httpMethod: String(p.HttpMethod).toUpperCase(), path, authorizationType: String(p.AuthorizationType ?? 'NONE') };
    if (integration.Type === 'MOCK') {
      const first = Array.isArray(integration.IntegrationResponses) ? integration.IntegrationResponses.find(isRecord) : undefined;
      const headers: Record<string, string> = {};
      const params = first && isRecord(first.ResponseParameters) ? first.ResponseParameters : {};
      for (const [key, value] of Object.entries(params)) {
        const header = /^method\.response\.header\.(.+)$/.exec(key)?.[1];
        if (header && typeof value === 'string') headers[header] = value.replace(/^'(.*)'$/, '$1');
      }
      routes.push({ ...base, mock: { statusCode: Number(first?.StatusCode ?? 204), headers } });
      continue;
    }
    const target = findFunctionInUri(integration.Uri, functionIds);
    if (!target) fail(logicalId, `${base.httpMethod} ${path}: only Lambda proxy integrations to functions with entry metadata (or MOCK) run locally`);
    routes.push({ ...base, functionLogicalId: target });
  }
  return routes;
}

/** Finds `Fn::GetAtt [<function>, Arn]` anywhere inside an integration Uri (it sits in an Fn::Join). */
function findFunctionInUri(value: CfnValue | undefined, functionIds: Set<string>): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findFunctionInUri(item, functionIds);
      if (found) return found;
    }
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const direct = referencedLogicalId(value, 'Arn');
  if (direct && functionIds.has(direct)) return direct;
  for (const inner of Object.values(value)) {
    const found = findFunctionInUri(inner, functionIds);
    if (found) return found;
  }
  return undefined;
}

const RATE_UNITS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };

/** Schedule rules targeting our functions; rules on event patterns are not played locally. */
function readSchedules(logicalId: string, resource: CfnResource, functionIds: Set<string>): ScheduleSpec[] {
  const p = props(resource);
  if (typeof p.ScheduleExpression !== 'string') return [];
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(p.ScheduleExpression);
  const rateSeconds = rate?.[1] && rate[2] ? Number(rate[1]) * (RATE_UNITS[rate[2]] ?? 0) : undefined;
  const targets = Array.isArray(p.Targets) ? p.Targets.filter(isRecord) : [];
  return targets.flatMap((target) => {
    const fn = referencedLogicalId(target.Arn, 'Arn');
    if (!fn || !functionIds.has(fn)) return [];
    return [
      {
        logicalId,
        expression: p.ScheduleExpression as string,
        ...(rateSeconds !== undefined && { rateSeconds }),
        functionLogicalId: fn,
        ...(typeof target.Input === 'string' && { input: JSON.parse(target.Input) as unknown }),
        enabled: p.State === undefined || p.State === 'ENABLED',
      },
    ];
  });
}
