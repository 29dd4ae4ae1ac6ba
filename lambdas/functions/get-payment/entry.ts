import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { getPayment } from './get-payment';

export const handler = lambdaHandler(getPayment, { documents: dynamoDbDocuments });
