import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointsFile } from '../../local/endpoints-file';
import { localTargetFromEndpoints, resolveStackTarget, SmokeRefusedError, stackTargetFromOutputs } from '../../tools/smoke/target';

const TOPIC_ARN = 'arn:aws:sns:ap-northeast-2:123456789012:payment-events.fifo';
const QUEUE_URL = 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/payment-events.fifo';

/** A deployed sandbox stack's outputs, by key. */
const values = (extra: Record<string, string> = {}): Record<string, string> => ({
  ApiUrl: 'https://abc123.execute-api.ap-northeast-2.amazonaws.com/prod/',
  PaymentEventsTopicArn: TOPIC_ARN,
  PaymentEventsQueueUrl: QUEUE_URL,
  OutboxTableName: 'PaymentOutbox-OutboxTable',
  PaymentGateway: 'sandbox',
  ...extra,
});
/** The same as DescribeStacks lists them. */
const outputs = (extra: Record<string, string> = {}) => Object.entries(values(extra)).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));

describe('stackTargetFromOutputs', () => {
  it('reads the API URL (without its trailing slash), the topic and the subscriber queue', () => {
    expect(stackTargetFromOutputs('PaymentOutbox-dev', 'ap-northeast-2', values())).toEqual({
      kind: 'stack',
      label: 'stack PaymentOutbox-dev (ap-northeast-2)',
      apiUrl: 'https://abc123.execute-api.ap-northeast-2.amazonaws.com/prod',
      region: 'ap-northeast-2',
      topicArn: TOPIC_ARN,
      paymentEventsQueueUrl: QUEUE_URL,
      paymentGateway: { kind: 'sandbox' },
    });
  });

  it('names the missing output and the ones the stack has', () => {
    const { PaymentEventsTopicArn: _dropped, ...without } = values();

    expect(() => stackTargetFromOutputs('S', 'eu-west-1', without)).toThrow(
      'stack S has no output PaymentEventsTopicArn (outputs: ApiUrl, OutboxTableName, PaymentEventsQueueUrl, PaymentGateway); is it a payment-outbox stack, deployed from this version?',
    );
  });

  it('refuses a Toss stack: a confirm would need a real payment window', () => {
    const act = () => stackTargetFromOutputs('S', 'eu-west-1', values({ PaymentGateway: 'toss' }));

    expect(act).toThrow(SmokeRefusedError);
    expect(act).toThrow(/^stack S runs on Toss Payments: a confirm needs a paymentKey from a real buyer/);
  });
});

describe('resolveStackTarget', () => {
  const cfn = mockClient(CloudFormationClient);
  afterEach(() => cfn.reset());

  it('describes the named stack in the client region and reads its outputs', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'PaymentOutbox-dev' }).resolves({
      Stacks: [{ StackName: 'PaymentOutbox-dev', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: outputs() }],
    });

    const target = await resolveStackTarget('PaymentOutbox-dev', new CloudFormationClient({ region: 'ap-northeast-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));

    expect(target.apiUrl).toBe('https://abc123.execute-api.ap-northeast-2.amazonaws.com/prod');
    expect(target.region).toBe('ap-northeast-2');
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(1);
  });

  it('refuses a stack that is still being deployed', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'S', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date(), Outputs: outputs() }] });

    await expect(resolveStackTarget('S', new CloudFormationClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }))).rejects.toThrow(
      'stack S is UPDATE_IN_PROGRESS; wait until it is deployed',
    );
  });
});

describe('localTargetFromEndpoints', () => {
  const endpoints = (extra: Partial<EndpointsFile> = {}): EndpointsFile => ({
    apiUrl: 'http://127.0.0.1:3000/',
    region: 'us-east-1',
    sqsEndpoint: 'http://127.0.0.1:4566',
    snsEndpoint: 'http://127.0.0.1:4566',
    dynamodbEndpoint: 'http://127.0.0.1:8000',
    queues: { 'payment-events.fifo': 'http://sqs.us-east-1.localhost:4566/000000000000/payment-events.fifo' },
    topics: { 'payment-events.fifo': 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo' },
    tables: {},
    pgCallbackSecret: 's',
    paymentGateway: { kind: 'sandbox' },
    webhookSecrets: {},
    ...extra,
  });

  it('reads the API, the topic, the emulator endpoints and the sandbox PG', () => {
    expect(localTargetFromEndpoints(endpoints(), '/repo/.local/endpoints.json')).toEqual({
      kind: 'local',
      label: 'local stack (/repo/.local/endpoints.json)',
      apiUrl: 'http://127.0.0.1:3000',
      region: 'us-east-1',
      topicArn: 'arn:aws:sns:us-east-1:000000000000:payment-events.fifo',
      paymentEventsQueueUrl: 'http://sqs.us-east-1.localhost:4566/000000000000/payment-events.fifo',
      paymentGateway: { kind: 'sandbox' },
      emulator: { sqsEndpoint: 'http://127.0.0.1:4566', snsEndpoint: 'http://127.0.0.1:4566' },
    });
  });

  it('finds a stage-prefixed topic', () => {
    const target = localTargetFromEndpoints(endpoints({ topics: { 'dev-payment-events.fifo': 'arn:dev', 'dev-alarms': 'arn:alarms' } }), 'f');

    expect(target.topicArn).toBe('arn:dev');
  });

  it('confirms through toss-local sessions on a toss-local stack, and refuses a local stack on a real Toss', () => {
    const local = { kind: 'toss', baseUrl: 'http://127.0.0.1:3002', depositCallbackUrl: 'x', local: { secretKey: 'k', controlUrl: 'http://127.0.0.1:3002/_local' } } as const;
    expect(localTargetFromEndpoints(endpoints({ paymentGateway: local }), 'f').paymentGateway).toEqual({ kind: 'toss-local', controlUrl: 'http://127.0.0.1:3002/_local' });

    const real = { kind: 'toss', baseUrl: 'https://api.tosspayments.com', depositCallbackUrl: 'x' } as const;
    expect(() => localTargetFromEndpoints(endpoints({ paymentGateway: real }), 'f')).toThrow(SmokeRefusedError);
  });

  it('names the file and the missing topic', () => {
    expect(() => localTargetFromEndpoints(endpoints({ topics: {} }), 'f.json')).toThrow('f.json: no payment-events.fifo topic in "topics" (none)');
  });
});
