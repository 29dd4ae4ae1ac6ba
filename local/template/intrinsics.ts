/**
 * Resolves CloudFormation values (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split)
 * against the resources the local runner created: a Ref to a table is its local name, a Ref to
 * a queue its emulator URL, a Ref to a topic its ARN, and so on, as CloudFormation would resolve them on AWS.
 */
import { LocalStartupError } from '../errors';
import { isRecord, type CfnValue } from './types';

export const LOCAL_ACCOUNT_ID = '000000000000';

export interface LocalTableRef {
  readonly tableName: string;
  readonly arn: string;
  readonly streamArn?: string;
}
export interface LocalQueueRef {
  readonly queueName: string;
  readonly url: string;
  readonly arn: string;
}
export interface LocalTopicRef {
  readonly topicName: string;
  readonly arn: string;
}
export interface LocalFunctionRef {
  readonly functionName: string;
  readonly arn: string;
}

/** What a value can refer to locally. */
export interface LocalRegistry {
  readonly region: string;
  readonly stackName: string;
  readonly tables: ReadonlyMap<string, LocalTableRef>;
  readonly queues: ReadonlyMap<string, LocalQueueRef>;
  readonly functions: ReadonlyMap<string, LocalFunctionRef>;
  /** SNS topics by logical id (a Ref is the topic ARN, as on AWS). @default none */
  readonly topics?: ReadonlyMap<string, LocalTopicRef>;
  /** Every logical id of the template with its type (for placeholders of resources not emulated). */
  readonly resourceTypes: Readonly<Record<string, string>>;
  readonly parameters?: Readonly<Record<string, string>>;
}

/** Called for a reference to a resource that has no local counterpart (it resolves to a placeholder ARN). */
export type UnresolvedHandler = (logicalId: string, type: string, where: string) => void;

export function resolveString(value: CfnValue, registry: LocalRegistry, where: string, onUnresolved?: UnresolvedHandler): string {
  const resolved = resolve(value, registry, where, onUnresolved);
  if (Array.isArray(resolved)) throw new LocalStartupError(`${where}: expected a string, got a list`);
  return resolved;
}

function resolve(value: CfnValue, registry: LocalRegistry, where: string, onUnresolved?: UnresolvedHandler): string | string[] {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return '';
  if (Array.isArray(value)) return value.map((v) => resolveString(v, registry, where, onUnresolved));
  if (!isRecord(value)) return String(value);

  const keys = Object.keys(value);
  const fn = keys[0];
  if (keys.length !== 1 || fn === undefined) throw new LocalStartupError(`${where}: cannot resolve ${JSON.stringify(value)}`);
  const arg = value[fn] as CfnValue;
  switch (fn) {
    case 'Ref':
      return ref(String(arg), registry, where, onUnresolved);
    case 'Fn::GetAtt': {
      const parts = typeof arg === 'string' ? arg.split('.') : Array.isArray(arg) ? arg.map((a) => resolveString(a, registry, where, onUnresolved)) : [];
      const [logicalId, ...attribute] = parts;
      if (!logicalId || attribute.length === 0) throw new LocalStartupError(`${where}: malformed Fn::GetAtt`);
      return getAtt(logicalId, attribute.join('.'), registry, where, onUnresolved);
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') throw new LocalStartupError(`${where}: malformed Fn::Join`);
      const list = resolve(arg[1] as CfnValue, registry, where, onUnresolved);
      return (Array.isArray(list) ? list : [list]).join(arg[0]);
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) throw new LocalStartupError(`${where}: malformed Fn::Select`);
      const list = resolve(arg[1] as CfnValue, registry, where, onUnresolved);
      const item = (Array.isArray(list) ? list : [list])[Number(resolveString(arg[0] as CfnValue, registry, where, onUnresolved))];
      if (item === undefined) throw new LocalStartupError(`${where}: Fn::Select index out of range`);
      return item;
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') throw new LocalStartupError(`${where}: malformed Fn::Split`);
      return resolveString(arg[1] as CfnValue, registry, where, onUnresolved).split(arg[0]);
    }
    case 'Fn::Sub': {
      const [text, variables] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? [String(arg[0]), arg[1]] : ['', {}];
      const vars = isRecord(variables) ? variables : {};
      return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
        if (name in vars) return resolveString(vars[name] as CfnValue, registry, where, onUnresolved);
        const dot = name.indexOf('.');
        return dot > 0
          ? getAtt(name.slice(0, dot), name.slice(dot + 1), registry, where, onUnresolved)
          : ref(name, registry, where, onUnresolved);
      });
    }
    default:
      throw new LocalStartupError(`${where}: ${fn} is not supported locally`);
  }
}

function ref(name: string, registry: LocalRegistry, where: string, onUnresolved?: UnresolvedHandler): string {
  switch (name) {
    case 'AWS::Region':
      return registry.region;
    case 'AWS::AccountId':
      return LOCAL_ACCOUNT_ID;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return registry.stackName;
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${registry.region}:${LOCAL_ACCOUNT_ID}:stack/${registry.stackName}/local`;
    case 'AWS::NoValue':
      return '';
  }
  const table = registry.tables.get(name);
  if (table) return table.tableName;
  const queue = registry.queues.get(name);
  if (queue) return queue.url;
  const topic = registry.topics?.get(name);
  if (topic) return topic.arn;
  const fn = registry.functions.get(name);
  if (fn) return fn.functionName;
  const parameter = registry.parameters?.[name];
  if (parameter !== undefined) return parameter;
  return placeholder(name, registry, where, onUnresolved);
}

function getAtt(logicalId: string, attribute: string, registry: LocalRegistry, where: string, onUnresolved?: UnresolvedHandler): string {
  const table = registry.tables.get(logicalId);
  if (table) {
    if (attribute === 'Arn') return table.arn;
    if (attribute === 'StreamArn' && table.streamArn) return table.streamArn;
    throw new LocalStartupError(`${where}: ${logicalId}.${attribute} is not available locally`);
  }
  const queue = registry.queues.get(logicalId);
  if (queue) {
    if (attribute === 'Arn') return queue.arn;
    if (attribute === 'QueueUrl') return queue.url;
    if (attribute === 'QueueName') return queue.queueName;
    throw new LocalStartupError(`${where}: ${logicalId}.${attribute} is not available locally`);
  }
  const topic = registry.topics?.get(logicalId);
  if (topic) {
    if (attribute === 'TopicArn') return topic.arn;
    if (attribute === 'TopicName') return topic.topicName;
    throw new LocalStartupError(`${where}: ${logicalId}.${attribute} is not available locally`);
  }
  const fn = registry.functions.get(logicalId);
  if (fn && attribute === 'Arn') return fn.arn;
  return `${placeholder(logicalId, registry, where, onUnresolved)}${attribute === 'Arn' ? '' : `/${attribute}`}`;
}

/** An ARN-shaped stand-in for a resource that is not emulated (secret, key, log group, role). */
function placeholder(logicalId: string, registry: LocalRegistry, where: string, onUnresolved?: UnresolvedHandler): string {
  const type = registry.resourceTypes[logicalId];
  if (!type) throw new LocalStartupError(`${where}: reference to ${logicalId}, which is not in the template`);
  onUnresolved?.(logicalId, type, where);
  const service = type.split('::')[1]?.toLowerCase() ?? 'local';
  return `arn:aws:${service}:${registry.region}:${LOCAL_ACCOUNT_ID}:local/${logicalId}`;
}
