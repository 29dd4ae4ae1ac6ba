/**
 * The SDK clients a function is given. On Lambda they are built from the environment only
 * (AWS_REGION, credentials); the local runner passes explicit endpoints and credentials for the
 * emulators, so handler code has no "local" branch.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClients {
  /** The DynamoDB document client; `undefined` attributes are dropped instead of rejected. */
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

export interface AwsClientOptions {
  /** @default the SDK's (AWS_REGION) */
  readonly region?: string;
  /** @default the SDK's credential chain */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Service endpoints (emulators). @default AWS's */
  readonly endpoints?: { readonly dynamodb?: string; readonly sqs?: string; readonly sns?: string };
}

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const common = {
    ...(options.region !== undefined && { region: options.region }),
    ...(options.credentials !== undefined && { credentials: { ...options.credentials } }),
  };
  const dynamodb = new DynamoDBClient({ ...common, ...(options.endpoints?.dynamodb !== undefined && { endpoint: options.endpoints.dynamodb }) });
  return {
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    // `useQueueUrlAsEndpoint: false` sends requests to the configured endpoint rather than to the
    // queue URL's host: the same host on AWS, and required for the SQS emulator, whose queue URLs
    // name a host that does not resolve.
    sqs: new SQSClient({ ...common, useQueueUrlAsEndpoint: false, ...(options.endpoints?.sqs !== undefined && { endpoint: options.endpoints.sqs }) }),
    sns: new SNSClient({ ...common, ...(options.endpoints?.sns !== undefined && { endpoint: options.endpoints.sns }) }),
  };
}

/** Closes the clients' sockets (local instances that stop). */
export function destroyAwsClients(clients: AwsClients): void {
  clients.documents.destroy();
  clients.sqs.destroy();
  clients.sns.destroy();
}
