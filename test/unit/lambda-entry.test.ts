import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../lambdas/platform/aws-clients';
import { dynamoDbDocuments } from '../../lambdas/platform/clients/dynamodb';
import { defineFunction, type FunctionRuntime } from '../../lambdas/platform/function-runtime';
import { lambdaHandler } from '../../lambdas/platform/lambda-entry';
import { requiredEnv } from '../../lambdas/platform/required-env';

const TEST_CLIENT_OPTIONS = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** A function whose handler is what it was built with, and which touches the clients `uses` names while it is built. */
const probeFunction = (uses: readonly (keyof FunctionRuntime['aws'])[] = []) =>
  defineFunction({
    configFromEnv: (env) => ({ table: requiredEnv('TABLE_NAME', env) }),
    createHandler: (config, runtime) => {
      for (const name of uses) void runtime.aws[name];
      return { config, runtime };
    },
  });

describe('lambdaHandler (the Lambda entries)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('builds the handler from process.env with the clients its entry names, and no other', () => {
    // GIVEN an environment and an entry naming the DynamoDB document client only
    vi.stubEnv('TABLE_NAME', 'payments');
    const documents = dynamoDbDocuments(TEST_CLIENT_OPTIONS);
    const factory = vi.fn(() => documents);

    // WHEN
    const { config, runtime } = lambdaHandler(probeFunction(['documents']), { documents: factory });

    // THEN the configuration is the environment's, the client is the factory's, built once, and it is the only one
    expect(config).toEqual({ table: 'payments' });
    expect(runtime.aws.documents).toBe(documents);
    expect(factory).toHaveBeenCalledTimes(1);
    expect(Object.keys(runtime.aws)).toEqual(['documents']);
    documents.destroy();
  });

  it.each([
    ['sns', 'SNS', 'snsClient from platform/clients/sns'],
    ['sqs', 'SQS', 'sqsClient from platform/clients/sqs'],
  ] as const)('fails the cold start of a function that touches runtime.aws.%s when its entry did not build it, naming what to add', (name, service, factory) => {
    vi.stubEnv('TABLE_NAME', 'payments');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'PaymentOutbox-CreatePayment');
    const documents = dynamoDbDocuments(TEST_CLIENT_OPTIONS);

    expect(() => lambdaHandler(probeFunction(['documents', name]), { documents: () => documents })).toThrow(
      `The PaymentOutbox-CreatePayment entry builds no ${service} client (runtime.aws.${name}); add \`${name}: ${factory}\` to the clients its entry.ts passes to lambdaHandler`,
    );
    documents.destroy();
  });

  it('builds no client at all for an entry that names none', () => {
    vi.stubEnv('TABLE_NAME', 'payments');

    const { runtime } = lambdaHandler(probeFunction(), {});

    expect(Object.keys(runtime.aws)).toEqual([]);
    expect(() => runtime.aws.documents).toThrow(/entry builds no DynamoDB document client/);
  });
});

describe('createAwsClients (local runner, chaos, bench, tests)', () => {
  it('builds every client from one set of options: region, credentials and each service its own endpoint', async () => {
    const clients = createAwsClients({
      ...TEST_CLIENT_OPTIONS,
      region: 'eu-west-1',
      endpoints: { dynamodb: 'http://127.0.0.1:8000', sqs: 'http://127.0.0.1:9324', sns: 'http://127.0.0.1:9911' },
    });
    try {
      expect(clients.documents).toBeInstanceOf(DynamoDBDocumentClient);
      expect(clients.documents.config.translateConfig?.marshallOptions?.removeUndefinedValues).toBe(true);
      for (const [client, port] of [
        [clients.documents, 8000],
        [clients.sqs, 9324],
        [clients.sns, 9911],
      ] as const) {
        expect(await client.config.region()).toBe('eu-west-1');
        expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'test', secretAccessKey: 'test' });
        expect(await client.config.endpoint?.()).toMatchObject({ hostname: '127.0.0.1', port });
      }
      // Requests go to the configured endpoint, not to a queue URL's host (the emulator's does not resolve).
      expect(clients.sqs.config.useQueueUrlAsEndpoint).toBe(false);
    } finally {
      destroyAwsClients(clients);
    }
  });
});
