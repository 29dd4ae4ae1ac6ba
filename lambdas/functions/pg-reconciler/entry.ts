import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { lambdaHandler } from '../../platform/lambda-entry';
import { pgReconciler } from './pg-reconciler';

export const handler = lambdaHandler(pgReconciler, { documents: dynamoDbDocuments });
