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
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { describeStackOutputs, type StackOutputs } from './stack-outputs';
import { createClients, processTargetContext, resolveTarget } from './target';

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
    const stack = command.target.stackName === undefined ? undefined : await readStack(command.target.stackName, command.target.region);
    target = resolveTarget(command.target, { ...processTargetContext, ...(stack && { stack }) });
  } catch (error) {
    return reportError(error, consoleOutput);
  }
  consoleOutput.warn(
    target.kind === 'local'
      ? `target: local stack (${target.source})`
      : `target: AWS${target.region ? ` ${target.region}` : ''}${target.stackName ? `, stack ${target.stackName}` : ''}`,
  );
  const clients = createClients(target);
  try {
    return await runCommand(command, { target, ...clients, out: consoleOutput, now: () => systemClock.now(), newRunId: () => newRunId() });
  } finally {
    clients.destroy();
  }
}

/** `--stack NAME`: its outputs, in `--region` or the SDK's region. */
async function readStack(stackName: string, region: string | undefined): Promise<StackOutputs> {
  const cloudFormation = new CloudFormationClient(region !== undefined ? { region } : {});
  try {
    return await describeStackOutputs(stackName, cloudFormation);
  } finally {
    cloudFormation.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
