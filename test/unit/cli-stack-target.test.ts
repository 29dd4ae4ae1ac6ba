/**
 * `npm run outbox -- --stack NAME ...`: the names come from the deployed stack's outputs (DescribeStacks),
 * never from a constant; flags still win, and a staged stack's queues answer to their unprefixed names.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../cli/args';
import { queueUrlOf } from '../../cli/queues';
import { describeStackOutputs, stackNames, type StackOutputs } from '../../cli/stack-outputs';
import { requireStoreTables, requireTables, resolveTarget, type TargetContext } from '../../cli/target';
import type { SQSClient } from '@aws-sdk/client-sqs';

const SQS = 'https://sqs.eu-west-1.amazonaws.com/123456789012';
/** The outputs of a `-c stage=prod` sandbox stack (lib/payment-outbox-stack.ts). */
const PROD: StackOutputs = {
  stackName: 'PaymentOutbox-prod',
  values: {
    Stage: 'prod',
    ApiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/',
    OutboxTableName: 'PaymentOutbox-prod-OutboxTable-1',
    PaymentsTableName: 'PaymentOutbox-prod-PaymentsTable-2',
    IdempotencyTableName: 'PaymentOutbox-prod-IdempotencyTable-3',
    PgAttemptsTableName: 'PaymentOutbox-prod-PgAttemptsTable-4',
    SandboxPgLedgerTableName: 'PaymentOutbox-prod-SandboxPgLedgerTable-5',
    PaymentEventsQueueUrl: `${SQS}/prod-payment-events.fifo`,
    PaymentEventsDlqUrl: `${SQS}/prod-payment-events-dlq.fifo`,
    PaymentEventsSnsDlqUrl: `${SQS}/prod-payment-events-sns-dlq.fifo`,
    RelayFailuresQueueUrl: `${SQS}/prod-relay-failures`,
    PaymentEventsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:prod-payment-events.fifo',
    OutboxRetentionDays: '45',
    PaymentGateway: 'sandbox',
  },
};

function context(stack: StackOutputs, env: Record<string, string> = {}): TargetContext {
  return { env, readText: () => undefined, defaultEndpointsFile: '/nowhere/endpoints.json', stack };
}

describe('--stack NAME', () => {
  it('parses as an AWS target, and excludes --local and --endpoints', () => {
    expect(parseCommandLine(['dlq', 'list', '--stack', 'PaymentOutbox-prod'])).toMatchObject({ target: { mode: 'aws', stackName: 'PaymentOutbox-prod' } });
    expect(() => parseCommandLine(['dlq', 'list', '--stack', 'S', '--local'])).toThrow(/excludes --local and --endpoints/);
    expect(() => parseCommandLine(['dlq', 'list', '--stack', 'S', '--endpoints', 'e.json'])).toThrow(/--endpoints/);
    expect(() => parseCommandLine(['dlq', 'list', '--stack', ' '])).toThrow(/--stack needs a value/);
  });

  it('names every table and queue from the outputs, ignoring the functions\' variables of another stack', () => {
    const env = { OUTBOX_TABLE_NAME: 'dev-outbox', PAYMENTS_TABLE_NAME: 'dev-payments', PAYMENT_EVENTS_QUEUE_URL: `${SQS}/dev-payment-events.fifo` };
    const target = resolveTarget({ mode: 'aws', stackName: 'PaymentOutbox-prod' }, context(PROD, env));
    expect(target).toMatchObject({
      kind: 'aws',
      stackName: 'PaymentOutbox-prod',
      outboxTable: 'PaymentOutbox-prod-OutboxTable-1',
      paymentEventsQueueUrl: `${SQS}/prod-payment-events.fifo`,
      outboxRetentionDays: 45,
      paymentGateway: { kind: 'sandbox' },
    });
    expect(requireStoreTables(target)).toEqual({
      payments: 'PaymentOutbox-prod-PaymentsTable-2',
      outbox: 'PaymentOutbox-prod-OutboxTable-1',
      idempotency: 'PaymentOutbox-prod-IdempotencyTable-3',
      pgAttempts: 'PaymentOutbox-prod-PgAttemptsTable-4',
    });
    expect(requireTables(target, ['pgLedger'])).toEqual({ pgLedger: 'PaymentOutbox-prod-SandboxPgLedgerTable-5' });
  });

  it('lets flags win over the outputs', () => {
    const target = resolveTarget({ mode: 'aws', stackName: 'S', outboxTable: 'flag-outbox', paymentsTable: 'flag-payments' }, context(PROD));
    expect(requireStoreTables(target)).toMatchObject({ outbox: 'flag-outbox', payments: 'flag-payments', idempotency: 'PaymentOutbox-prod-IdempotencyTable-3' });
  });

  it('finds a staged stack\'s queues by their names with or without the stage prefix (the commands\' defaults included)', async () => {
    const target = resolveTarget({ mode: 'aws', stackName: 'PaymentOutbox-prod' }, context(PROD));
    const sqs = { send: () => Promise.reject(new Error('no GetQueueUrl: the outputs name every queue')) } as unknown as SQSClient;
    expect(await queueUrlOf('payment-events-dlq.fifo', target, sqs)).toBe(`${SQS}/prod-payment-events-dlq.fifo`);
    expect(await queueUrlOf('prod-payment-events-dlq.fifo', target, sqs)).toBe(`${SQS}/prod-payment-events-dlq.fifo`);
    expect(await queueUrlOf('relay-failures', target, sqs)).toBe(`${SQS}/prod-relay-failures`);
    expect(await queueUrlOf('payment-events-sns-dlq.fifo', target, sqs)).toBe(`${SQS}/prod-payment-events-sns-dlq.fifo`);
  });

  it('takes the PG and its Toss settings from the outputs of a Toss stack', () => {
    const toss: StackOutputs = {
      stackName: 'PaymentOutbox-dev',
      values: {
        ...PROD.values,
        PaymentGateway: 'toss',
        TossSecretKeyArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:toss-AbCdEf',
        TossApiBaseUrl: 'https://toss.example.com',
      },
    };
    expect(stackNames(toss).env).toMatchObject({ PAYMENT_GATEWAY: 'toss', TOSS_API_BASE_URL: 'https://toss.example.com' });
    expect(resolveTarget({ mode: 'aws', stackName: 'PaymentOutbox-dev' }, context(toss)).paymentGateway).toMatchObject({
      kind: 'toss',
      baseUrl: 'https://toss.example.com',
      secretKey: { arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:toss-AbCdEf' },
    });
  });
});

describe('describeStackOutputs', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  afterEach(() => cloudFormation.reset());

  it('reads the outputs of a deployed stack', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'PaymentOutbox-prod' }).resolves({
      Stacks: [{ StackName: 'PaymentOutbox-prod', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: Object.entries(PROD.values).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
    });
    expect(await describeStackOutputs('PaymentOutbox-prod', new CloudFormationClient({ region: 'eu-west-1' }))).toEqual(PROD);
  });

  it('says when the stack is missing, still deploying, or not a payment-outbox stack', async () => {
    const client = new CloudFormationClient({ region: 'eu-west-1' });
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Missing' }).rejects(Object.assign(new Error('Stack with id Missing does not exist'), { name: 'ValidationError' }));
    await expect(describeStackOutputs('Missing', client)).rejects.toThrow('stack Missing does not exist in this region');
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Busy' }).resolves({ Stacks: [{ StackName: 'Busy', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date() }] });
    await expect(describeStackOutputs('Busy', client)).rejects.toThrow(/is UPDATE_IN_PROGRESS; wait until it is deployed/);
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Other' }).resolves({
      Stacks: [{ StackName: 'Other', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'BucketName', OutputValue: 'b' }] }],
    });
    await expect(describeStackOutputs('Other', client)).rejects.toThrow(/has no OutboxTableName output: is it a payment-outbox stack\? \(outputs: BucketName\)/);
  });
});
