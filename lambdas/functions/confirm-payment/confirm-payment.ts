/** POST /payments/{paymentId}/confirm: authorizes a card or easy-pay payment at the PG and records the result with its event. */
import { confirmPaymentSchema, confirmWithPaymentKeySchema } from '../../domain/commands';
import { apiHandler, type ApiHandler } from '../../http-api/api-handler';
import { changeResponse } from '../../http-api/payment-response';
import { idempotencyKeyHeader, parseBody, paymentIdParam } from '../../http-api/request';
import { defineFunction, type FunctionRuntime } from '../../platform/function-runtime';
import { confirmPaymentUseCase } from '../../use-cases/payment-commands';
import { createPaymentService, paymentApiConfigFromEnv, type PaymentApiConfig } from '../shared/payment-api';

export function createConfirmPaymentHandler(config: PaymentApiConfig, runtime: FunctionRuntime): ApiHandler {
  const service = createPaymentService(config, runtime);
  // What the buyer authorizes with depends on the PG: Toss's payment window hands back a paymentKey.
  const schema = config.paymentGateway.kind === 'toss' ? confirmWithPaymentKeySchema : confirmPaymentSchema;
  return apiHandler(async (event) => {
    const paymentId = paymentIdParam(event);
    const command = parseBody(event, schema);
    return changeResponse(await confirmPaymentUseCase(service, paymentId, command, idempotencyKeyHeader(event)));
  }, runtime);
}

export const confirmPayment = defineFunction({ configFromEnv: paymentApiConfigFromEnv, createHandler: createConfirmPaymentHandler });
