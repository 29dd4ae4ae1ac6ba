/**
 * Which PG `attempts reconcile` asks (cli/pg-selection.ts): from endpoints.json locally, from the
 * functions' variables on AWS, `--pg` over both where it applies; every problem is an `unusable`
 * selection with its message. Then the gateway built from a Toss selection (cli/pg-attempt-deps.ts):
 * the key read once from Secrets Manager, the lookup sent to the selected base URL.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgAttemptDeps, describeAttemptsPg, secretKeyReader } from '../../cli/pg-attempt-deps';
import { TOSS_SECRET_KEY_PLACEHOLDER } from '../../lambdas/platform/payment-gateways';
import { parseEndpointsPaymentGateway, selectAwsPaymentGateway, selectLocalPaymentGateway, type TossSelection } from '../../cli/pg-selection';

const FILE = '/repo/.local/endpoints.json';
const TOSS_LOCAL = { kind: 'toss', baseUrl: 'http://127.0.0.1:4010', depositCallbackUrl: 'http://127.0.0.1:3000/prod/pg/webhooks/toss' };
const fileWith = (paymentGateway?: unknown): string =>
  JSON.stringify({ region: 'us-east-1', sqsEndpoint: 'http://s', dynamodbEndpoint: 'http://d', ...(paymentGateway !== undefined && { paymentGateway }) });
const local = (paymentGateway: unknown, env: Record<string, string> = {}, override?: 'sandbox' | 'toss') =>
  selectLocalPaymentGateway({ text: fileWith(paymentGateway), file: FILE, env, ...(override && { override }) });
const aws = (env: Record<string, string>, override?: 'sandbox' | 'toss') => selectAwsPaymentGateway({ env, ...(override && { override }) });

const secrets = mockClient(SecretsManagerClient);
afterEach(() => secrets.reset());

describe('selectLocalPaymentGateway', () => {
  it('takes the sandbox from endpoints.json, and from a file that does not name its PG', () => {
    expect(local({ kind: 'sandbox' })).toEqual({ kind: 'sandbox', from: FILE });
    expect(local(undefined)).toEqual({ kind: 'sandbox', from: `${FILE} (no "paymentGateway")` });
  });

  it('asks tools/toss-local on its base URL with the key the file holds, whatever TOSS_SECRET_KEY says', () => {
    const selection = local({ ...TOSS_LOCAL, local: { secretKey: 'test_sk_local_abc', controlUrl: 'http://127.0.0.1:4010/_local' } }, { TOSS_SECRET_KEY: 'test_sk_other' });

    expect(selection).toEqual({
      kind: 'toss',
      from: FILE,
      baseUrl: 'http://127.0.0.1:4010',
      timeoutMs: 7_000,
      secretKey: { value: 'test_sk_local_abc' },
      secretKeyFrom: `${FILE} (tools/toss-local's made-up key)`,
    });
  });

  it('takes the key of a stack on real Toss from TOSS_SECRET_KEY, which the file never holds', () => {
    expect(local({ ...TOSS_LOCAL, baseUrl: 'https://api.tosspayments.com/' }, { TOSS_SECRET_KEY: 'test_sk_real' })).toEqual({
      kind: 'toss',
      from: FILE,
      baseUrl: 'https://api.tosspayments.com',
      timeoutMs: 7_000,
      secretKey: { value: 'test_sk_real' },
      secretKeyFrom: 'TOSS_SECRET_KEY',
    });
  });

  it('says how to give the key when a stack on real Toss runs and TOSS_SECRET_KEY is unset', () => {
    expect(local({ ...TOSS_LOCAL, baseUrl: 'https://api.tosspayments.com' })).toEqual({
      kind: 'unusable',
      problem:
        `local mode: the local stack calls Toss at https://api.tosspayments.com, whose secret key is not written to ${FILE}: ` +
        'set TOSS_SECRET_KEY to the key it was started with (npm start -- --pg toss --pg-secret-key <key>)',
    });
  });

  it('refuses a --pg that contradicts the file, and lets it name the PG of a file that does not', () => {
    expect(local({ kind: 'sandbox' }, {}, 'toss')).toEqual({ kind: 'unusable', problem: `local mode: the local stack calls the sandbox PG (${FILE}); --pg toss does not apply` });
    expect(local(TOSS_LOCAL, { TOSS_SECRET_KEY: 'k' }, 'sandbox')).toMatchObject({ kind: 'unusable', problem: expect.stringContaining('calls the toss PG') });
    expect(local({ kind: 'sandbox' }, {}, 'sandbox')).toEqual({ kind: 'sandbox', from: FILE });

    expect(local(undefined, {}, 'sandbox')).toEqual({ kind: 'sandbox', from: '--pg sandbox' });
    expect(local(undefined, { TOSS_SECRET_KEY: 'k', TOSS_API_BASE_URL: 'http://127.0.0.1:9/' }, 'toss')).toMatchObject({
      kind: 'toss',
      from: '--pg toss',
      baseUrl: 'http://127.0.0.1:9',
      secretKeyFrom: 'TOSS_SECRET_KEY',
    });
    expect(local(undefined, {}, 'toss')).toEqual({
      kind: 'unusable',
      problem: 'local mode on Toss (--pg toss, https://api.tosspayments.com): set TOSS_SECRET_KEY to the Toss secret key',
    });
  });

  it('names the malformed field of "paymentGateway"', () => {
    expect(local('toss')).toEqual({ kind: 'unusable', problem: `${FILE}: "paymentGateway" must be an object` });
    expect(local({ kind: 'toss-local' })).toEqual({ kind: 'unusable', problem: `${FILE}: "paymentGateway.kind" must be one of sandbox, toss (got "toss-local")` });
    expect(local({ kind: 'toss' })).toEqual({ kind: 'unusable', problem: `${FILE}: "paymentGateway.baseUrl" must be an http(s) URL` });
    expect(local({ ...TOSS_LOCAL, local: { secretKey: '' } })).toEqual({ kind: 'unusable', problem: `${FILE}: "paymentGateway.local.secretKey" must be a non-empty string` });
  });

  it('parses the field as the runner writes it (local/endpoints-file.ts)', () => {
    const written = { ...TOSS_LOCAL, local: { secretKey: 'test_sk_local_abc', controlUrl: 'http://127.0.0.1:4010/_local' } };
    expect(parseEndpointsPaymentGateway(fileWith(written), FILE)).toEqual(written);
    expect(parseEndpointsPaymentGateway(fileWith(), FILE)).toBeUndefined();
  });
});

describe('selectAwsPaymentGateway', () => {
  it('takes the sandbox when PAYMENT_GATEWAY is unset or says so', () => {
    expect(aws({})).toEqual({ kind: 'sandbox', from: 'PAYMENT_GATEWAY unset (the default)' });
    expect(aws({ PAYMENT_GATEWAY: ' sandbox ' })).toEqual({ kind: 'sandbox', from: 'PAYMENT_GATEWAY=sandbox' });
  });

  it('takes Toss with Toss\'s base URL and the functions\' timeout by default, and the variables over them', () => {
    expect(aws({ PAYMENT_GATEWAY: 'toss', TOSS_SECRET_KEY: 'test_sk_1' })).toEqual({
      kind: 'toss',
      from: 'PAYMENT_GATEWAY=toss',
      baseUrl: 'https://api.tosspayments.com',
      timeoutMs: 7_000,
      secretKey: { value: 'test_sk_1' },
      secretKeyFrom: 'TOSS_SECRET_KEY',
    });
    expect(aws({ PAYMENT_GATEWAY: 'toss', TOSS_SECRET_KEY: 'k', TOSS_API_BASE_URL: 'https://toss.example/', TOSS_TIMEOUT_MS: '2500' })).toMatchObject({
      baseUrl: 'https://toss.example',
      timeoutMs: 2_500,
    });
  });

  it('reads the key by TOSS_SECRET_KEY_ARN, and TOSS_SECRET_KEY over it, as the functions do', () => {
    const arn = 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:toss-key-AbCdEf';
    expect(aws({ PAYMENT_GATEWAY: 'toss', TOSS_SECRET_KEY_ARN: arn })).toMatchObject({ secretKey: { arn }, secretKeyFrom: `TOSS_SECRET_KEY_ARN ${arn}` });
    expect(aws({ PAYMENT_GATEWAY: 'toss', TOSS_SECRET_KEY_ARN: arn, TOSS_SECRET_KEY: 'inline' })).toMatchObject({ secretKey: { value: 'inline' }, secretKeyFrom: 'TOSS_SECRET_KEY' });
  });

  it('lets --pg win over PAYMENT_GATEWAY, either way', () => {
    expect(aws({ PAYMENT_GATEWAY: 'sandbox', TOSS_SECRET_KEY: 'k' }, 'toss')).toMatchObject({ kind: 'toss', from: '--pg toss' });
    expect(aws({ PAYMENT_GATEWAY: 'toss' }, 'sandbox')).toEqual({ kind: 'sandbox', from: '--pg sandbox' });
    expect(aws({ PAYMENT_GATEWAY: 'paypal' }, 'sandbox')).toEqual({ kind: 'sandbox', from: '--pg sandbox' });
  });

  it('says what is wrong: an unknown PAYMENT_GATEWAY, a missing key, a bad URL or timeout', () => {
    expect(aws({ PAYMENT_GATEWAY: 'paypal' })).toEqual({
      kind: 'unusable',
      problem: 'AWS mode: PAYMENT_GATEWAY must be one of sandbox, toss (got "paypal"); or pass --pg sandbox|toss',
    });
    expect(aws({}, 'toss')).toEqual({
      kind: 'unusable',
      problem:
        "AWS mode on Toss (--pg toss): the Toss secret key is missing: set TOSS_SECRET_KEY_ARN to the secret the stack's functions read it from " +
        '(stack output TossSecretKeyArn), or TOSS_SECRET_KEY to the key itself',
    });
    expect(aws({ PAYMENT_GATEWAY: 'toss', TOSS_SECRET_KEY: 'k', TOSS_API_BASE_URL: 'api.tosspayments.com' })).toEqual({
      kind: 'unusable',
      problem: 'AWS mode on Toss (PAYMENT_GATEWAY=toss): Environment variable TOSS_API_BASE_URL must be an http(s) URL, got "api.tosspayments.com"',
    });
    expect(aws({ PAYMENT_GATEWAY: 'toss', TOSS_SECRET_KEY: 'k', TOSS_TIMEOUT_MS: 'soon' })).toMatchObject({
      kind: 'unusable',
      problem: expect.stringContaining('TOSS_TIMEOUT_MS must be a positive integer'),
    });
  });
});

describe('secretKeyReader', () => {
  const ARN = 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:toss-key-AbCdEf';

  it('returns an inline key without calling Secrets Manager', async () => {
    expect(await secretKeyReader({ value: 'test_sk_1' }, new SecretsManagerClient({}))()).toBe('test_sk_1');
    expect(secrets.calls()).toHaveLength(0);
  });

  it('reads the secret named by its ARN once per run', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: 'test_sk_from_aws' });
    const read = secretKeyReader({ arn: ARN }, new SecretsManagerClient({}));

    expect([await read(), await read()]).toEqual(['test_sk_from_aws', 'test_sk_from_aws']);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('names the secret and the SDK error when it cannot be read, and tries again on the next call', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' }))
      .resolves({ SecretString: 'test_sk_later' });
    const read = secretKeyReader({ arn: ARN }, new SecretsManagerClient({}));

    await expect(read()).rejects.toThrow(`the Toss secret key could not be read from ${ARN}: AccessDeniedException: User is not authorized`);
    expect(await read()).toBe('test_sk_later');
  });

  it('refuses a secret without a string value', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(secretKeyReader({ arn: ARN }, new SecretsManagerClient({}))()).rejects.toThrow(`the Toss secret key's secret ${ARN} has no string value`);
  });

  it('refuses the placeholder the stack creates the secret with, before sending it to Toss', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: TOSS_SECRET_KEY_PLACEHOLDER });
    await expect(secretKeyReader({ arn: ARN }, new SecretsManagerClient({}))()).rejects.toThrow(
      `the Toss secret key's secret ${ARN} still holds the stack's placeholder: put the key first (aws secretsmanager put-secret-value --secret-id ${ARN} --secret-string <key>)`,
    );
  });
});

describe('createPgAttemptDeps on Toss', () => {
  it('looks the order up at the selected base URL with the key read from Secrets Manager', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:toss-AbC';
    secrets.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: 'test_sk_aws' });
    const selection: TossSelection = { kind: 'toss', from: '--pg toss', baseUrl: 'https://toss.example', timeoutMs: 1_000, secretKey: { arn }, secretKeyFrom: `TOSS_SECRET_KEY_ARN ${arn}` };
    const requests: { url: string; authorization: string | null }[] = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
      requests.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
      return new Response(JSON.stringify({ paymentKey: 'tpk_1', orderId: 'pay_1', status: 'DONE', totalAmount: 15_000 }), { status: 200 });
    };
    const dynamodb = new DynamoDBClient({ region: 'eu-west-1' });
    const tables = { payments: 'P', outbox: 'O', idempotency: 'I', pgAttempts: 'A' };

    const deps = createPgAttemptDeps({ documents: DynamoDBDocumentClient.from(dynamodb), secretsManager: new SecretsManagerClient({}) }, tables, selection, {
      clock: { now: () => new Date('2026-12-01T00:00:00Z') },
      outboxRetentionDays: 30,
      fetch,
    });
    const answer = await deps.gateway.lookup({ paymentId: 'pay_1', operation: 'authorize', idempotencyKey: 'pay_1:authorize:1' });

    expect(deps.gateway.name).toBe('toss');
    expect(answer).toEqual({ outcome: 'approved', pgTransactionId: 'tpk_1' });
    expect(requests).toEqual([{ url: 'https://toss.example/v1/payments/orders/pay_1', authorization: `Basic ${Buffer.from('test_sk_aws:').toString('base64')}` }]);
    expect(describeAttemptsPg(selection)).toBe(`toss at https://toss.example, secret key from TOSS_SECRET_KEY_ARN ${arn}; chosen by --pg toss`);
    dynamodb.destroy();
  });
});
