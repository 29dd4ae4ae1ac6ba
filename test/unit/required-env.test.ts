import { describe, expect, it } from 'vitest';
import { ConfigurationError, positiveIntEnv, requiredEnv } from '../../lambdas/platform/required-env';

describe('requiredEnv', () => {
  it('returns a set variable', () => {
    expect(requiredEnv('TABLE', { TABLE: 'Inbox' })).toBe('Inbox');
  });

  it.each([['unset', {}], ['blank', { TABLE: '  ' }]])('throws a ConfigurationError naming a %s variable', (_name, env) => {
    expect(() => requiredEnv('TABLE', env)).toThrow(new ConfigurationError('TABLE', 'is required but not set'));
  });
});

describe('positiveIntEnv', () => {
  it('returns the default when the variable is unset or blank', () => {
    expect(positiveIntEnv('DAYS', 30, {})).toBe(30);
    expect(positiveIntEnv('DAYS', 30, { DAYS: '' })).toBe(30);
  });

  it('parses a positive integer', () => {
    expect(positiveIntEnv('DAYS', 30, { DAYS: ' 7 ' })).toBe(7);
  });

  it.each(['0', '-1', '1.5', '7d', '1e3', '99999999999999999999'])('rejects %s', (value) => {
    expect(() => positiveIntEnv('DAYS', 30, { DAYS: value })).toThrow(
      new ConfigurationError('DAYS', `must be a positive integer, got "${value}"`),
    );
  });
});
