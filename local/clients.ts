/**
 * SDK clients the runner itself uses (provisioning, pollers, sweeper) and hands to tests, and
 * those each local function instance gets. Every SQS client sends its requests to the emulator
 * endpoint (`useQueueUrlAsEndpoint: false`), never to the queue URL's `sqs.<region>.localhost` host.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAwsClients, type AwsClients } from '../lambdas/platform/aws-clients';

/** Credentials the emulators accept (DynamoDB Local runs with -sharedDb, so any key sees the same tables). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface LocalEndpoints {
  readonly region: string;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** The SNS emulator; fauxqs serves SNS on its SQS port. @default sqsEndpoint */
  readonly snsEndpoint?: string;
}

export interface LocalClients {
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly streams: DynamoDBStreamsClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  destroy(): void;
}

export function createLocalClients(endpoints: LocalEndpoints): LocalClients {
  const common = { region: endpoints.region, credentials: LOCAL_CREDENTIALS };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: endpoints.dynamodbEndpoint });
  const streams = new DynamoDBStreamsClient({ ...common, endpoint: endpoints.dynamodbEndpoint });
  const sqs = new SQSClient({ ...common, endpoint: endpoints.sqsEndpoint, useQueueUrlAsEndpoint: false });
  const sns = new SNSClient({ ...common, endpoint: endpoints.snsEndpoint ?? endpoints.sqsEndpoint });
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return {
    dynamodb,
    documents,
    streams,
    sqs,
    sns,
    destroy() {
      documents.destroy();
      dynamodb.destroy();
      streams.destroy();
      sqs.destroy();
      sns.destroy();
    },
  };
}

/** SDK clients of one local function instance: the emulators' endpoints, region and dummy credentials. */
export function createFunctionClients(endpoints: LocalEndpoints): AwsClients {
  return createAwsClients({
    region: endpoints.region,
    credentials: LOCAL_CREDENTIALS,
    endpoints: { dynamodb: endpoints.dynamodbEndpoint, sqs: endpoints.sqsEndpoint, sns: endpoints.snsEndpoint ?? endpoints.sqsEndpoint },
  });
}
