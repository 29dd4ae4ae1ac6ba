/**
 * Lambda event filtering (FilterCriteria) for the local event source mappings: the
 * EventBridge-style pattern syntax Lambda documents (literal values, prefix, suffix,
 * anything-but, exists, numeric, equals-ignore-case). A record matches when any filter matches.
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
  return (record) => compiled.some((pattern) => matchesPattern(pattern, record));
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

function matchesPattern(pattern: Pattern, value: unknown): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const field = isObject(value) ? value[key] : undefined;
    if (Array.isArray(rule)) return matchesRules(rule, field);
    return matchesPattern(rule as Pattern, field);
  });
}

function matchesRules(rules: unknown[], field: unknown): boolean {
  const values = Array.isArray(field) ? field : [field];
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) return (field !== undefined) === Boolean(rule.exists);
    return values.some((v) => v !== undefined && matchesRule(rule, v));
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
