/** GET /payments/{paymentId}/events: the payment's events from the outbox, in sequence order. */
import { apiHandler, type ApiHandler } from '../../http-api/api-handler';
import { paymentIdParam } from '../../http-api/request';
import { jsonResponse } from '../../http-api/responses';
import { defineFunction, type FunctionRuntime } from '../../platform/function-runtime';
import { listPaymentEventsUseCase } from '../../use-cases/payment-queries';
import { createPaymentService, paymentApiConfigFromEnv, type PaymentApiConfig } from '../shared/payment-api';

export function createListPaymentEventsHandler(config: PaymentApiConfig, runtime: FunctionRuntime): ApiHandler {
  const { repository } = createPaymentService(config, runtime);
  return apiHandler(
    async (event) => jsonResponse(200, { events: await listPaymentEventsUseCase(repository, paymentIdParam(event)) }),
    runtime,
  );
}

export const listPaymentEvents = defineFunction({ configFromEnv: paymentApiConfigFromEnv, createHandler: createListPaymentEventsHandler });
