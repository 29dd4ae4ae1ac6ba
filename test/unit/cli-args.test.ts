import { describe, expect, it } from 'vitest';
import { DEFAULT_ATTEMPTS_MAX, DEFAULT_DLQ_NAME, parseCommandLine, USAGE } from '../../cli/args';
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
    expect(usageError(['dlq'])).toMatch(/list, show, redrive or delete/);
    expect(usageError(['dlq', 'purge'])).toMatch(/unknown dlq subcommand "purge"/);
    expect(usageError(['drain'])).toMatch(/unknown command "drain" \(replay, dlq, attempts\)/);
    expect(usageError(['dlq', 'list', 'extra'])).toMatch(/unexpected argument "extra"/);
  });

  it('rejects contradictory targets and out-of-range numbers', () => {
    expect(usageError(['dlq', 'list', '--local', '--aws'])).toMatch(/exclude each other/);
    expect(usageError(['dlq', 'list', '--aws', '--endpoints', 'e.json'])).toMatch(/--local only/);
    expect(usageError(['dlq', 'list', '--max', '0'])).toMatch(/--max must be a positive integer/);
    expect(usageError(['dlq', 'redrive', '--hold-seconds', '50000'])).toMatch(/at most 43200/);
    expect(usageError(['dlq', 'redrive', '--to', ' '])).toBe('--to needs a value');
  });

  it('parses attempts list with its defaults, --older-than durations and --max', () => {
    expect(parseCommandLine(['attempts', 'list'])).toEqual({ name: 'attempts-list', target: {}, max: DEFAULT_ATTEMPTS_MAX });
    expect(parseCommandLine(['attempts', 'list', '--older-than', '2m', '--max', '10', '--local'])).toEqual({
      name: 'attempts-list',
      target: { mode: 'local' },
      olderThanSeconds: 120,
      max: 10,
    });
    expect(parseCommandLine(['attempts', 'list', '--older-than', '90s'])).toMatchObject({ olderThanSeconds: 90 });
    expect(parseCommandLine(['attempts', 'list', '--older-than', '1h'])).toMatchObject({ olderThanSeconds: 3_600 });
    expect(parseCommandLine(['attempts', 'list', '--older-than', '2d'])).toMatchObject({ olderThanSeconds: 172_800 });
    expect(parseCommandLine(['attempts', 'list', '--older-than', '0s'])).toMatchObject({ olderThanSeconds: 0 });
  });

  it('parses attempts reconcile of one payment, with --dry-run and the store table flags', () => {
    expect(parseCommandLine(['attempts', 'reconcile', 'pay_1'])).toEqual({ name: 'attempts-reconcile', target: {}, paymentId: 'pay_1', dryRun: false });
    expect(
      parseCommandLine([
        'attempts', 'reconcile', 'pay_1', '--dry-run', '--aws', '--region', 'eu-west-1',
        '--payments-table', 'P', '--outbox-table', 'O', '--idempotency-table', 'I', '--pg-attempts-table', 'A', '--pg-ledger-table', 'L',
      ]),
    ).toEqual({
      name: 'attempts-reconcile',
      target: { mode: 'aws', region: 'eu-west-1', paymentsTable: 'P', outboxTable: 'O', idempotencyTable: 'I', pgAttemptsTable: 'A', pgLedgerTable: 'L' },
      paymentId: 'pay_1',
      dryRun: true,
    });
    expect(parseCommandLine(['attempts', 'list', '--pg-attempts-table', 'A'])).toMatchObject({ target: { pgAttemptsTable: 'A' } });
    expect(parseCommandLine(['attempts', 'reconcile', '--help'])).toEqual({ name: 'help', topic: 'attempts' });
  });

  it('rejects attempts commands with a missing or extra argument, a bad duration or option, or an unknown subcommand', () => {
    expect(usageError(['attempts'])).toBe('attempts needs a subcommand: list or reconcile');
    expect(usageError(['attempts', 'close'])).toBe('unknown attempts subcommand "close" (list, reconcile)');
    expect(usageError(['attempts', 'reconcile'])).toMatch(/needs a payment id: attempts reconcile <paymentId>/);
    expect(usageError(['attempts', 'reconcile', ' '])).toMatch(/needs a payment id/);
    expect(usageError(['attempts', 'reconcile', 'pay_1', 'pay_2'])).toBe('attempts reconcile: unexpected argument "pay_2"');
    expect(usageError(['attempts', 'list', 'pay_1'])).toBe('attempts list: unexpected argument "pay_1"');
    for (const bad of ['2', '2x', 'm', '1.5m', 'two minutes']) {
      expect(usageError(['attempts', 'list', '--older-than', bad])).toBe(`--older-than must be a duration such as 90s, 2m, 1h or 1d (got "${bad}")`);
    }
    expect(usageError(['attempts', 'list', '--older-than=-1m'])).toMatch(/--older-than must be a duration/);
    expect(usageError(['attempts', 'list', '--max', '0'])).toMatch(/--max must be a positive integer/);
    expect(usageError(['attempts', 'list', '--dry-run'])).toBe('attempts list does not take --dry-run');
    expect(usageError(['attempts', 'reconcile', 'pay_1', '--older-than', '2m'])).toBe('attempts reconcile does not take --older-than');
    expect(usageError(['attempts', 'reconcile', 'pay_1', '--max', '3'])).toBe('attempts reconcile does not take --max');
    expect(usageError(['attempts', 'reconcile', 'pay_1', '--pg-ledger-table', ''])).toBe('--pg-ledger-table needs a value');
  });

  it('parses --pg sandbox|toss for attempts reconcile only', () => {
    expect(parseCommandLine(['attempts', 'reconcile', 'pay_1', '--pg', 'toss', '--aws'])).toEqual({
      name: 'attempts-reconcile',
      target: { mode: 'aws', paymentGateway: 'toss' },
      paymentId: 'pay_1',
      dryRun: false,
    });
    expect(parseCommandLine(['attempts', 'reconcile', 'pay_1', '--pg=sandbox'])).toMatchObject({ target: { paymentGateway: 'sandbox' } });
    expect(usageError(['attempts', 'reconcile', 'pay_1', '--pg', 'paypal'])).toBe('--pg must be one of sandbox, toss (got "paypal")');
    expect(usageError(['attempts', 'reconcile', 'pay_1', '--pg', 'toss-local'])).toBe(
      '--pg must be one of sandbox, toss (got "toss-local"); toss-local is npm start\'s: the CLI asks it as toss, from endpoints.json',
    );
    expect(usageError(['attempts', 'list', '--pg', 'toss'])).toBe('attempts list does not take --pg');
    expect(usageError(['replay', '--payment', 'p', '--pg', 'toss'])).toBe('replay does not take --pg');
  });

  it('keeps the store table flags to the attempts commands', () => {
    expect(usageError(['replay', '--payment', 'p', '--payments-table', 'P'])).toBe('replay does not take --payments-table');
    expect(usageError(['dlq', 'list', '--pg-attempts-table', 'A'])).toBe('dlq list does not take --pg-attempts-table');
  });

  it('documents the attempts commands and their flags in the usage text', () => {
    for (const text of [
      'attempts list [--older-than',
      'attempts reconcile <paymentId> [--dry-run] [--pg sandbox|toss]',
      '--pg-attempts-table',
      'SANDBOX_PG_LEDGER_TABLE_NAME',
      'PAYMENT_GATEWAY (default sandbox)',
      'TOSS_SECRET_KEY or TOSS_SECRET_KEY_ARN',
      'endpoints.json "paymentGateway"',
    ]) {
      expect(USAGE).toContain(text);
    }
  });

  it('parses dlq redrive --inbox-table', () => {
    expect(parseCommandLine(['dlq', 'redrive', '--inbox-table', 'Inbox-1'])).toMatchObject({ name: 'dlq-redrive', inboxTable: 'Inbox-1' });
    expect(usageError(['dlq', 'redrive', '--inbox-table', ' '])).toBe('--inbox-table needs a value');
    expect(usageError(['dlq', 'list', '--inbox-table', 'Inbox-1'])).toBe('dlq list does not take --inbox-table');
  });

  it('parses dlq delete by message ids (repeatable, deduplicated) and by group with sequences, asking unless --yes', () => {
    expect(parseCommandLine(['dlq', 'delete', 'x-dlq.fifo', '--message-id', 'm-1', '--message-id', 'm-2', '--message-id', 'm-1'])).toEqual({
      name: 'dlq-delete',
      target: {},
      queue: 'x-dlq.fifo',
      selection: { kind: 'messages', messageIds: ['m-1', 'm-2'] },
      yes: false,
      holdSeconds: 60,
      max: 1000,
    });
    expect(parseCommandLine(['dlq', 'delete', 'x-dlq.fifo', '--group', 'pay_1', '--sequence', '2', '--sequence', '4', '--yes', '--hold-seconds', '30'])).toMatchObject({
      selection: { kind: 'group', groupId: 'pay_1', sequences: [2, 4] },
      yes: true,
      holdSeconds: 30,
    });
    expect(parseCommandLine(['dlq', 'delete', 'x-dlq.fifo', '--group', 'pay_1', '-y'])).toMatchObject({ selection: { kind: 'group', groupId: 'pay_1' }, yes: true });
  });

  it('rejects a dlq delete without its queue, without a selection, or with a mixed or malformed one', () => {
    expect(usageError(['dlq', 'delete', '--message-id', 'm-1'])).toMatch(/dlq delete needs the DLQ/);
    expect(usageError(['dlq', 'delete', 'x-dlq.fifo'])).toMatch(/needs --message-id <id> \(repeatable\) or --group/);
    expect(usageError(['dlq', 'delete', 'x-dlq.fifo', '--message-id', 'm-1', '--group', 'g'])).toBe('dlq delete takes either --message-id or --group, not both');
    expect(usageError(['dlq', 'delete', 'x-dlq.fifo', '--message-id', 'm-1', '--sequence', '1'])).toBe('--sequence goes with --group, not --message-id');
    expect(usageError(['dlq', 'delete', 'x-dlq.fifo', '--group', 'g', '--sequence', '0'])).toMatch(/--sequence must be a positive integer/);
    expect(usageError(['dlq', 'delete', 'x-dlq.fifo', 'extra', '--group', 'g'])).toMatch(/unexpected argument "extra"/);
    expect(usageError(['dlq', 'delete', 'x-dlq.fifo', '--group', 'g', '--dry-run'])).toBe('dlq delete does not take --dry-run');
    expect(usageError(['dlq', 'redrive', '--yes'])).toBe('dlq redrive does not take --yes');
  });

  it('documents dlq delete and the redrive drops in the usage text', () => {
    for (const text of ['dlq delete <dlq> (--message-id <id> ... | --group <id> [--sequence <n> ...]) [--yes]', '[--inbox-table <name>]', 'in one\n      round']) {
      expect(USAGE).toContain(text);
    }
  });
});
