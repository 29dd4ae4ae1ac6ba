/** POST /payments: a new payment and its `payment.created` event, in one transaction. */
import { createPaymentSchema } from '../../domain/commands';
import { apiHandler, type ApiHandler } from '../../http-api/api-handler';
import { changeResponse } from '../../http-api/payment-response';
import { idempotencyKeyHeader, parseBody } from '../../http-api/request';
import { defineFunction, type FunctionRuntime } from '../../platform/function-runtime';
import { createPaymentUseCase } from '../../use-cases/payment-commands';
import { createPaymentService, paymentApiConfigFromEnv, type PaymentApiConfig } from '../shared/payment-api';

export function createCreatePaymentHandler(config: PaymentApiConfig, runtime: FunctionRuntime): ApiHandler {
  const service = createPaymentService(config, runtime);
  return apiHandler(async (event) => {
    const command = parseBody(event, createPaymentSchema);
    return changeResponse(await createPaymentUseCase(service, command, idempotencyKeyHeader(event)));
  }, runtime);
}

export const createPayment = defineFunction({ configFromEnv: paymentApiConfigFromEnv, createHandler: createCreatePaymentHandler });
