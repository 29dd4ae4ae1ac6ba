import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { sqsClient } from '../../platform/clients/sqs';
import { lambdaHandler } from '../../platform/lambda-entry';
import { webhookDispatcherFunction } from './webhook-dispatcher';

export const handler = lambdaHandler(webhookDispatcherFunction, { documents: dynamoDbDocuments, sqs: sqsClient });
