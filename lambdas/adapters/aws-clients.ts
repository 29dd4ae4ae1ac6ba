/**
 * SDK clients shared by every handler of a Lambda module: built once, on first use, from the
 * environment only (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_SNS, ...), so the
 * same code talks to AWS or to the local emulators without a "local" branch.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

let documentClient: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let sns: SNSClient | undefined;

/** The DynamoDB document client; `undefined` attributes are dropped instead of rejected. */
export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

/**
 * The SQS client. `useQueueUrlAsEndpoint: false` sends requests to the configured endpoint
 * rather than to the queue URL's host: the same host on AWS, and required for the local SQS
 * emulator whose queue URLs name a host that does not resolve.
 */
export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({ useQueueUrlAsEndpoint: false });
  return sqs;
}

/** The SNS client (endpoint from AWS_ENDPOINT_URL_SNS when set, e.g. the local emulator). */
export function snsClient(): SNSClient {
  sns ??= new SNSClient({});
  return sns;
}
