import { lambdaHandler } from '../../platform/lambda-entry';
import { confirmPayment } from './confirm-payment';

export const handler = lambdaHandler(confirmPayment);
