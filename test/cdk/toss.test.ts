import { type CfnElement, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { PG_MISCONFIGURED_METRIC } from '../../lib/constructs/outbox-observability';
import { paymentApiRoutes, TOSS_DEPOSIT_CALLBACK_PATH } from '../../lib/constructs/payment-api';
import { PaymentFunction } from '../../lib/constructs/payment-function';
import { PG_RECONCILER_ENTRY } from '../../lib/constructs/pg-reconciler';
import { SANDBOX_PG_WARNING_ID, SandboxPaymentGateway } from '../../lib/constructs/sandbox-payment-gateway';
import {
  DEFAULT_TOSS_API_BASE_URL,
  TOSS_PG_NOTICE,
  TOSS_SECRET_KEY_PLACEHOLDER,
  TossPaymentGateway,
  type TossPaymentGatewayProps,
} from '../../lib/constructs/toss-payment-gateway';
import {
  actionsOf,
  actionsOnResource,
  functionIdByEntry,
  newTestStack,
  resourcesOf,
  resourcesOfType,
  statementsOfFunction,
  synthAppStack,
  synthStack,
} from '../support/cdk-stack';

const CREATE = 'lambdas/functions/create-payment/entry.ts';
const CONFIRM = 'lambdas/functions/confirm-payment/entry.ts';
const CANCEL = 'lambdas/functions/cancel-payment/entry.ts';
const TOSS_CALLBACK = 'lambdas/functions/toss-deposit-callback/entry.ts';
const SANDBOX_CALLBACK = 'lambdas/functions/pg-deposit-callback/entry.ts';

/** The functions that call Toss: bound to the Toss gateway. */
const TOSS_CALLERS = [CREATE, CONFIRM, CANCEL, TOSS_CALLBACK, PG_RECONCILER_ENTRY];

const SECRET_READ = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];

/** A complete secret ARN (the name ends in Secrets Manager's 6-character suffix). */
const IMPORTED_ARN = 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:payment-outbox/toss-sk-AbC123';

/** Every (action on resource) of a function's role for the services named, sorted. */
function grants(template: Template, functionId: string, services: RegExp): string[] {
  return statementsOfFunction(template, functionId)
    .flatMap((statement) =>
      actionsOf(statement)
        .filter((action) => services.test(action))
        .flatMap((action) => resourcesOf(statement).map((resource) => `${action} on ${JSON.stringify(resource)}`)),
    )
    .sort();
}

/** Every method as `METHOD /path` -> its properties (paths rebuilt from the ParentId chain). */
function methodsByRoute(template: Template): Map<string, Record<string, any>> {
  const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const resource = resources[id];
    if (!resource) return '';
    const parent = resource.Properties?.ParentId as { Ref?: string };
    return `${parent.Ref ? pathOf(parent.Ref) : ''}/${resource.Properties?.PathPart as string}`;
  };
  const methods = new Map<string, Record<string, any>>();
  for (const method of Object.values(resourcesOfType(template, 'AWS::ApiGateway::Method'))) {
    const resourceId = (method.Properties?.ResourceId as { Ref: string }).Ref;
    methods.set(`${method.Properties?.HttpMethod as string} ${pathOf(resourceId)}`, method.Properties ?? {});
  }
  return methods;
}

describe('a stack on Toss Payments', () => {
  // GIVEN the stack as the app builds it, with paymentGateway: 'toss' and no other Toss setting
  const { stack, template } = synthAppStack({ paymentGateway: 'toss' });
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const entryOf = (id: string) => functions[id]?.Metadata?.['payment-outbox:entry'] as string;
  const envOf = (entry: string) => functions[functionIdByEntry(template, entry)]?.Properties?.Environment.Variables as Record<string, unknown>;

  it('creates a TossPaymentGateway and no sandbox PG', () => {
    expect(stack.paymentGateway).toBe('toss');
    expect(stack.sandboxPaymentGateway).toBeUndefined();
    expect(stack.tossPaymentGateway?.node.id).toBe('TossPaymentGateway');
    expect(stack.tossPaymentGateway?.kind).toBe('toss');
  });

  it('has no sandbox ledger: the six payment tables only', () => {
    expect(Object.keys(resourcesOfType(template, 'AWS::DynamoDB::Table')).sort()).toEqual([
      'DeliveriesTable',
      'IdempotencyTable',
      'InboxTable',
      'OutboxTable',
      'PaymentsTable',
      'PgAttemptsTable',
    ]);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties?.Environment.Variables.SANDBOX_PG_LEDGER_TABLE_NAME, fn.Metadata?.['payment-outbox:entry']).toBeUndefined();
    }
  });

  it('has no PG callback HMAC secret (Toss does not sign its callbacks): the Toss secret key and the webhook signing secret only', () => {
    expect(Object.keys(resourcesOfType(template, 'AWS::SecretsManager::Secret')).sort()).toEqual(['NotificationsWebhookSecret', 'TossSecretKey']);
    expect(stack.api.pgCallbackSecret).toBeUndefined();
    for (const fn of Object.values(functions)) {
      expect(fn.Properties?.Environment.Variables.PG_CALLBACK_SECRET_ARN, fn.Metadata?.['payment-outbox:entry']).toBeUndefined();
    }
  });

  it('creates the Toss secret key with a placeholder value, saying how to put the key, retained', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        SecretString: TOSS_SECRET_KEY_PLACEHOLDER,
        Description: Match.stringLikeRegexp('put-secret-value.*test_sk_\\.\\.\\..*live_sk_\\.\\.\\.'),
      },
    });
    const secret = resourcesOfType(template, 'AWS::SecretsManager::Secret').TossSecretKey;
    expect(secret?.Properties?.GenerateSecretString).toBeUndefined();
    expect(TOSS_SECRET_KEY_PLACEHOLDER).toMatch(/^REPLACE_ME: .*test_sk_\.\.\. or live_sk_\.\.\..*put-secret-value/);
  });

  it('carries no synth warning (no sandbox PG)', () => {
    const annotations = Annotations.fromStack(stack);
    annotations.hasNoWarning('*', Match.stringLikeRegexp(SANDBOX_PG_WARNING_ID));
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('serves POST /pg/webhooks/toss instead of POST /pg/webhooks/deposits, next to the same caller routes', () => {
    expect([...methodsByRoute(template).keys()].sort()).toEqual([
      'GET /payments/{paymentId}',
      'GET /payments/{paymentId}/deliveries',
      'GET /payments/{paymentId}/events',
      'POST /payments',
      'POST /payments/{paymentId}/cancel',
      'POST /payments/{paymentId}/confirm',
      'POST /pg/webhooks/toss',
    ]);
    expect(Object.values(functions).map((fn) => fn.Metadata?.['payment-outbox:entry'])).not.toContain(SANDBOX_CALLBACK);
  });

  it('leaves POST /pg/webhooks/toss without an authorizer, invoking the toss-deposit-callback function', () => {
    const method = methodsByRoute(template).get(`POST ${TOSS_DEPOSIT_CALLBACK_PATH}`);
    expect(method?.AuthorizationType).toBe('NONE');
    expect(method?.AuthorizerId).toBeUndefined();
    expect(JSON.stringify(method?.Integration.Uri)).toContain(functionIdByEntry(template, TOSS_CALLBACK));
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    const open = [...methodsByRoute(template)].filter(([, properties]) => properties.AuthorizationType !== 'AWS_IAM').map(([key]) => key);
    expect(open).toEqual(['POST /pg/webhooks/toss']);
  });

  it('defines the route as TossDepositCallback, pg-secret, bound to the PG', () => {
    const route = paymentApiRoutes('toss').find((candidate) => candidate.id === 'TossDepositCallback');
    expect(route).toEqual({
      id: 'TossDepositCallback',
      method: 'POST',
      path: '/pg/webhooks/toss',
      entry: TOSS_CALLBACK,
      auth: 'pg-secret',
      tables: {
        payments: { actions: ['GetItem', 'PutItem'] },
        outbox: { actions: ['PutItem'] },
        idempotency: { actions: ['GetItem', 'PutItem'] },
        pgAttempts: { actions: ['GetItem'] },
      },
      callsPg: true,
    });
    expect(paymentApiRoutes('toss').map((candidate) => candidate.id)).not.toContain('PgDepositCallback');
    expect(paymentApiRoutes('sandbox').map((candidate) => candidate.id)).not.toContain('TossDepositCallback');
  });

  it.each(TOSS_CALLERS)('binds %s to Toss: PAYMENT_GATEWAY, the API base URL, the secret key ARN and the virtual account settings', (entry) => {
    expect(envOf(entry)).toMatchObject({
      PAYMENT_GATEWAY: 'toss',
      TOSS_API_BASE_URL: 'https://api.tosspayments.com',
      TOSS_SECRET_KEY_ARN: { Ref: 'TossSecretKey' },
      TOSS_VIRTUAL_ACCOUNT_BANK: '20',
      TOSS_VIRTUAL_ACCOUNT_VALID_HOURS: '72',
    });
    // The timeout is left to the handlers' default; the key itself is never in the environment.
    expect(envOf(entry).TOSS_TIMEOUT_MS).toBeUndefined();
    expect(envOf(entry).TOSS_SECRET_KEY).toBeUndefined();
  });

  it('sets no PG variable on the functions that do not call the PG', () => {
    for (const [id, fn] of Object.entries(functions)) {
      if (TOSS_CALLERS.includes(entryOf(id))) continue;
      const names = Object.keys(fn.Properties?.Environment.Variables ?? {});
      expect(names.filter((name) => name === 'PAYMENT_GATEWAY' || name.startsWith('TOSS_')), entryOf(id)).toEqual([]);
    }
  });

  it('lets exactly the functions that call Toss read its secret key (GetSecretValue + DescribeSecret), and no other', () => {
    for (const id of Object.keys(functions)) {
      expect(actionsOnResource(template, id, 'TossSecretKey'), entryOf(id)).toEqual(TOSS_CALLERS.includes(entryOf(id)) ? SECRET_READ : []);
    }
  });

  it('gives the toss callback exactly: a change on the payment tables, GetItem on the PG attempts table (the callback secret), its Toss key', () => {
    const id = functionIdByEntry(template, TOSS_CALLBACK);
    const change: Record<string, string[]> = {
      PaymentsTable: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      OutboxTable: ['dynamodb:PutItem'],
      IdempotencyTable: ['dynamodb:GetItem', 'dynamodb:PutItem'],
    };
    for (const [table, actions] of Object.entries(change)) expect(actionsOnResource(template, id, table), table).toEqual(actions);
    expect(actionsOnResource(template, id, 'PgAttemptsTable')).toEqual(['dynamodb:GetItem']);
    expect(grants(template, id, /^(dynamodb|sns|sqs|secretsmanager|kms):/)).toEqual(
      [
        ...Object.entries(change).flatMap(([table, actions]) =>
          actions.map((action) => `${action} on ${JSON.stringify({ 'Fn::GetAtt': [table, 'Arn'] })}`),
        ),
        `dynamodb:GetItem on ${JSON.stringify({ 'Fn::GetAtt': ['PgAttemptsTable', 'Arn'] })}`,
        ...SECRET_READ.map((action) => `${action} on ${JSON.stringify({ Ref: 'TossSecretKey' })}`),
      ].sort(),
    );
    expect(envOf(TOSS_CALLBACK)).toMatchObject({
      PAYMENTS_TABLE_NAME: { Ref: 'PaymentsTable' },
      OUTBOX_TABLE_NAME: { Ref: 'OutboxTable' },
      IDEMPOTENCY_TABLE_NAME: { Ref: 'IdempotencyTable' },
      PG_ATTEMPTS_TABLE_NAME: { Ref: 'PgAttemptsTable' },
      OUTBOX_RETENTION_DAYS: '30',
    });
  });

  it('lets CreatePayment PutItem (only) on the PG attempts table: the callback secret Toss returns is written in the create transaction', () => {
    const id = functionIdByEntry(template, CREATE);
    expect(actionsOnResource(template, id, 'PgAttemptsTable')).toEqual(['dynamodb:PutItem']);
    expect(envOf(CREATE).PG_ATTEMPTS_TABLE_NAME).toEqual({ Ref: 'PgAttemptsTable' });
    // A fresh payment id cannot exist: create never reads the payment, it only Puts it in its transaction.
    expect(actionsOnResource(template, id, 'PaymentsTable')).toEqual(['dynamodb:PutItem']);
  });

  it('keeps the PG attempts access of confirm and cancel (exact lists on both PGs: test/cdk/iam.test.ts)', () => {
    // The attempts are read by key with the payment (Gets in one TransactGetItems, authorized as GetItem).
    expect(actionsOnResource(template, functionIdByEntry(template, CONFIRM), 'PgAttemptsTable')).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(actionsOnResource(template, functionIdByEntry(template, CANCEL), 'PgAttemptsTable')).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    ]);
  });

  it('lets the reconciler look attempts up at Toss: its table grants and the secret key, no ledger', () => {
    const id = functionIdByEntry(template, PG_RECONCILER_ENTRY);
    const arn = (table: string) => JSON.stringify({ 'Fn::GetAtt': [table, 'Arn'] });
    expect(grants(template, id, /^(dynamodb|sns|sqs|secretsmanager|kms):/)).toEqual(
      [
        `dynamodb:GetItem on ${arn('PaymentsTable')}`,
        `dynamodb:PutItem on ${arn('OutboxTable')}`,
        `dynamodb:PutItem on ${arn('PaymentsTable')}`,
        `dynamodb:PutItem on ${arn('PgAttemptsTable')}`,
        `dynamodb:Query on ${JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['PgAttemptsTable', 'Arn'] }, '/index/OpenAttempts']] })}`,
        ...SECRET_READ.map((action) => `${action} on ${JSON.stringify({ Ref: 'TossSecretKey' })}`),
      ].sort(),
    );
  });

  it('outputs PaymentGateway = toss, describing Toss Payments', () => {
    template.hasOutput('PaymentGateway', { Value: 'toss', Description: TOSS_PG_NOTICE });
    expect(TOSS_PG_NOTICE).toMatch(/^The payment gateway is Toss Payments/);
  });

  it('outputs TossSecretKeyArn (the secret to put the key in) and TossDepositCallbackUrl (the API URL + pg/webhooks/toss)', () => {
    template.hasOutput('TossSecretKeyArn', { Value: { Ref: 'TossSecretKey' }, Description: Match.stringLikeRegexp('put-secret-value') });
    const outputs = template.toJSON().Outputs as Record<string, { Value: { 'Fn::Join': [string, unknown[]] }; Description?: string }>;
    const apiUrl = outputs.ApiUrl!.Value['Fn::Join'][1];
    const callbackUrl = outputs.TossDepositCallbackUrl!.Value['Fn::Join'][1];
    // The same URL parts, the stage's trailing "/" followed by the route path without its leading "/".
    expect(callbackUrl.slice(0, -1)).toEqual(apiUrl.slice(0, -1));
    expect(apiUrl.at(-1)).toBe('/');
    expect(callbackUrl.at(-1)).toBe('/pg/webhooks/toss');
    expect(outputs.TossDepositCallbackUrl?.Description).toMatch(/developer center/);
  });

  it('has exactly the outputs of a Toss stack: no PgCallbackSecretArn', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
      'AlarmTopicArn',
      'ApiUrl',
      'DeliveriesTableName',
      'IdempotencyTableName',
      'InboxTableName',
      'NotificationsDlqUrl',
      'NotificationsQueueUrl',
      'NotificationsSnsDlqUrl',
      'NotificationsWebhookSecretArn',
      'OutboxRetentionDays',
      'OutboxTableName',
      'PaymentEventsDlqUrl',
      'PaymentEventsQueueUrl',
      'PaymentEventsSnsDlqUrl',
      'PaymentEventsTopicArn',
      'PaymentGateway',
      'PaymentsTableName',
      'PgAttemptsTableName',
      'RelayFailuresQueueUrl',
      'TossApiBaseUrl',
      'TossDepositCallbackUrl',
      'TossSecretKeyArn',
    ]);
  });

  it('counts pgMisconfigured lines of create, confirm, cancel, the toss callback and the reconciler, into the PgMisconfigured alarm', () => {
    const logGroups = TOSS_CALLERS.map((entry) => functions[functionIdByEntry(template, entry)]?.Properties?.LoggingConfig.LogGroup.Ref as string);
    const filters = Object.values(resourcesOfType(template, 'AWS::Logs::MetricFilter'));
    expect(filters.map((filter) => filter.Properties?.LogGroupName.Ref).sort()).toEqual(logGroups.sort());
    for (const filter of filters) {
      expect(filter.Properties).toMatchObject({
        FilterPattern: '{ $.pgMisconfigured IS TRUE }',
        MetricTransformations: [{ MetricNamespace: 'PaymentOutbox', MetricName: PG_MISCONFIGURED_METRIC, MetricValue: '1' }],
      });
    }
    expect(Object.keys(stack.observability.pgMisconfiguredFilters).sort()).toEqual([
      'CancelPayment',
      'ConfirmPayment',
      'CreatePayment',
      'Reconciler',
      'TossDepositCallback',
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'PaymentOutbox',
      MetricName: PG_MISCONFIGURED_METRIC,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    // 2 x (DLQ, SNS DLQ, backlog), fan-out, IteratorAge, relay failures, oldest pending, oldest open attempt, PgMisconfigured, API 5xx,
    // and Errors and Throttles of each of the 12 functions.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 37);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'PgMisconfigured' });
  });
});

describe('a stack on Toss Payments with settings', () => {
  it('imports an existing secret by its ARN: no secret created, the ARN bound and granted as given, and output', () => {
    // GIVEN / WHEN
    const { stack, template } = synthStack({ paymentGateway: 'toss', toss: { secretKeyArn: IMPORTED_ARN } });
    // THEN
    expect(resourcesOfType(template, 'AWS::SecretsManager::Secret')).toEqual({});
    expect(stack.tossPaymentGateway?.createdSecretKey).toBeUndefined();
    template.hasOutput('TossSecretKeyArn', { Value: IMPORTED_ARN });
    for (const entry of TOSS_CALLERS) {
      const id = functionIdByEntry(template, entry);
      expect(resourcesOfType(template, 'AWS::Lambda::Function')[id]?.Properties?.Environment.Variables.TOSS_SECRET_KEY_ARN, entry).toBe(IMPORTED_ARN);
      expect(grants(template, id, /^secretsmanager:/), entry).toEqual(SECRET_READ.map((action) => `${action} on "${IMPORTED_ARN}"`));
    }
  });

  it('passes the API base URL and the virtual account settings to every function bound to Toss', () => {
    const { template } = synthStack({
      paymentGateway: 'toss',
      toss: { apiBaseUrl: 'http://localhost:3002/', virtualAccountBank: '88', virtualAccountValidHours: 24 },
    });
    for (const entry of TOSS_CALLERS) {
      expect(resourcesOfType(template, 'AWS::Lambda::Function')[functionIdByEntry(template, entry)]?.Properties?.Environment.Variables, entry).toMatchObject({
        TOSS_API_BASE_URL: 'http://localhost:3002',
        TOSS_VIRTUAL_ACCOUNT_BANK: '88',
        TOSS_VIRTUAL_ACCOUNT_VALID_HOURS: '24',
      });
    }
  });

  it('deletes the created secret with RemovalPolicy.DESTROY', () => {
    const { template } = synthStack({ paymentGateway: 'toss', removalPolicy: RemovalPolicy.DESTROY });
    expect(resourcesOfType(template, 'AWS::SecretsManager::Secret').TossSecretKey?.DeletionPolicy).toBe('Delete');
  });

  it('refuses Toss settings on a stack whose PG is not Toss', () => {
    expect(() => synthStack({ toss: { apiBaseUrl: 'https://api.tosspayments.com' } })).toThrow(
      "toss: Toss Payments settings are given, but paymentGateway is sandbox; set paymentGateway: 'toss' or drop them",
    );
  });

  it('still refuses a reconciler grace period an API call could outlast', () => {
    expect(() => synthStack({ paymentGateway: 'toss', reconciler: { gracePeriod: Duration.seconds(10) } })).toThrow(
      "reconciler.gracePeriod (10 seconds) must be longer than the API functions' timeout (10 seconds)",
    );
  });

  it('fails synthesis with the construct path when a setting is invalid', () => {
    expect(() => synthStack({ paymentGateway: 'toss', toss: { virtualAccountValidHours: 0 } })).toThrow(
      'TestStack/TossPaymentGateway: virtualAccountValidHours must be an integer between 1 and 720 (got 0)',
    );
  });
});

describe('TossPaymentGateway', () => {
  function arrange(props?: TossPaymentGatewayProps) {
    const stack = newTestStack();
    const gateway = new TossPaymentGateway(stack, 'Toss', props);
    return { stack, gateway };
  }

  it('defaults to Toss\'s API, bank 20 and 72 hours, with a created secret', () => {
    const { gateway } = arrange();
    expect(gateway.apiBaseUrl).toBe(DEFAULT_TOSS_API_BASE_URL);
    expect(DEFAULT_TOSS_API_BASE_URL).toBe('https://api.tosspayments.com');
    expect(gateway.virtualAccountBank).toBe('20');
    expect(gateway.virtualAccountValidHours).toBe(72);
    expect(gateway.createdSecretKey).toBeDefined();
    expect(gateway.secretKey).toBe(gateway.createdSecretKey);
  });

  it('acknowledges AwsSolutions-SMG4 (no rotation Lambda) on the secret it creates, with the reason', () => {
    const { gateway } = arrange();
    const acks = gateway.createdSecretKey!.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acks.map(([id]) => id.replace(/^annotation::/i, ''))).toEqual(['AwsSolutions-SMG4']);
    expect(acks[0]?.[1]).toMatch(/developer center/);
  });

  it('binds a function: PAYMENT_GATEWAY=toss and the Toss variables, read access to the secret', () => {
    // GIVEN
    const { stack, gateway } = arrange({ virtualAccountBank: 'WOORI', virtualAccountValidHours: 720 });
    const fn = new PaymentFunction(stack, 'Fn', { entry: PG_RECONCILER_ENTRY });
    // WHEN
    gateway.bind(fn, 'call');
    // THEN
    const template = Template.fromStack(stack);
    const secretId = stack.getLogicalId(gateway.createdSecretKey!.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PAYMENT_GATEWAY: 'toss',
          TOSS_API_BASE_URL: 'https://api.tosspayments.com',
          TOSS_SECRET_KEY_ARN: { Ref: secretId },
          TOSS_VIRTUAL_ACCOUNT_BANK: 'WOORI',
          TOSS_VIRTUAL_ACCOUNT_VALID_HOURS: '720',
        }),
      },
    });
    const functionId = stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
    expect(actionsOnResource(template, functionId, secretId)).toEqual(SECRET_READ);
  });

  it('refuses to bind a function twice, or to a second PG', () => {
    const { stack, gateway } = arrange();
    const fn = new PaymentFunction(stack, 'Fn', { entry: PG_RECONCILER_ENTRY });
    gateway.bind(fn, 'lookup');
    expect(() => gateway.bind(fn, 'lookup')).toThrow('ConstructTestStack/Fn: environment variable PAYMENT_GATEWAY is already bound');
    expect(() => new SandboxPaymentGateway(stack, 'Sandbox').bind(fn, 'call')).toThrow('environment variable PAYMENT_GATEWAY is already bound');
  });

  it.each([
    ['https://api.tosspayments.com', 'https://api.tosspayments.com'],
    ['https://api.tosspayments.com/', 'https://api.tosspayments.com'],
    ['https://toss.example.com/proxy', 'https://toss.example.com/proxy'],
    ['http://localhost:3002', 'http://localhost:3002'],
    ['http://127.0.0.1:3002/', 'http://127.0.0.1:3002'],
  ])('accepts the API base URL %s', (apiBaseUrl, expected) => {
    expect(arrange({ apiBaseUrl }).gateway.apiBaseUrl).toBe(expected);
  });

  it.each([
    ['http://api.tosspayments.com', 'uses http:// on a host other than localhost or 127.0.0.1'],
    ['http://10.0.0.1:3002', 'uses http:// on a host other than localhost or 127.0.0.1'],
    ['ftp://api.tosspayments.com', 'uses ftp://'],
    ['api.tosspayments.com', 'is not a URL'],
    ['https://api.tosspayments.com?x=1', 'has a query or fragment'],
    ['https://api.tosspayments.com/#top', 'has a query or fragment'],
    ['https://user:pw@api.tosspayments.com', 'carries credentials'],
  ])('rejects the API base URL %s', (apiBaseUrl, problem) => {
    expect(() => arrange({ apiBaseUrl })).toThrow(
      `ConstructTestStack/Toss: apiBaseUrl must be an https:// URL (or http:// on localhost or 127.0.0.1) without query or fragment; ${JSON.stringify(apiBaseUrl)} ${problem}`,
    );
  });

  it.each([0, 721, 2.5])('rejects virtualAccountValidHours %s', (virtualAccountValidHours) => {
    expect(() => arrange({ virtualAccountValidHours })).toThrow(
      `ConstructTestStack/Toss: virtualAccountValidHours must be an integer between 1 and 720 (got ${virtualAccountValidHours})`,
    );
  });

  it('accepts virtualAccountValidHours 1 and 720', () => {
    expect(arrange({ virtualAccountValidHours: 1 }).gateway.virtualAccountValidHours).toBe(1);
    expect(arrange({ virtualAccountValidHours: 720 }).gateway.virtualAccountValidHours).toBe(720);
  });

  it.each(['', 'woori bank', '20;'])('rejects virtualAccountBank %j', (virtualAccountBank) => {
    expect(() => arrange({ virtualAccountBank })).toThrow(
      `ConstructTestStack/Toss: virtualAccountBank must be a Toss bank code such as 20 (letters, digits and _, at most 20) (got ${JSON.stringify(virtualAccountBank)})`,
    );
  });

  it.each([
    'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:toss',
    'arn:aws:ssm:ap-northeast-2:123456789012:parameter/toss-sk-AbC123',
    'toss-sk',
  ])('rejects secretKeyArn %s (not a complete secret ARN)', (secretKeyArn) => {
    expect(() => arrange({ secretKeyArn })).toThrow(
      `ConstructTestStack/Toss: secretKeyArn must be the complete ARN of a Secrets Manager secret, ending in the 6 characters Secrets Manager adds to its name (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf) (got ${secretKeyArn})`,
    );
  });

  it('imports a complete secret ARN without creating a secret or acknowledging anything', () => {
    const { stack, gateway } = arrange({ secretKeyArn: IMPORTED_ARN });
    expect(gateway.secretKey.secretArn).toBe(IMPORTED_ARN);
    expect(gateway.createdSecretKey).toBeUndefined();
    expect(stack.node.findAll().filter((construct) => construct instanceof secretsmanager.CfnSecret)).toEqual([]);
  });
});
