/**
 * The environment a local function gets (local/runtime/function-environment.ts): the template's
 * variables resolved on a hand-written registry, secret references replaced by local keys.
 */
import { describe, expect, it } from 'vitest';
import { resolveFunctionEnvironment } from '../../local/runtime/function-environment';
import { localRegistry as registry } from '../support/local-registry';

describe('resolving a function’s environment locally', () => {
  it('replaces the PG callback secret reference with the local key and resolves the rest', () => {
    const env = resolveFunctionEnvironment(
      {
        logicalId: 'Fn',
        entry: 'x.ts',
        exportName: 'handler',
        shortName: 'x',
        timeoutSeconds: 3,
        memoryMb: 128,
        environment: { PG_CALLBACK_SECRET_ARN: { Ref: 'Secret' }, OUTBOX_TABLE_NAME: { Ref: 'OutboxTable' }, NODE_OPTIONS: '--enable-source-maps' },
      },
      registry,
      { pgCallbackSecret: 'k3y' },
    );
    expect(env).toEqual({ PG_CALLBACK_SECRET: 'k3y', OUTBOX_TABLE_NAME: 'OutboxTable' });
  });

  it('replaces a dispatcher’s WEBHOOK_SECRET_ARN with the local key of that secret', () => {
    const env = resolveFunctionEnvironment(
      {
        logicalId: 'Fn',
        entry: 'lambdas/functions/webhook-dispatcher/entry.ts',
        exportName: 'handler',
        shortName: 'webhook-dispatcher',
        timeoutSeconds: 30,
        memoryMb: 256,
        environment: { SUBSCRIBER_NAME: 'shop', WEBHOOK_SECRET_ARN: { Ref: 'HookSecret' }, SUBSCRIBER_QUEUE_URL: { Ref: 'Q' } },
      },
      registry,
      { pgCallbackSecret: 'k3y', webhookSecrets: new Map([['HookSecret', 'sh0p']]) },
    );
    expect(env).toEqual({ SUBSCRIBER_NAME: 'shop', WEBHOOK_SECRET: 'sh0p', SUBSCRIBER_QUEUE_URL: 'http://sqs.us-east-1.localhost:4566/000000000000/q.fifo' });
  });

  it('on Toss, replaces the secret key reference with the local key and the API URL with the local server', () => {
    const spec = {
      logicalId: 'Fn',
      entry: 'lambdas/functions/confirm-payment/entry.ts',
      exportName: 'handler',
      shortName: 'confirm-payment',
      timeoutSeconds: 10,
      memoryMb: 256,
      environment: { PAYMENT_GATEWAY: 'toss', TOSS_API_BASE_URL: 'https://api.tosspayments.com', TOSS_SECRET_KEY_ARN: { Ref: 'TossSecretKey' } },
    };
    const env = resolveFunctionEnvironment(spec, registry, { pgCallbackSecret: 'k3y', toss: { baseUrl: 'http://127.0.0.1:3002', secretKey: 'test_sk_local' } });
    expect(env).toEqual({ PAYMENT_GATEWAY: 'toss', TOSS_API_BASE_URL: 'http://127.0.0.1:3002', TOSS_SECRET_KEY: 'test_sk_local' });
  });
});
