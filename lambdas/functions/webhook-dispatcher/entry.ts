import { lambdaHandler } from '../../platform/lambda-entry';
import { webhookDispatcherFunction } from './webhook-dispatcher';

export const handler = lambdaHandler(webhookDispatcherFunction);
