import type { APIGatewayProxyEvent } from 'aws-lambda';
import { paymentServiceFromEnv } from '../composition/payment-service';
import { createPaymentSchema } from '../domain/commands';
import { apiHandler } from '../http/api-handler';
import { changeResponse } from '../http/payment-response';
import { idempotencyKeyHeader, parseBody } from '../http/request';
import { createPaymentUseCase } from '../use-cases/payment-commands';

const service = paymentServiceFromEnv();

async function createPayment(event: APIGatewayProxyEvent) {
  const command = parseBody(event, createPaymentSchema);
  return changeResponse(await createPaymentUseCase(service, command, idempotencyKeyHeader(event)));
}

export const handler = apiHandler(createPayment);
