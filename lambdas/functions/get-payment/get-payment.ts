/** GET /payments/{paymentId}: the payment as stored. */
import { apiHandler, type ApiHandler } from '../../http-api/api-handler';
import { paymentIdParam } from '../../http-api/request';
import { jsonResponse } from '../../http-api/responses';
import { defineFunction, type FunctionRuntime } from '../../platform/function-runtime';
import { getPaymentUseCase } from '../../use-cases/payment-queries';
import { createPaymentService, paymentApiConfigFromEnv, type PaymentApiConfig } from '../shared/payment-api';

export function createGetPaymentHandler(config: PaymentApiConfig, runtime: FunctionRuntime): ApiHandler {
  const { repository } = createPaymentService(config, runtime);
  return apiHandler(async (event) => jsonResponse(200, await getPaymentUseCase(repository, paymentIdParam(event))), runtime);
}

export const getPayment = defineFunction({ configFromEnv: paymentApiConfigFromEnv, createHandler: createGetPaymentHandler });
