import { lambdaHandler } from '../../platform/lambda-entry';
import { outboxSweeper } from './outbox-sweeper';

export const handler = lambdaHandler(outboxSweeper);
