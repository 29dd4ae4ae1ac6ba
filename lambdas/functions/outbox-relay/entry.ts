import { lambdaHandler } from '../../platform/lambda-entry';
import { outboxRelay } from './outbox-relay';

export const handler = lambdaHandler(outboxRelay);
