import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { snsClient } from '../../platform/clients/sns';
import { lambdaHandler } from '../../platform/lambda-entry';
import { outboxSweeper } from './outbox-sweeper';

export const handler = lambdaHandler(outboxSweeper, { documents: dynamoDbDocuments, sns: snsClient });
