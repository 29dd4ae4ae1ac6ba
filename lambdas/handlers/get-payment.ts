import type { APIGatewayProxyEvent } from 'aws-lambda';
import { paymentServiceFromEnv } from '../composition/payment-service';
import { apiHandler } from '../http/api-handler';
import { paymentIdParam } from '../http/request';
import { jsonResponse } from '../http/responses';
import { getPaymentUseCase } from '../use-cases/payment-queries';

const { repository } = paymentServiceFromEnv();

async function getPayment(event: APIGatewayProxyEvent) {
  return jsonResponse(200, await getPaymentUseCase(repository, paymentIdParam(event)));
}

export const handler = apiHandler(getPayment);
