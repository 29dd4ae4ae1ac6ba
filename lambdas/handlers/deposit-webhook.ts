import type { APIGatewayProxyEvent } from 'aws-lambda';
import { paymentServiceFromEnv } from '../composition/payment-service';
import { pgWebhookSecret } from '../config/pg-webhook-secret';
import { depositNotificationSchema, parseCommand } from '../domain/commands';
import { apiHandler } from '../http/api-handler';
import { changeResponse } from '../http/payment-response';
import { verifyPgSignature } from '../http/pg-signature';
import { header, parseJson, rawBody } from '../http/request';
import { recordDepositUseCase } from '../use-cases/payment-commands';

const service = paymentServiceFromEnv();

/** The PG's virtual-account deposit callback. 200 only once the change is committed (or was already). */
async function depositWebhook(event: APIGatewayProxyEvent) {
  const body = rawBody(event);
  verifyPgSignature(body, header(event, 'X-PG-Signature'), await pgWebhookSecret());
  const notification = parseCommand(depositNotificationSchema, parseJson(body));
  return changeResponse(await recordDepositUseCase(service, notification));
}

export const handler = apiHandler(depositWebhook);
