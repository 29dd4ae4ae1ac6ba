/**
 * The SDK clients a function is given (`FunctionRuntime.aws`). The local runner, chaos, bench and
 * tests build all of them with `createAwsClients` (explicit endpoints and credentials for the
 * emulators), so handler code has no "local" branch. A Lambda entry builds only the clients its
 * function uses, each from its own module under ./clients/ (see lambda-entry.ts), so its bundle
 * carries no other service's client.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { dynamoDbDocuments } from './clients/dynamodb';
import type { AwsClientOptions } from './clients/options';
import { snsClient } from './clients/sns';
import { sqsClient } from './clients/sqs';

export type { AwsClientOptions } from './clients/options';

export interface AwsClients {
  /** The DynamoDB document client; `undefined` attributes are dropped instead of rejected. */
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

/** Every client, configured by `options`. */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  return { documents: dynamoDbDocuments(options), sqs: sqsClient(options), sns: snsClient(options) };
}

/** Closes the clients' sockets (local instances that stop). */
export function destroyAwsClients(clients: AwsClients): void {
  clients.documents.destroy();
  clients.sqs.destroy();
  clients.sns.destroy();
}
