import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { listPaymentDeliveries } from './list-payment-deliveries';

export const handler = lambdaHandler(listPaymentDeliveries, { documents: dynamoDbDocuments });
