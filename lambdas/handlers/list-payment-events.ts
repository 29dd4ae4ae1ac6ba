import type { APIGatewayProxyEvent } from 'aws-lambda';
import { paymentServiceFromEnv } from '../composition/payment-service';
import { apiHandler } from '../http/api-handler';
import { paymentIdParam } from '../http/request';
import { jsonResponse } from '../http/responses';
import { listPaymentEventsUseCase } from '../use-cases/payment-queries';

const { repository } = paymentServiceFromEnv();

async function listPaymentEvents(event: APIGatewayProxyEvent) {
  return jsonResponse(200, { events: await listPaymentEventsUseCase(repository, paymentIdParam(event)) });
}

export const handler = apiHandler(listPaymentEvents);
