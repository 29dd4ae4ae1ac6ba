import { dynamoDbDocuments } from '../../platform/clients/dynamodb';
import { snsClient } from '../../platform/clients/sns';
import { lambdaHandler } from '../../platform/lambda-entry';
import { outboxRelay } from './outbox-relay';

export const handler = lambdaHandler(outboxRelay, { documents: dynamoDbDocuments, sns: snsClient });
