/**
 * `--stack NAME`: the names a command needs, read from a deployed stack's outputs (DescribeStacks)
 * instead of flags or the functions' variables: the store's tables (`<logical id>Name`), every queue
 * (`...QueueUrl`, `...DlqUrl`, `...SnsDlqUrl`, `RelayFailuresQueueUrl`), the PG and its Toss settings,
 * the retention. Outputs are what lib/payment-outbox-stack.ts declares.
 */
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ENV } from '../lambdas/platform/env-names';
import { queueNameFromUrl } from './queues';
import type { AttemptsTable } from './target';

/** A deployed stack's outputs by key. */
export interface StackOutputs {
  readonly stackName: string;
  readonly values: Readonly<Record<string, string>>;
}

/** Output keys of the tables, per table the attempts commands may need (`<logical id>Name`). */
export const TABLE_OUTPUTS: Readonly<Record<AttemptsTable, string>> = {
  payments: 'PaymentsTableName',
  outbox: 'OutboxTableName',
  idempotency: 'IdempotencyTableName',
  pgAttempts: 'PgAttemptsTableName',
  pgLedger: 'SandboxPgLedgerTableName',
};

/** Output keys that are queue URLs: each subscriber's queue and DLQs, and the relay's failure queue. */
const QUEUE_URL_OUTPUT = /(QueueUrl|DlqUrl)$/;

/** What a stack's outputs name for a command. */
export interface StackNames {
  readonly tables: Partial<Record<AttemptsTable, string>>;
  /**
   * Queue name -> URL, for every queue of the stack; in a staged stack also under the name without the
   * `<stage>-` prefix, so `--queue payment-events-dlq.fifo` (and the commands' defaults) mean this stack's queue.
   */
  readonly queues: Readonly<Record<string, string>>;
  /** The example consumer's queue (`PaymentEventsQueueUrl`), when the stack has it. */
  readonly paymentEventsQueueUrl?: string;
  /** The functions' variables the stack's outputs give (PG, Toss settings, retention), for what reads them. */
  readonly env: Readonly<Record<string, string>>;
}

/** The names of {@link StackNames} from the outputs. */
export function stackNames(outputs: StackOutputs): StackNames {
  const { values } = outputs;
  const tables: Partial<Record<AttemptsTable, string>> = {};
  for (const [table, key] of Object.entries(TABLE_OUTPUTS) as [AttemptsTable, string][]) {
    if (values[key] !== undefined) tables[table] = values[key];
  }
  const stagePrefix = values.Stage !== undefined ? `${values.Stage}-` : undefined;
  const queues: Record<string, string> = {};
  for (const [key, url] of Object.entries(values)) {
    if (!QUEUE_URL_OUTPUT.test(key)) continue;
    const name = queueNameFromUrl(url);
    queues[name] = url;
    if (stagePrefix !== undefined && name.startsWith(stagePrefix)) queues[name.slice(stagePrefix.length)] ??= url;
  }
  const env: Record<string, string> = {};
  const fromOutput = (variable: string, key: string) => {
    if (values[key] !== undefined) env[variable] = values[key];
  };
  fromOutput(ENV.paymentGateway, 'PaymentGateway');
  fromOutput(ENV.tossSecretKeyArn, 'TossSecretKeyArn');
  fromOutput(ENV.tossApiBaseUrl, 'TossApiBaseUrl');
  fromOutput(ENV.outboxRetentionDays, 'OutboxRetentionDays');
  return {
    tables,
    queues,
    ...(values.PaymentEventsQueueUrl !== undefined && { paymentEventsQueueUrl: values.PaymentEventsQueueUrl }),
    env,
  };
}

/**
 * DescribeStacks of `stackName` in the client's region.
 * @throws Error when the stack does not exist, is not deployed, or is not a payment-outbox stack
 */
export async function describeStackOutputs(stackName: string, cloudFormation: CloudFormationClient): Promise<StackOutputs> {
  let stack;
  try {
    stack = (await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (error) {
    // CloudFormation answers a missing stack with a ValidationError "Stack with id X does not exist".
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) {
      throw new Error(`stack ${stackName} does not exist in this region`, { cause: error });
    }
    throw error;
  }
  if (!stack) throw new Error(`stack ${stackName} does not exist in this region`);
  if (stack.StackStatus && !/_COMPLETE$/.test(stack.StackStatus)) throw new Error(`stack ${stackName} is ${stack.StackStatus}; wait until it is deployed`);
  const values = Object.fromEntries((stack.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])));
  if (values[TABLE_OUTPUTS.outbox] === undefined) {
    throw new Error(`stack ${stackName} has no ${TABLE_OUTPUTS.outbox} output: is it a payment-outbox stack? (outputs: ${Object.keys(values).sort().join(', ') || 'none'})`);
  }
  return { stackName, values };
}
