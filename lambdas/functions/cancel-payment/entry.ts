import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { cancelPayment } from './cancel-payment';

export const handler = lambdaHandler(cancelPayment, { documents: dynamoDbDocuments });
