import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_MS, parseDuration, parseSmokeArgs, UsageError } from '../../tools/smoke/args';

describe('parseSmokeArgs', () => {
  it('reads a deployed stack with its region and timeout', () => {
    expect(parseSmokeArgs(['--stack', 'PaymentOutbox-dev', '--region', 'ap-northeast-2', '--timeout', '90s'])).toEqual({
      help: false,
      target: { kind: 'stack', stackName: 'PaymentOutbox-dev', region: 'ap-northeast-2' },
      timeoutMs: 90_000,
    });
  });

  it('reads --flag=value forms and leaves the region to the SDK chain when absent', () => {
    expect(parseSmokeArgs(['--stack=PaymentOutbox'])).toEqual({
      help: false,
      target: { kind: 'stack', stackName: 'PaymentOutbox' },
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
  });

  it('reads the local target with an optional endpoints file', () => {
    expect(parseSmokeArgs(['--local'])).toEqual({ help: false, target: { kind: 'local' }, timeoutMs: DEFAULT_TIMEOUT_MS });
    expect(parseSmokeArgs(['--local', '--endpoints', '/tmp/e.json', '--timeout', '2m'])).toEqual({
      help: false,
      target: { kind: 'local', endpointsFile: '/tmp/e.json' },
      timeoutMs: 120_000,
    });
  });

  it('answers help for --help and -h, whatever else is given', () => {
    expect(parseSmokeArgs(['--help'])).toEqual({ help: true });
    expect(parseSmokeArgs(['--local', '-h'])).toEqual({ help: true });
  });

  it.each([
    [[], 'name a target: --stack NAME (a deployed stack) or --local (npm start)'],
    [['--stack', 'A', '--local'], '--stack and --local exclude each other'],
    [['--stack'], '--stack needs a value'],
    [['--stack', '--local'], '--stack needs a value'],
    [['--stack', '1bad'], '--stack: "1bad" is not a CloudFormation stack name'],
    [['--stack', 'A', '--endpoints', 'f.json'], '--endpoints applies to --local only'],
    [['--local', '--region', 'us-east-1'], '--region applies to --stack only (the local stack has its own region)'],
    [['--local', '--local=yes'], '--local takes no value'],
    [['--local', '--verbose'], 'unknown option --verbose'],
    [['local'], 'unexpected argument "local"'],
    [['--stack', 'A', '--stack', 'B'], '--stack given twice'],
    [['--local', '--timeout', 'soon'], '--timeout: not a duration: "soon" (use e.g. 30s, 500ms, 2m)'],
    [['--local', '--timeout', '500ms'], '--timeout: at least 1s, got "500ms"'],
  ])('rejects %j: %s', (argv, message) => {
    expect(() => parseSmokeArgs(argv)).toThrow(new UsageError(message));
  });
});

describe('parseDuration', () => {
  it('reads milliseconds, seconds (also bare) and minutes', () => {
    expect(parseDuration('1500ms', '--timeout')).toBe(1500);
    expect(parseDuration('45', '--timeout')).toBe(45_000);
    expect(parseDuration('1.5m', '--timeout')).toBe(90_000);
  });
});
