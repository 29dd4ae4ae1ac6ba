import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { createPayment } from './create-payment';

export const handler = lambdaHandler(createPayment, { documents: dynamoDbDocuments });
