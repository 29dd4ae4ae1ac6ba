import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseSubscribers, parseSubscribersJson } from '../../lambdas/domain/subscribers';
import { MAX_SUBSCRIBERS_JSON_LENGTH, PaymentApi, type PaymentApiProps, paymentApiRoutes } from '../../lib/constructs/payment-api';
import { SandboxPaymentGateway } from '../../lib/constructs/sandbox-payment-gateway';
import { TossPaymentGateway } from '../../lib/constructs/toss-payment-gateway';
import {
  actionsOnResource,
  functionIdByEntry,
  newTestStack,
  resourcesOfType,
  statementsOfFunction,
  synthAppStack,
  synthStack,
} from '../support/cdk-stack';

/** The full path of an AWS::ApiGateway::Resource, rebuilt from its ParentId chain. */
function resourcePaths(template: Template): Map<string, string> {
  const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const resource = resources[id];
    if (!resource) return '';
    const parent = resource.Properties?.ParentId as { Ref?: string };
    return `${parent.Ref ? pathOf(parent.Ref) : ''}/${resource.Properties?.PathPart as string}`;
  };
  return new Map(Object.keys(resources).map((id) => [id, pathOf(id)]));
}

/** Every method as `METHOD /path` -> its properties. */
function methodsByRoute(template: Template): Map<string, Record<string, any>> {
  const paths = resourcePaths(template);
  const methods = new Map<string, Record<string, any>>();
  for (const method of Object.values(resourcesOfType(template, 'AWS::ApiGateway::Method'))) {
    const resourceId = (method.Properties?.ResourceId as { Ref: string }).Ref;
    methods.set(`${method.Properties?.HttpMethod as string} ${paths.get(resourceId) ?? '?'}`, method.Properties ?? {});
  }
  return methods;
}

/** Logical id of the function a proxy integration URI points to. */
function integratedFunctionId(method: Record<string, any>): string {
  const parts = method.Integration.Uri['Fn::Join'][1] as unknown[];
  const getAtt = parts.find((part) => typeof part === 'object' && part !== null && 'Fn::GetAtt' in part) as {
    'Fn::GetAtt': [string, string];
  };
  return getAtt['Fn::GetAtt'][0];
}

/** The routes of a stack on the sandbox PG (the default). */
const PAYMENT_API_ROUTES = paymentApiRoutes('sandbox');

describe('payment API', () => {
  // GIVEN the stack with default props
  const { stack, template } = synthStack();
  const methods = methodsByRoute(template);

  it('has exactly the seven routes of the contract', () => {
    expect([...methods.keys()].sort()).toEqual([
      'GET /payments/{paymentId}',
      'GET /payments/{paymentId}/deliveries',
      'GET /payments/{paymentId}/events',
      'POST /payments',
      'POST /payments/{paymentId}/cancel',
      'POST /payments/{paymentId}/confirm',
      'POST /pg/webhooks/deposits',
    ]);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
  });

  it.each(PAYMENT_API_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s invokes its own function (proxy integration) with the right authorization',
    (key, route) => {
      const method = methods.get(key);
      expect(method).toBeDefined();
      expect(method?.AuthorizationType).toBe(route.auth === 'iam' ? 'AWS_IAM' : 'NONE');
      expect(method?.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      expect(integratedFunctionId(method ?? {})).toBe(functionIdByEntry(template, route.entry));
    },
  );

  it('requires IAM authorization on every caller route and leaves only the PG callback without an authorizer', () => {
    const open = [...methods].filter(([, method]) => method.AuthorizationType !== 'AWS_IAM').map(([key]) => key);
    expect(open).toEqual(['POST /pg/webhooks/deposits']);
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
  });

  it('serves each route by a distinct function', () => {
    const functionIds = [...methods.values()].map(integratedFunctionId);
    expect(new Set(functionIds).size).toBe(PAYMENT_API_ROUTES.length);
  });

  it('lets API Gateway invoke each route function only from its own method', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Permission',
      { Principal: 'apigateway.amazonaws.com' },
      PAYMENT_API_ROUTES.length,
    );
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionIdByEntry(template, 'lambdas/functions/create-payment/entry.ts'), 'Arn'] },
      SourceArn: { 'Fn::Join': ['', Match.arrayWith(['/POST/payments'])] },
    });
  });

  it('does not validate request bodies in API Gateway (handlers answer 400/413 in the API error format)', () => {
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 0);
    template.resourceCountIs('AWS::ApiGateway::Model', 0);
  });

  it('traces, throttles, and logs access and errors on the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
        }),
      ]),
    });
  });

  it('applies stage throttling from the stack props', () => {
    const { template: custom } = synthStack({ apiThrottling: { rateLimit: 10, burstLimit: 20 } });
    custom.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 })]),
    });
  });

  it('creates the API Gateway CloudWatch role by default and none when told the account has one', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const { template: withoutRole } = synthStack({ apiGatewayCloudWatchRole: false });
    withoutRole.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('creates the PG callback secret with a generated key, retained by default', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: Match.objectLike({
        GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
      }),
      DeletionPolicy: 'Retain',
    });
    expect(resourcesOfType(template, 'AWS::SecretsManager::Secret').PgWebhookSecret).toBeDefined();
  });

  it('gives PG_CALLBACK_SECRET_ARN and read access on the secret to the deposit callback function only', () => {
    const webhookId = functionIdByEntry(template, 'lambdas/functions/pg-deposit-callback/entry.ts');
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    for (const [id, fn] of Object.entries(functions)) {
      const env = fn.Properties?.Environment.Variables as Record<string, unknown>;
      const secretActions = actionsOnResource(template, id, 'PgWebhookSecret');
      if (id === webhookId) {
        expect(env.PG_CALLBACK_SECRET_ARN).toEqual({ Ref: 'PgWebhookSecret' });
        expect(secretActions).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      } else {
        expect(env.PG_CALLBACK_SECRET_ARN).toBeUndefined();
        expect(secretActions).toEqual([]);
      }
    }
  });

  const paymentRoutes = PAYMENT_API_ROUTES.filter((route) => route.id !== 'ListPaymentDeliveries');

  it.each(paymentRoutes.map((route) => [route.entry, route] as const))(
    '%s gets the three payment table names (the exact grants: test/cdk/iam.test.ts), and nothing on the inbox or deliveries',
    (entry) => {
      const id = functionIdByEntry(template, entry);
      const env = resourcesOfType(template, 'AWS::Lambda::Function')[id]?.Properties?.Environment.Variables;
      expect(env).toMatchObject({
        PAYMENTS_TABLE_NAME: { Ref: 'PaymentsTable' },
        OUTBOX_TABLE_NAME: { Ref: 'OutboxTable' },
        IDEMPOTENCY_TABLE_NAME: { Ref: 'IdempotencyTable' },
        OUTBOX_RETENTION_DAYS: '30',
      });
      expect(env.DELIVERIES_TABLE_NAME).toBeUndefined();
      expect(env.SUBSCRIBERS_JSON).toBeUndefined();
      // Every route reads the payment, except create: a fresh id cannot exist, so it only Puts (in its transaction).
      expect(actionsOnResource(template, id, 'PaymentsTable')).toContain(entry === 'lambdas/functions/create-payment/entry.ts' ? 'dynamodb:PutItem' : 'dynamodb:GetItem');
      for (const table of ['PaymentsTable', 'OutboxTable', 'IdempotencyTable']) {
        const actions = actionsOnResource(template, id, table);
        for (const broad of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem']) {
          expect(actions, `${entry} on ${table}`).not.toContain(broad);
        }
      }
      expect(actionsOnResource(template, id, 'InboxTable')).toEqual([]);
      expect(actionsOnResource(template, id, 'DeliveriesTable')).toEqual([]);
      expect(statementsOfFunction(template, id).flatMap((s) => s.Action).filter((a) => a.startsWith('sqs:'))).toEqual([]);
    },
  );

  it.each([
    ['lambdas/functions/get-payment/entry.ts', ['OutboxTable', 'IdempotencyTable']],
    ['lambdas/functions/list-payment-events/entry.ts', ['IdempotencyTable']],
  ])('%s gets the names of %j (its configuration reads them) and no access to them', (entry, tables) => {
    const id = functionIdByEntry(template, entry);
    for (const table of tables) expect(actionsOnResource(template, id, table), table).toEqual([]);
  });

  describe('GET /payments/{paymentId}/deliveries', () => {
    const id = functionIdByEntry(template, 'lambdas/functions/list-payment-deliveries/entry.ts');
    const env = resourcesOfType(template, 'AWS::Lambda::Function')[id]?.Properties?.Environment.Variables;

    it('requires IAM authorization and invokes the list-payment-deliveries function', () => {
      const method = methods.get('GET /payments/{paymentId}/deliveries');
      expect(method?.AuthorizationType).toBe('AWS_IAM');
      expect(integratedFunctionId(method ?? {})).toBe(id);
    });

    it('gets the Payments, Outbox and Deliveries table names and the subscriber list, not the idempotency table', () => {
      expect(env).toMatchObject({
        PAYMENTS_TABLE_NAME: { Ref: 'PaymentsTable' },
        OUTBOX_TABLE_NAME: { Ref: 'OutboxTable' },
        DELIVERIES_TABLE_NAME: { Ref: 'DeliveriesTable' },
      });
      expect(env.IDEMPOTENCY_TABLE_NAME).toBeUndefined();
      expect(parseSubscribersJson(env.SUBSCRIBERS_JSON as string)).toEqual(stack.subscribers);
    });

    it('may only read: GetItem on Payments, Query on the Outbox and Deliveries table ARNs, nothing else', () => {
      expect(actionsOnResource(template, id, 'PaymentsTable')).toEqual(['dynamodb:GetItem']);
      expect(actionsOnResource(template, id, 'OutboxTable')).toEqual(['dynamodb:Query']);
      expect(actionsOnResource(template, id, 'DeliveriesTable')).toEqual(['dynamodb:Query']);
      const actions = statementsOfFunction(template, id)
        .flatMap((statement) => [statement.Action].flat())
        .filter((action) => /^(dynamodb|sqs|sns|secretsmanager|kms):/.test(action));
      expect([...new Set(actions)].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    });

    it('carries every configured subscriber in SUBSCRIBERS_JSON, defaults applied', () => {
      const subscribers = [
        { name: 'payment-events', delivery: { kind: 'queue' } },
        { name: 'shop', eventTypes: ['payment.approved'], delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks' } },
      ];
      const { template: custom } = synthStack({ subscribers });
      const customId = functionIdByEntry(custom, 'lambdas/functions/list-payment-deliveries/entry.ts');
      const json = resourcesOfType(custom, 'AWS::Lambda::Function')[customId]?.Properties?.Environment.Variables.SUBSCRIBERS_JSON;
      expect(JSON.parse(json as string)).toEqual([
        { name: 'payment-events', delivery: { kind: 'queue' } },
        {
          name: 'shop',
          eventTypes: ['payment.approved'],
          delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks', timeoutSeconds: 5, maxAttempts: 8, backoff: { baseSeconds: 2, maxSeconds: 300 } },
        },
      ]);
    });
  });

  it('outputs the API URL', () => {
    template.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
  });
});

/** What confirm may do to its attempts: read them by key with the payment (a Get in TransactGetItems), open and close them (Put); never delete them. */
const CONFIRM_PG_ATTEMPTS_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'];
/** Cancel also checks, in a cancel without refund, that no attempt is open (ConditionCheck). */
const CANCEL_PG_ATTEMPTS_ACTIONS = ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem'];
/** The stand-in PG's ledger, as SandboxPaymentGateway grants it to a function that calls it (SANDBOX_PG_LEDGER_CALL_ACTIONS). */
const LEDGER_CALL = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

/** The functions that get a PG table, by entry; every other function of the stack gets neither variable nor access. */
const PG_TABLE_ACCESS: Readonly<Record<string, { readonly attempts: readonly string[]; readonly ledger: readonly string[] }>> = {
  'lambdas/functions/create-payment/entry.ts': { attempts: [], ledger: LEDGER_CALL },
  'lambdas/functions/confirm-payment/entry.ts': { attempts: CONFIRM_PG_ATTEMPTS_ACTIONS, ledger: LEDGER_CALL },
  'lambdas/functions/cancel-payment/entry.ts': { attempts: CANCEL_PG_ATTEMPTS_ACTIONS, ledger: LEDGER_CALL },
  // Closes attempts (PutItem, conditioned on the attempt's generation) and looks them up at the PG (consistent GetItem).
  'lambdas/functions/pg-reconciler/entry.ts': { attempts: ['dynamodb:PutItem'], ledger: ['dynamodb:GetItem'] },
};

describe('payment API: the PG tables', () => {
  // GIVEN the stack as the app builds it (every kind of function: API routes, relay, sweeper, PG reconciler, consumer, webhook dispatcher)
  const { template } = synthAppStack();
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const entryOf = (id: string) => functions[id]?.Metadata?.['payment-outbox:entry'] as string | undefined;

  it('finds the functions that get them (guards against a vacuous pass)', () => {
    for (const entry of Object.keys(PG_TABLE_ACCESS)) expect(functionIdByEntry(template, entry)).toBeDefined();
    expect(Object.keys(functions).length).toBeGreaterThan(Object.keys(PG_TABLE_ACCESS).length + 4);
  });

  it.each(['ConfirmPayment', 'CancelPayment'])(
    '%s gets PG_ATTEMPTS_TABLE_NAME and SANDBOX_PG_LEDGER_TABLE_NAME, bound to the pinned tables',
    (routeId) => {
      const route = PAYMENT_API_ROUTES.find((candidate) => candidate.id === routeId)!;
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: `${route.method} ${route.path}`,
        Environment: {
          Variables: Match.objectLike({
            PG_ATTEMPTS_TABLE_NAME: { Ref: 'PgAttemptsTable' },
            SANDBOX_PG_LEDGER_TABLE_NAME: { Ref: 'SandboxPgLedgerTable' },
          }),
        },
      });
    },
  );

  it('gives CreatePayment SANDBOX_PG_LEDGER_TABLE_NAME (it issues virtual accounts at the PG) and no PG_ATTEMPTS_TABLE_NAME', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'POST /payments',
      Environment: {
        Variables: Match.objectLike({
          SANDBOX_PG_LEDGER_TABLE_NAME: { Ref: 'SandboxPgLedgerTable' },
          PG_ATTEMPTS_TABLE_NAME: Match.absent(),
        }),
      },
    });
  });

  it('sets each PG table variable on exactly the functions that get access, and on no other function', () => {
    for (const [id, fn] of Object.entries(functions)) {
      const env = (fn.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
      const expected = PG_TABLE_ACCESS[entryOf(id) ?? ''] ?? { attempts: [], ledger: [] };
      expect(env.PG_ATTEMPTS_TABLE_NAME, `${entryOf(id) ?? id}: PG_ATTEMPTS_TABLE_NAME`).toEqual(
        expected.attempts.length > 0 ? { Ref: 'PgAttemptsTable' } : undefined,
      );
      expect(env.SANDBOX_PG_LEDGER_TABLE_NAME, `${entryOf(id) ?? id}: SANDBOX_PG_LEDGER_TABLE_NAME`).toEqual(
        expected.ledger.length > 0 ? { Ref: 'SandboxPgLedgerTable' } : undefined,
      );
    }
  });

  it('grants exactly the expected actions on the PgAttempts and SandboxPgLedger table ARNs, and nothing to any other function', () => {
    for (const id of Object.keys(functions)) {
      const expected = PG_TABLE_ACCESS[entryOf(id) ?? ''] ?? { attempts: [], ledger: [] };
      expect(actionsOnResource(template, id, 'PgAttemptsTable'), `${entryOf(id) ?? id} on PgAttemptsTable`).toEqual(expected.attempts);
      expect(actionsOnResource(template, id, 'SandboxPgLedgerTable'), `${entryOf(id) ?? id} on SandboxPgLedgerTable`).toEqual(expected.ledger);
    }
  });

  it('lets confirm and cancel commit the payment, its event, the idempotency record and the attempt in one TransactWriteItems', () => {
    // TransactWriteItems is authorized per item: each Put needs PutItem, each ConditionCheck ConditionCheckItem.
    for (const entry of ['lambdas/functions/confirm-payment/entry.ts', 'lambdas/functions/cancel-payment/entry.ts']) {
      const id = functionIdByEntry(template, entry);
      for (const table of ['PaymentsTable', 'OutboxTable', 'IdempotencyTable', 'PgAttemptsTable']) {
        expect(actionsOnResource(template, id, table), `${entry} on ${table}`).toContain('dynamodb:PutItem');
      }
      // openAttempt checks the payment's version in the transaction that writes the attempt
      expect(actionsOnResource(template, id, 'PaymentsTable'), entry).toContain('dynamodb:ConditionCheckItem');
      expect(actionsOnResource(template, id, 'PgAttemptsTable')).not.toContain('dynamodb:DeleteItem');
      expect(actionsOnResource(template, id, 'PgAttemptsTable')).not.toContain('dynamodb:BatchWriteItem');
    }
  });

  it('grants nothing on the OpenAttempts index to an API function (only the reconciler reads it)', () => {
    for (const route of PAYMENT_API_ROUTES) {
      const onIndex = statementsOfFunction(template, functionIdByEntry(template, route.entry)).filter((statement) =>
        JSON.stringify(statement.Resource).includes('/index/OpenAttempts'),
      );
      expect(onIndex, route.id).toEqual([]);
    }
  });
});

describe('payment API: PAYMENT_GATEWAY on the sandbox', () => {
  // GIVEN the stack as the app builds it, on the sandbox PG (the default)
  const { template } = synthAppStack();
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const callers = [
    'lambdas/functions/create-payment/entry.ts',
    'lambdas/functions/confirm-payment/entry.ts',
    'lambdas/functions/cancel-payment/entry.ts',
    'lambdas/functions/pg-reconciler/entry.ts',
  ];

  it('sets PAYMENT_GATEWAY=sandbox on the functions that call the PG (create, confirm, cancel, reconciler), and on no other', () => {
    for (const fn of Object.values(functions)) {
      const entry = fn.Metadata?.['payment-outbox:entry'] as string;
      expect(fn.Properties?.Environment?.Variables?.PAYMENT_GATEWAY, entry).toBe(callers.includes(entry) ? 'sandbox' : undefined);
    }
    expect(callers.map((entry) => functionIdByEntry(template, entry))).toHaveLength(4);
  });

  it('sets no Toss variable on any function', () => {
    for (const fn of Object.values(functions)) {
      const names = Object.keys(fn.Properties?.Environment?.Variables ?? {});
      expect(names.filter((name) => name.startsWith('TOSS_')), fn.Metadata?.['payment-outbox:entry']).toEqual([]);
    }
  });

  it('binds the sandbox deposit callback to no PG (it checks the HMAC and commits; it calls nothing)', () => {
    const id = functionIdByEntry(template, 'lambdas/functions/pg-deposit-callback/entry.ts');
    expect(functions[id]?.Properties?.Environment.Variables.PAYMENT_GATEWAY).toBeUndefined();
    expect(functions[id]?.Properties?.Environment.Variables.SANDBOX_PG_LEDGER_TABLE_NAME).toBeUndefined();
  });
});

describe('PaymentApi on a PG other than the sandbox', () => {
  it('binds no route to a ledger and creates no HMAC secret on Toss (Toss keeps its own ledger and does not sign callbacks)', () => {
    // GIVEN
    const stack = newTestStack();
    const table = (id: string) => new dynamodb.Table(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const pgAttemptsTable = table('PgAttempts');
    // WHEN
    const api = new PaymentApi(stack, 'Api', {
      paymentsTable: table('Payments'),
      outboxTable: table('Outbox'),
      idempotencyTable: table('Idempotency'),
      deliveriesTable: table('Deliveries'),
      pgAttemptsTable,
      paymentGateway: new TossPaymentGateway(stack, 'Toss'),
      subscribers: parseSubscribers([{ name: 'payment-events', delivery: { kind: 'queue' } }]),
      retentionDays: 30,
    });
    // THEN
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SANDBOX_PG_LEDGER_TABLE_NAME: Match.absent(), PG_CALLBACK_SECRET_ARN: Match.absent() }) },
    });
    expect(api.pgCallbackSecret).toBeUndefined();
    expect(api.routes.map((route) => route.id)).toContain('TossDepositCallback');
    expect(api.routes.map((route) => route.id)).not.toContain('PgDepositCallback');
    expect(Object.keys(api.pgFunctions).sort()).toEqual(['CancelPayment', 'ConfirmPayment', 'CreatePayment', 'TossDepositCallback']);
    // One secret: Toss's key, none for HMAC
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    // ... while confirm and cancel keep their PG attempts
    const attemptsId = stack.getLogicalId(pgAttemptsTable.node.defaultChild as dynamodb.CfnTable);
    for (const [entry, expected] of [
      ['lambdas/functions/confirm-payment/entry.ts', CONFIRM_PG_ATTEMPTS_ACTIONS],
      ['lambdas/functions/cancel-payment/entry.ts', CANCEL_PG_ATTEMPTS_ACTIONS],
    ] as const) {
      const functionId = functionIdByEntry(template, entry);
      expect(actionsOnResource(template, functionId, attemptsId), entry).toEqual(expected);
      expect(resourcesOfType(template, 'AWS::Lambda::Function')[functionId]?.Properties?.Environment.Variables.PG_ATTEMPTS_TABLE_NAME).toEqual({
        Ref: attemptsId,
      });
    }
  });
});

describe('PaymentApi on the sandbox PG', () => {
  it('binds exactly the routes that call the PG to the gateway: create, confirm and cancel', () => {
    // GIVEN
    const stack = newTestStack();
    const table = (id: string) => new dynamodb.Table(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    // WHEN
    const api = new PaymentApi(stack, 'Api', {
      paymentsTable: table('Payments'),
      outboxTable: table('Outbox'),
      idempotencyTable: table('Idempotency'),
      deliveriesTable: table('Deliveries'),
      pgAttemptsTable: table('PgAttempts'),
      paymentGateway: new SandboxPaymentGateway(stack, 'Sandbox'),
      subscribers: parseSubscribers([{ name: 'payment-events', delivery: { kind: 'queue' } }]),
      retentionDays: 30,
    });
    // THEN
    expect(Object.keys(api.pgFunctions).sort()).toEqual(['CancelPayment', 'ConfirmPayment', 'CreatePayment']);
    expect(api.pgCallbackSecret).toBeDefined();
    expect(api.routes).toEqual(paymentApiRoutes('sandbox'));
  });
});

describe('PaymentApi validation', () => {
  function props(stack: ReturnType<typeof newTestStack>, overrides: Partial<PaymentApiProps> = {}): PaymentApiProps {
    const table = (id: string) =>
      new dynamodb.Table(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    return {
      paymentsTable: table('Payments'),
      outboxTable: table('Outbox'),
      idempotencyTable: table('Idempotency'),
      deliveriesTable: table('Deliveries'),
      pgAttemptsTable: table('PgAttempts'),
      paymentGateway: new SandboxPaymentGateway(stack, 'Sandbox'),
      subscribers: parseSubscribers([{ name: 'payment-events', delivery: { kind: 'queue' } }]),
      retentionDays: 30,
      ...overrides,
    };
  }

  it('rejects a function timeout above the 29 s API Gateway integration limit', () => {
    const stack = newTestStack();
    expect(() => new PaymentApi(stack, 'Api', props(stack, { functionTimeout: Duration.seconds(30) }))).toThrow(
      'ConstructTestStack/Api: functionTimeout must be between 1 second and 29 seconds (got 30 seconds)',
    );
  });

  it.each([
    [{ throttlingRateLimit: 0 }, 'throttlingRateLimit must be an integer between 1 and 10000 (got 0)'],
    [{ throttlingBurstLimit: 5001 }, 'throttlingBurstLimit must be an integer between 1 and 5000 (got 5001)'],
    [{ retentionDays: 1 }, 'retentionDays must be an integer between 2 and 365 (got 1)'],
  ])('rejects %o', (overrides, message) => {
    const stack = newTestStack();
    expect(() => new PaymentApi(stack, 'Api', props(stack, overrides))).toThrow(`ConstructTestStack/Api: ${message}`);
  });

  it('rejects a subscriber list too long for a Lambda environment as SUBSCRIBERS_JSON', () => {
    const stack = newTestStack();
    const subscribers = parseSubscribers(
      Array.from({ length: 40 }, (_, i) => ({
        name: `subscriber-${i}`,
        delivery: { kind: 'webhook', url: `https://subscriber-${i}.example.com/hooks/payment-events` },
      })),
    );
    expect(() => new PaymentApi(stack, 'Api', props(stack, { subscribers }))).toThrow(
      new RegExp(`ConstructTestStack/Api: the subscriber list takes \\d+ characters as SUBSCRIBERS_JSON, more than the ${MAX_SUBSCRIBERS_JSON_LENGTH}`),
    );
  });
});
