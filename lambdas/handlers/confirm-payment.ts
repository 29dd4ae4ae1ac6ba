import type { APIGatewayProxyEvent } from 'aws-lambda';
import { paymentServiceFromEnv } from '../composition/payment-service';
import { confirmPaymentSchema } from '../domain/commands';
import { apiHandler } from '../http/api-handler';
import { changeResponse } from '../http/payment-response';
import { idempotencyKeyHeader, parseBody, paymentIdParam } from '../http/request';
import { confirmPaymentUseCase } from '../use-cases/payment-commands';

const service = paymentServiceFromEnv();

async function confirmPayment(event: APIGatewayProxyEvent) {
  const paymentId = paymentIdParam(event);
  const command = parseBody(event, confirmPaymentSchema);
  return changeResponse(await confirmPaymentUseCase(service, paymentId, command, idempotencyKeyHeader(event)));
}

export const handler = apiHandler(confirmPayment);
