import { describe, expect, it } from 'vitest';
import { DEFAULT_DLQ_NAME, parseCommandLine } from '../../cli/args';
import { UsageError } from '../../cli/errors';

const usageError = (argv: string[]): string => {
  try {
    parseCommandLine(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
};

describe('parseCommandLine', () => {
  it('answers help without a command, with "help" and with --help', () => {
    expect(parseCommandLine([])).toEqual({ name: 'help' });
    expect(parseCommandLine(['help'])).toEqual({ name: 'help' });
    expect(parseCommandLine(['dlq', 'redrive', '--help'])).toEqual({ name: 'help', topic: 'dlq' });
  });

  it('parses a replay of one payment with a named queue, dry run and target flags', () => {
    const command = parseCommandLine(['replay', '--payment', 'pay_1', '--queue', 'audit.fifo', '--dry-run', '--aws', '--region', 'eu-west-1', '--outbox-table', 'Outbox-1']);

    expect(command).toEqual({
      name: 'replay',
      target: { mode: 'aws', region: 'eu-west-1', outboxTable: 'Outbox-1' },
      selection: { kind: 'payment', paymentId: 'pay_1' },
      queue: 'audit.fifo',
      dryRun: true,
    });
  });

  it('normalizes a replay time range to the stored occurredAt form (UTC, milliseconds)', () => {
    const command = parseCommandLine(['replay', '--from', '2026-11-25T10:00:00+09:00', '--to', '2026-11-26']);

    expect(command).toMatchObject({ name: 'replay', selection: { kind: 'range', from: '2026-11-25T01:00:00.000Z', to: '2026-11-26T00:00:00.000Z' }, dryRun: false });
  });

  it('rejects a replay with no selection, with both selections, with half a range or a reversed one', () => {
    expect(usageError(['replay'])).toMatch(/--payment <id> or --from/);
    expect(usageError(['replay', '--payment', 'p', '--from', '2026-11-25'])).toMatch(/either --payment or --from\/--to/);
    expect(usageError(['replay', '--from', '2026-11-25'])).toMatch(/both --from and --to/);
    expect(usageError(['replay', '--from', '2026-11-26', '--to', '2026-11-25'])).toMatch(/must be before --to/);
    expect(usageError(['replay', '--from', 'yesterday', '--to', '2026-11-25'])).toMatch(/--from must be an ISO 8601 time/);
  });

  it('rejects a run id that cannot be part of a deduplication id', () => {
    expect(usageError(['replay', '--payment', 'p', '--run-id', 'has space'])).toMatch(/--run-id must be/);
  });

  it('defaults the dlq commands to the payment events DLQ and parses their options', () => {
    expect(parseCommandLine(['dlq', 'list'])).toEqual({ name: 'dlq-list', target: {}, queue: DEFAULT_DLQ_NAME, max: 50, holdSeconds: 30 });
    expect(parseCommandLine(['dlq', 'show', 'm-1', '--queue', 'x-dlq.fifo', '--local'])).toEqual({
      name: 'dlq-show',
      target: { mode: 'local' },
      queue: 'x-dlq.fifo',
      messageId: 'm-1',
      max: 1000,
      holdSeconds: 30,
    });
    expect(parseCommandLine(['dlq', 'redrive', '--to', 'x.fifo', '--group', 'pay_1', '--dry-run', '--run-id', 'r1', '--hold-seconds', '60'])).toEqual({
      name: 'dlq-redrive',
      target: {},
      queue: DEFAULT_DLQ_NAME,
      to: 'x.fifo',
      group: 'pay_1',
      dryRun: true,
      runId: 'r1',
      holdSeconds: 60,
    });
  });

  it('rejects options another command owns, unknown options and commands, and missing arguments', () => {
    expect(usageError(['dlq', 'list', '--payment', 'p'])).toBe('dlq list does not take --payment');
    expect(usageError(['replay', '--payment', 'p', '--group', 'g'])).toBe('replay does not take --group');
    expect(usageError(['dlq', 'list', '--bogus'])).toMatch(/bogus/);
    expect(usageError(['dlq', 'show'])).toMatch(/needs a message id/);
    expect(usageError(['dlq'])).toMatch(/list, show or redrive/);
    expect(usageError(['dlq', 'purge'])).toMatch(/unknown dlq subcommand "purge"/);
    expect(usageError(['drain'])).toMatch(/unknown command "drain"/);
    expect(usageError(['dlq', 'list', 'extra'])).toMatch(/unexpected argument "extra"/);
  });

  it('rejects contradictory targets and out-of-range numbers', () => {
    expect(usageError(['dlq', 'list', '--local', '--aws'])).toMatch(/exclude each other/);
    expect(usageError(['dlq', 'list', '--aws', '--endpoints', 'e.json'])).toMatch(/--local only/);
    expect(usageError(['dlq', 'list', '--max', '0'])).toMatch(/--max must be a positive integer/);
    expect(usageError(['dlq', 'redrive', '--hold-seconds', '50000'])).toMatch(/at most 43200/);
    expect(usageError(['dlq', 'redrive', '--to', ' '])).toBe('--to needs a value');
  });
});
