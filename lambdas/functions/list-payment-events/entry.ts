import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { listPaymentEvents } from './list-payment-events';

export const handler = lambdaHandler(listPaymentEvents, { documents: dynamoDbDocuments });
