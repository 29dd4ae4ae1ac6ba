/**
 * Command line of the smoke test:
 *
 *   npm run smoke -- --stack NAME [--region R] [--timeout 60s]
 *   npm run smoke -- --local [--endpoints FILE] [--timeout 60s]
 */

export const USAGE = `Usage: npm run smoke -- (--stack NAME [--region R] | --local [--endpoints FILE]) [--timeout D]

Creates and confirms a sandbox payment, waits for its events on a temporary FIFO queue of its own
subscribed to the payment-events topic and for its delivery status, and prints each step with its
latency. Exits 0 when every step passed, 1 when one failed, 2 on a usage error or a stack it cannot
drive (a deployed Toss stack needs a real payment window).

Options:
  --stack NAME       a deployed stack: its outputs (DescribeStacks), requests signed with SigV4
                     from the caller's credentials (the SDK's usual chain)
  --region R         the stack's region (default: the SDK's chain, AWS_REGION or the profile)
  --local            the running \`npm start\`: its endpoints.json
  --endpoints FILE   endpoints.json to read (default: $LOCAL_STATE_DIR/endpoints.json, else .local/endpoints.json)
  --timeout D        how long to wait for the events, and then for the delivery status (default 60s; e.g. 30s, 2m)
  --help             show this text`;

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_TIMEOUT_MS = 60_000;

export type SmokeCommand =
  | { readonly help: true }
  | {
      readonly help: false;
      readonly target:
        | { readonly kind: 'stack'; readonly stackName: string; readonly region?: string }
        | { readonly kind: 'local'; readonly endpointsFile?: string };
      /** Each wait (events, then delivery status), in milliseconds. */
      readonly timeoutMs: number;
    };

const VALUE_FLAGS = new Set(['stack', 'region', 'endpoints', 'timeout']);
const BOOLEAN_FLAGS = new Set(['local', 'help']);

/** CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** @throws UsageError naming the flag at fault */
export function parseSmokeArgs(argv: readonly string[]): SmokeCommand {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h') return { help: true };
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (BOOLEAN_FLAGS.has(flag)) {
      if (inline !== undefined) throw new UsageError(`--${flag} takes no value`);
      if (flag === 'help') return { help: true };
      switches.add(flag);
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new UsageError(`unknown option --${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${flag} needs a value`);
    if (values.has(flag)) throw new UsageError(`--${flag} given twice`);
    values.set(flag, value);
  }

  const stackName = values.get('stack');
  const local = switches.has('local');
  if (stackName === undefined && !local) throw new UsageError('name a target: --stack NAME (a deployed stack) or --local (npm start)');
  if (stackName !== undefined && local) throw new UsageError('--stack and --local exclude each other');

  const timeoutText = values.get('timeout');
  const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(timeoutText, '--timeout');

  if (stackName !== undefined) {
    if (!STACK_NAME.test(stackName)) throw new UsageError(`--stack: "${stackName}" is not a CloudFormation stack name`);
    if (values.has('endpoints')) throw new UsageError('--endpoints applies to --local only');
    const region = values.get('region');
    return { help: false, target: { kind: 'stack', stackName, ...(region !== undefined && { region }) }, timeoutMs };
  }
  if (values.has('region')) throw new UsageError('--region applies to --stack only (the local stack has its own region)');
  const endpointsFile = values.get('endpoints');
  return { help: false, target: { kind: 'local', ...(endpointsFile !== undefined && { endpointsFile }) }, timeoutMs };
}

/** `30s`, `500ms`, `2m`, or a bare number of seconds, in milliseconds (at least 1 s). */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: not a duration: "${text}" (use e.g. 30s, 500ms, 2m)`);
  const factor = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? 's'] ?? 1000;
  const ms = Math.round(Number(match[1]) * factor);
  if (ms < 1000) throw new UsageError(`${flag}: at least 1s, got "${text}"`);
  return ms;
}
