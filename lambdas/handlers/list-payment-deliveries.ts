/**
 * GET /payments/{paymentId}/deliveries: per subscriber (SUBSCRIBERS_JSON), each event of the
 * payment it receives and its delivery state; 404 when the payment does not exist.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoDbDeliveryLog } from '../adapters/dynamodb-delivery-log';
import { DynamoDbPaymentEventsReader } from '../adapters/dynamodb-payment-events-reader';
import { ENV } from '../config/env-names';
import { positiveIntEnv, requiredEnv } from '../config/required-env';
import { parseSubscribersJson } from '../domain/subscribers';
import { apiHandler } from '../http/api-handler';
import { paymentIdParam } from '../http/request';
import { jsonResponse } from '../http/responses';
import { paymentDeliveriesUseCase, type DeliveryStatusDeps } from '../use-cases/delivery-status';

const deps: DeliveryStatusDeps = {
  subscribers: parseSubscribersJson(requiredEnv(ENV.subscribersJson)),
  events: new DynamoDbPaymentEventsReader(dynamoDocumentClient(), {
    payments: requiredEnv(ENV.paymentsTable),
    outbox: requiredEnv(ENV.outboxTable),
  }),
  deliveries: new DynamoDbDeliveryLog(dynamoDocumentClient(), {
    tableName: requiredEnv(ENV.deliveriesTable),
    retentionDays: positiveIntEnv(ENV.deliveriesRetentionDays, 30),
  }),
};

async function listPaymentDeliveries(event: APIGatewayProxyEvent) {
  return jsonResponse(200, await paymentDeliveriesUseCase(deps, paymentIdParam(event)));
}

export const handler = apiHandler(listPaymentDeliveries);
