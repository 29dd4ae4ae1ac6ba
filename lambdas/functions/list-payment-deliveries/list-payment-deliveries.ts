/**
 * GET /payments/{paymentId}/deliveries: per subscriber (SUBSCRIBERS_JSON), each event of the
 * payment it receives and its delivery state; 404 when the payment does not exist.
 */
import { DynamoDbDeliveryLog } from '../../adapters/dynamodb-delivery-log';
import { DynamoDbPaymentEventsReader } from '../../adapters/dynamodb-payment-events-reader';
import { parseSubscribersJson, type Subscriber } from '../../domain/subscribers';
import { apiHandler, type ApiHandler } from '../../http-api/api-handler';
import { paymentIdParam } from '../../http-api/request';
import { jsonResponse } from '../../http-api/responses';
import { ENV } from '../../platform/env-names';
import { defineFunction, type Environment, type FunctionRuntime } from '../../platform/function-runtime';
import { positiveIntEnv, requiredEnv } from '../../platform/required-env';
import { paymentDeliveriesUseCase, type DeliveryStatusDeps } from '../../use-cases/delivery-status';

export interface ListPaymentDeliveriesConfig {
  readonly subscribers: readonly Subscriber[];
  readonly tables: { readonly payments: string; readonly outbox: string; readonly deliveries: string };
  readonly deliveriesRetentionDays: number;
}

export function listPaymentDeliveriesConfigFromEnv(env: Environment): ListPaymentDeliveriesConfig {
  return {
    subscribers: parseSubscribersJson(requiredEnv(ENV.subscribersJson, env)),
    tables: {
      payments: requiredEnv(ENV.paymentsTable, env),
      outbox: requiredEnv(ENV.outboxTable, env),
      deliveries: requiredEnv(ENV.deliveriesTable, env),
    },
    deliveriesRetentionDays: positiveIntEnv(ENV.deliveriesRetentionDays, 30, env),
  };
}

export function createListPaymentDeliveriesHandler(config: ListPaymentDeliveriesConfig, runtime: FunctionRuntime): ApiHandler {
  const deps: DeliveryStatusDeps = {
    subscribers: config.subscribers,
    events: new DynamoDbPaymentEventsReader(runtime.aws.documents, { payments: config.tables.payments, outbox: config.tables.outbox }),
    deliveries: new DynamoDbDeliveryLog(runtime.aws.documents, {
      tableName: config.tables.deliveries,
      retentionDays: config.deliveriesRetentionDays,
    }),
  };
  return apiHandler(async (event) => jsonResponse(200, await paymentDeliveriesUseCase(deps, paymentIdParam(event))), runtime);
}

export const listPaymentDeliveries = defineFunction({
  configFromEnv: listPaymentDeliveriesConfigFromEnv,
  createHandler: createListPaymentDeliveriesHandler,
});
