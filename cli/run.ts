/** Runs one parsed command against a target and turns its outcome into output and an exit code. */
import type { Command } from './args';
import { dlqDelete, type Confirm } from './commands/dlq-delete';
import { dlqList } from './commands/dlq-list';
import { dlqRedrive } from './commands/dlq-redrive';
import { attemptsList } from './commands/attempts-list';
import { attemptsReconcile } from './commands/attempts-reconcile';
import { dlqShow } from './commands/dlq-show';
import { replay } from './commands/replay';
import type { CommandContext } from './context';
import { EXIT, QueueNotFoundError, RefusedError, UsageError, type ExitCode } from './errors';

/** How a command asks the operator (`dlq delete`'s confirmation); tests answer for them. */
export interface Interaction {
  /** @default the answer read from stdin */
  readonly confirm?: Confirm;
}

export async function runCommand(command: Exclude<Command, { name: 'help' }>, ctx: CommandContext, interaction: Interaction = {}): Promise<ExitCode> {
  try {
    switch (command.name) {
      case 'replay':
        return await replay(command, ctx);
      case 'dlq-list':
        return await dlqList(command, ctx);
      case 'dlq-show':
        return await dlqShow(command, ctx);
      case 'dlq-redrive':
        return await dlqRedrive(command, ctx);
      case 'dlq-delete':
        return await dlqDelete(command, ctx, interaction.confirm);
      case 'attempts-list':
        return await attemptsList(command, ctx);
      case 'attempts-reconcile':
        return await attemptsReconcile(command, ctx);
    }
  } catch (error) {
    return reportError(error, ctx.out);
  }
}

export function reportError(error: unknown, out: CommandContext['out']): ExitCode {
  if (error instanceof RefusedError) {
    out.warn(`Refused: ${error.message}`);
    for (const detail of error.details) out.warn(`  - ${detail}`);
    return EXIT.refused;
  }
  // A usage error found once the target is known (a table it cannot name).
  if (error instanceof QueueNotFoundError || error instanceof UsageError) {
    out.warn(`Error: ${error.message}`);
    return EXIT.error;
  }
  const err = error as Error;
  // SDK errors carry the service's error name (AccessDenied, ResourceNotFoundException, ...).
  out.warn(`Error: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message ?? String(error)}`);
  return EXIT.error;
}
