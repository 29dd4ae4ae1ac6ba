import type { APIGatewayProxyEvent } from 'aws-lambda';
import { paymentServiceFromEnv } from '../composition/payment-service';
import { cancelPaymentSchema } from '../domain/commands';
import { apiHandler } from '../http/api-handler';
import { changeResponse } from '../http/payment-response';
import { idempotencyKeyHeader, parseBody, paymentIdParam } from '../http/request';
import { cancelPaymentUseCase } from '../use-cases/payment-commands';

const service = paymentServiceFromEnv();

async function cancelPayment(event: APIGatewayProxyEvent) {
  const paymentId = paymentIdParam(event);
  const command = parseBody(event, cancelPaymentSchema);
  return changeResponse(await cancelPaymentUseCase(service, paymentId, command, idempotencyKeyHeader(event)));
}

export const handler = apiHandler(cancelPayment);
