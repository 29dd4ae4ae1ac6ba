/** POST /payments/{paymentId}/cancel: cancels a payment and records its `payment.cancelled` event. */
import { cancelPaymentSchema } from '../../domain/commands';
import { apiHandler, type ApiHandler } from '../../http-api/api-handler';
import { changeResponse } from '../../http-api/payment-response';
import { idempotencyKeyHeader, parseBody, paymentIdParam } from '../../http-api/request';
import { defineFunction, type FunctionRuntime } from '../../platform/function-runtime';
import { cancelPaymentUseCase } from '../../use-cases/payment-commands';
import { createPaymentService, paymentApiConfigFromEnv, type PaymentApiConfig } from '../shared/payment-api';

export function createCancelPaymentHandler(config: PaymentApiConfig, runtime: FunctionRuntime): ApiHandler {
  const service = createPaymentService(config, runtime);
  return apiHandler(async (event) => {
    const paymentId = paymentIdParam(event);
    const command = parseBody(event, cancelPaymentSchema);
    return changeResponse(await cancelPaymentUseCase(service, paymentId, command, idempotencyKeyHeader(event)));
  }, runtime);
}

export const cancelPayment = defineFunction({ configFromEnv: paymentApiConfigFromEnv, createHandler: createCancelPaymentHandler });
