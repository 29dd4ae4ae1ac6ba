import { lambdaHandler } from '../../platform/lambda-entry';
import { cancelPayment } from './cancel-payment';

export const handler = lambdaHandler(cancelPayment);
