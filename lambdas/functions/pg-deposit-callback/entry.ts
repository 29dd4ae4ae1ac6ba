import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { pgDepositCallback } from './pg-deposit-callback';

export const handler = lambdaHandler(pgDepositCallback, { documents: dynamoDbDocuments });
