/**
 * The deployment stage (`dev`, `prod`, ...) of the stack a construct belongs to, and the physical names
 * it gives: every name an account and region hold once (topic, queues, API name, the functions' service
 * dimension) is prefixed `<stage>-`, so two stages live side by side. Tables, roles, log groups, secrets,
 * the dashboard and the web ACL are left for CloudFormation to name.
 *
 * PaymentOutboxStack records its `stage` prop in the construct tree's context before it adds children;
 * each construct that owns a named resource asks {@link stagedName} here, so no prop has to be threaded
 * through every construct, and a construct used outside the stack (no stage) keeps its plain names.
 */
import type { IConstruct } from 'constructs';

/** Construct-tree context key holding the stage of the stack below it. */
export const STAGE_CONTEXT_KEY = 'payment-outbox:stage';

/**
 * A stage: 1-12 characters, lowercase letters and digits with inner hyphens, starting with a letter.
 * Short, because it prefixes queue names (at most 80 characters with `-sns-dlq.fifo` and a subscriber
 * name of up to 40), and lowercase, as the other names are.
 */
export const STAGE_PATTERN = /^[a-z](?:[a-z0-9-]{0,10}[a-z0-9])?$/;

/** @throws Error saying what a stage may be */
export function validateStage(stage: string): string {
  if (!STAGE_PATTERN.test(stage) || stage.includes('--')) {
    throw new Error(
      `stage must be 1-12 characters: lowercase letters, digits and single inner hyphens, starting with a letter (got "${stage}")`,
    );
  }
  return stage;
}

/** The stage of the stack `scope` belongs to, or undefined when it has none. */
export function stageOf(scope: IConstruct): string | undefined {
  const stage: unknown = scope.node.tryGetContext(STAGE_CONTEXT_KEY);
  return typeof stage === 'string' && stage !== '' ? stage : undefined;
}

/** `<stage>-<name>` in a staged stack, `name` otherwise. */
export function stagedName(scope: IConstruct, name: string): string {
  const stage = stageOf(scope);
  return stage === undefined ? name : `${stage}-${name}`;
}
