import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { commonClientConfig, type AwsClientOptions } from './options';

/** The DynamoDB document client every function reads and writes its tables with; `undefined` attributes are dropped instead of rejected. */
export function dynamoDbDocuments(options: AwsClientOptions = {}): DynamoDBDocumentClient {
  const dynamodb = new DynamoDBClient({ ...commonClientConfig(options), ...(options.endpoints?.dynamodb !== undefined && { endpoint: options.endpoints.dynamodb }) });
  return DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
}
