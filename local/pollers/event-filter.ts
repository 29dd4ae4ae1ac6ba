/**
 * Lambda event filtering (FilterCriteria) for the local event source mappings: the
 * EventBridge-style pattern syntax Lambda documents (literal values, prefix, suffix,
 * anything-but, exists, numeric, equals-ignore-case). A record matches when any filter matches.
 * Rules apply to leaf values only, so `exists` on an attribute of a DynamoDB image needs its type level:
 * `{"dynamodb":{"NewImage":{"pendingShard":{"S":[{"exists":true}]}}}}`.
 */
import { LocalStartupError } from '../errors';

type Pattern = { [key: string]: Pattern | unknown[] };
export type RecordFilter = (record: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Compiles the template's filter patterns; no patterns = every record passes. */
export function compileFilters(patterns: readonly string[]): RecordFilter {
  if (patterns.length === 0) return () => true;
  const compiled = patterns.map((text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new LocalStartupError(`filter pattern is not JSON: ${text}`);
    }
    if (!isObject(parsed)) throw new LocalStartupError(`filter pattern must be an object: ${text}`);
    validate(parsed as Pattern, text);
    return parsed as Pattern;
  });
  return (record) => compiled.some((pattern) => matchesPattern(pattern, [record]));
}

const OPERATORS = new Set(['prefix', 'suffix', 'anything-but', 'exists', 'numeric', 'equals-ignore-case']);

function validate(pattern: Pattern, text: string): void {
  for (const value of Object.values(pattern)) {
    if (Array.isArray(value)) {
      for (const rule of value) {
        if (isObject(rule)) {
          const op = Object.keys(rule)[0];
          if (!op || !OPERATORS.has(op)) throw new LocalStartupError(`filter operator ${op} is not supported locally: ${text}`);
        }
      }
    } else if (isObject(value)) validate(value as Pattern, text);
    else throw new LocalStartupError(`filter pattern values must be arrays or objects: ${text}`);
  }
}

/**
 * The record is matched the way Lambda (like EventBridge) matches it: as a set of leaf values per
 * path. Arrays are flattened (a key below an array is looked up in each element), and a rule list
 * applies to the leaf values found at its path only; an object there is an intermediate node, which
 * no rule matches (Lambda: "the Exists operator only works on leaf nodes").
 */
function matchesPattern(pattern: Pattern, values: readonly unknown[]): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const children = childValues(values, key);
    if (Array.isArray(rule)) return matchesRules(rule, children.filter(isLeaf));
    return matchesPattern(rule as Pattern, children);
  });
}

function childValues(values: readonly unknown[], key: string): unknown[] {
  const children: unknown[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isObject(value) && value[key] !== undefined) {
      const child = value[key];
      if (Array.isArray(child)) children.push(...flatten(child));
      else children.push(child);
    }
  };
  values.forEach(visit);
  return children;
}

function flatten(values: readonly unknown[]): unknown[] {
  return values.flatMap((value) => (Array.isArray(value) ? flatten(value) : [value]));
}

const isLeaf = (value: unknown): boolean => value !== undefined && !isObject(value);

function matchesRules(rules: unknown[], leaves: readonly unknown[]): boolean {
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) return (leaves.length > 0) === Boolean(rule.exists);
    return leaves.some((leaf) => matchesRule(rule, leaf));
  });
}

function matchesRule(rule: unknown, value: unknown): boolean {
  if (!isObject(rule)) return rule === value;
  const [op, arg] = Object.entries(rule)[0] ?? [];
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && typeof arg === 'string' && value.startsWith(arg);
    case 'suffix':
      return typeof value === 'string' && typeof arg === 'string' && value.endsWith(arg);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'anything-but':
      if (Array.isArray(arg)) return !arg.includes(value);
      if (isObject(arg)) return !matchesRule(arg, value);
      return value !== arg;
    case 'numeric':
      return typeof value === 'number' && Array.isArray(arg) && matchesNumeric(arg, value);
    default:
      return false;
  }
}

function matchesNumeric(conditions: unknown[], value: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = Number(conditions[i + 1]);
    const ok =
      op === '=' ? value === bound : op === '<' ? value < bound : op === '<=' ? value <= bound : op === '>' ? value > bound : op === '>=' ? value >= bound : false;
    if (!ok) return false;
  }
  return true;
}
