/**
 * POST /pg/webhooks/toss: Toss Payments' `DEPOSIT_CALLBACK` (inbound, unsigned). Trusted only when
 * its `secret` matches the one Toss issued with the payment's virtual account, and recorded only
 * once Toss's own lookup shows the deposit (lambdas/use-cases/record-verified-deposit.ts). 200
 * only once the change is committed (or was already), so Toss's resends stop only then.
 */
import { parseTossDepositCallback } from '../../adapters/toss/toss-deposit-callback';
import { ConfigurationError } from '../../platform/required-env';
import { apiHandler, type ApiHandler } from '../../http-api/api-handler';
import { changeResponse } from '../../http-api/payment-response';
import { parseJson, rawBody } from '../../http-api/request';
import { ENV } from '../../platform/env-names';
import { defineFunction, type Environment, type FunctionRuntime } from '../../platform/function-runtime';
import { recordVerifiedDepositUseCase } from '../../use-cases/record-verified-deposit';
import { createPaymentService, paymentApiConfigFromEnv, type PaymentApiConfig } from '../shared/payment-api';

export function tossDepositCallbackConfigFromEnv(env: Environment): PaymentApiConfig {
  const config = paymentApiConfigFromEnv(env);
  if (config.paymentGateway.kind !== 'toss') throw new ConfigurationError(ENV.paymentGateway, 'must be toss for the Toss deposit callback');
  if (config.tables.pgAttempts === undefined) throw new ConfigurationError(ENV.pgAttemptsTable, 'is required (the callback secrets are kept there)');
  return config;
}

export function createTossDepositCallbackHandler(config: PaymentApiConfig, runtime: FunctionRuntime): ApiHandler {
  const service = createPaymentService(config, runtime);
  const { gateway } = service;
  if (gateway.findDeposit === undefined) throw new Error(`The ${gateway.name} PG cannot look deposits up`);
  const deposits = { findDeposit: gateway.findDeposit.bind(gateway) };
  return apiHandler(async (event) => {
    const callback = parseTossDepositCallback(parseJson(rawBody(event)));
    const outcome = await recordVerifiedDepositUseCase({ ...service, deposits }, callback);
    return changeResponse(outcome);
  }, runtime);
}

export const tossDepositCallback = defineFunction({ configFromEnv: tossDepositCallbackConfigFromEnv, createHandler: createTossDepositCallbackHandler });
