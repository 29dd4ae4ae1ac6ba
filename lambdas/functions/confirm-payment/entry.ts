import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { confirmPayment } from './confirm-payment';

export const handler = lambdaHandler(confirmPayment, { documents: dynamoDbDocuments });
