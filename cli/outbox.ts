/**
 * `npm run outbox -- <command>`: replay Outbox events, inspect or redrive a DLQ, list and
 * reconcile open PG attempts, against the local stack (npm start) or AWS. See cli/README.md.
 */
import { systemClock } from '../lambdas/adapters/system-clock';
import { parseCommandLine, USAGE } from './args';
import { EXIT, UsageError } from './errors';
import { newRunId } from './messages';
import { consoleOutput } from './output';
import { reportError, runCommand } from './run';
import { createClients, resolveTarget } from './target';

async function main(argv: readonly string[]): Promise<number> {
  // The SDK warns on every client that Node 20 support ends; the local runner silences it the same way.
  if (Number(process.versions.node.split('.')[0]) < 22) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      consoleOutput.warn(`Error: ${error.message}\n\n${USAGE}`);
      return EXIT.error;
    }
    throw error;
  }
  if (command.name === 'help') {
    consoleOutput.line(USAGE);
    return EXIT.ok;
  }
  let target;
  try {
    target = resolveTarget(command.target);
  } catch (error) {
    return reportError(error, consoleOutput);
  }
  consoleOutput.warn(target.kind === 'local' ? `target: local stack (${target.source})` : `target: AWS${target.region ? ` ${target.region}` : ''}`);
  const clients = createClients(target);
  try {
    return await runCommand(command, { target, ...clients, out: consoleOutput, now: () => systemClock.now(), newRunId: () => newRunId() });
  } finally {
    clients.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
