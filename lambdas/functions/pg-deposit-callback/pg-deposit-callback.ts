/**
 * POST /pg/webhooks/deposits: the PG's virtual-account deposit callback (inbound, signed by the
 * PG with X-PG-Signature). 200 only once the change is committed (or was already), so the PG's
 * resends stop only when the deposit is recorded.
 */
import { depositNotificationSchema, parseCommand } from '../../domain/commands';
import { apiHandler, type ApiHandler } from '../../http-api/api-handler';
import { changeResponse } from '../../http-api/payment-response';
import { header, parseJson, rawBody } from '../../http-api/request';
import { ENV } from '../../platform/env-names';
import { defineFunction, type Environment, type FunctionRuntime } from '../../platform/function-runtime';
import { readSecret, secretSourceFromEnv, type SecretSource } from '../../platform/secret-value';
import { recordDepositUseCase } from '../../use-cases/payment-commands';
import { createPaymentService, paymentApiConfigFromEnv, type PaymentApiConfig } from '../shared/payment-api';
import { verifyPgSignature } from './pg-callback-signature';

export interface PgDepositCallbackConfig extends PaymentApiConfig {
  /** The PG callback's HMAC key: PG_CALLBACK_SECRET (local mode, tests) or the secret PG_CALLBACK_SECRET_ARN names. */
  readonly signingSecret: SecretSource;
}

export function pgDepositCallbackConfigFromEnv(env: Environment): PgDepositCallbackConfig {
  return {
    ...paymentApiConfigFromEnv(env),
    signingSecret: secretSourceFromEnv({ inline: ENV.pgCallbackSecret, arn: ENV.pgCallbackSecretArn }, env),
  };
}

export function createPgDepositCallbackHandler(config: PgDepositCallbackConfig, runtime: FunctionRuntime): ApiHandler {
  const service = createPaymentService(config, runtime);
  return apiHandler(async (event) => {
    const body = rawBody(event);
    verifyPgSignature(body, header(event, 'X-PG-Signature'), await readSecret(config.signingSecret));
    const notification = parseCommand(depositNotificationSchema, parseJson(body));
    return changeResponse(await recordDepositUseCase(service, notification));
  }, runtime);
}

export const pgDepositCallback = defineFunction({ configFromEnv: pgDepositCallbackConfigFromEnv, createHandler: createPgDepositCallbackHandler });
