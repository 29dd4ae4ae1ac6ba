import { lambdaHandler } from '../../platform/lambda-entry';
import { pgDepositCallback } from './pg-deposit-callback';

export const handler = lambdaHandler(pgDepositCallback);
