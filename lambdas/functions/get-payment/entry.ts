import { lambdaHandler } from '../../platform/lambda-entry';
import { getPayment } from './get-payment';

export const handler = lambdaHandler(getPayment);
