/**
 * SDK clients the runner itself uses (provisioning, pollers, sweeper) and hands to tests.
 * Like the handlers' clients, the SQS client sends every request to the emulator endpoint
 * (`useQueueUrlAsEndpoint: false`), never to the queue URL's `sqs.<region>.localhost` host.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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

/**
 * The environment that points unmodified handler code at the emulators: region, dummy
 * credentials and one endpoint per service (never AWS_ENDPOINT_URL, which would hit every client).
 */
export function emulatorEnvironment(endpoints: LocalEndpoints): Record<string, string> {
  return {
    AWS_REGION: endpoints.region,
    AWS_DEFAULT_REGION: endpoints.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
    AWS_ENDPOINT_URL_SNS: endpoints.snsEndpoint ?? endpoints.sqsEndpoint,
  };
}
