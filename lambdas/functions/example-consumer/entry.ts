import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { exampleConsumer } from './example-consumer';

export const handler = lambdaHandler(exampleConsumer, { documents: dynamoDbDocuments });
