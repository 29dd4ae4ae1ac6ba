import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/platform/required-env';
import { readSecret, secretSourceFromEnv } from '../../lambdas/platform/secret-value';

const NAMES = { inline: 'HOOK_SECRET', arn: 'HOOK_SECRET_ARN' };
const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:hook-AbCdEf';

describe('secretSourceFromEnv', () => {
  it('takes the inline value when it is set, even beside an ARN', () => {
    expect(secretSourceFromEnv(NAMES, { HOOK_SECRET: 'local-key', HOOK_SECRET_ARN: ARN })).toEqual({ value: 'local-key' });
  });

  it('names the ARN when only the ARN is set', () => {
    expect(secretSourceFromEnv(NAMES, { HOOK_SECRET_ARN: ARN })).toEqual({ arn: ARN });
  });

  it.each([
    ['neither variable', {}],
    ['both empty', { HOOK_SECRET: '', HOOK_SECRET_ARN: '' }],
  ])('refuses %s with a ConfigurationError naming the ARN variable, at configuration time', (_case, env) => {
    expect(() => secretSourceFromEnv(NAMES, env)).toThrow(new ConfigurationError('HOOK_SECRET_ARN', 'is required (or HOOK_SECRET for local use)'));
    expect(() => secretSourceFromEnv(NAMES, env)).toThrow('Environment variable HOOK_SECRET_ARN is required (or HOOK_SECRET for local use)');
  });
});

describe('readSecret', () => {
  it('answers an inline value without calling Secrets Manager', async () => {
    await expect(readSecret({ value: 'local-key' })).resolves.toBe('local-key');
  });
});
