/**
 * Which stage the app deploys, from context:
 *
 * ```sh
 * cdk deploy                      # stage dev: stack PaymentOutbox-dev, names dev-payment-events.fifo, ...
 * cdk deploy -c stage=prod        # stack PaymentOutbox-prod, names prod-payment-events.fifo, ...
 * ```
 *
 * Each stage is a stack of its own whose physical names carry the stage as a prefix, so stages share an
 * account and region without colliding. Side-effect free (bin/payment-outbox.ts synthesizes), so tests
 * can import it.
 */
import type { App } from 'aws-cdk-lib';
import { validateStage } from '../lib/constructs/stage';

/** Context key of the stage: `-c stage=prod`. */
export const STAGE_CONTEXT = 'stage';

/** The stage deployed when none is given. */
export const DEFAULT_STAGE = 'dev';

/** The name of the app's stack for a stage: `PaymentOutbox-<stage>`. */
export function stackNameOf(stage: string): string {
  return `PaymentOutbox-${stage}`;
}

/** The stage and its stack name. */
export interface StageSettings {
  readonly stage: string;
  readonly stackName: string;
}

/**
 * The stage from the app's context (absent or blank: {@link DEFAULT_STAGE}).
 *
 * @throws Error naming the context key when the value is not a valid stage
 */
export function stageSettings(app: App): StageSettings {
  const value: unknown = app.node.tryGetContext(STAGE_CONTEXT);
  if (value !== undefined && typeof value !== 'string') throw new Error(`-c ${STAGE_CONTEXT}: expected a stage name, got ${JSON.stringify(value)}`);
  const given = value?.trim() ?? '';
  let stage: string;
  try {
    stage = validateStage(given === '' ? DEFAULT_STAGE : given);
  } catch (error) {
    throw new Error(`-c ${STAGE_CONTEXT}: ${(error as Error).message}`, { cause: error });
  }
  return { stage, stackName: stackNameOf(stage) };
}
