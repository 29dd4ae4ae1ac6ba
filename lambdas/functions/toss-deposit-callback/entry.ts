import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { tossDepositCallback } from './toss-deposit-callback';

export const handler = lambdaHandler(tossDepositCallback, { documents: dynamoDbDocuments });
