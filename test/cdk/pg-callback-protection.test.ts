/**
 * The PG's deposit callback is the one route open to the internet: it gets its own method throttling,
 * below the callers' stage throttling, and optionally a WAF web ACL with a rate-based rule per client IP.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseSubscribers } from '../../lambdas/domain/subscribers';
import {
  DEFAULT_PG_CALLBACK_BURST_LIMIT,
  DEFAULT_PG_CALLBACK_RATE_LIMIT,
  DEFAULT_PG_WEB_ACL_RATE_LIMIT,
  PaymentApi,
  type PaymentApiProps,
  SANDBOX_DEPOSIT_CALLBACK_PATH,
  TOSS_DEPOSIT_CALLBACK_PATH,
} from '../../lib/constructs/payment-api';
import { SandboxPaymentGateway } from '../../lib/constructs/sandbox-payment-gateway';
import { newTestStack, resourcesOfType, synthAppStack } from '../support/cdk-stack';

/** A method setting's ResourcePath: `/` then the resource path with each `/` escaped as `~1`. */
const methodSettingPath = (path: string) => `/${path.replaceAll('/', '~1')}`;

const CALLBACK_PATHS = { sandbox: SANDBOX_DEPOSIT_CALLBACK_PATH, toss: TOSS_DEPOSIT_CALLBACK_PATH } as const;

describe.each(['sandbox', 'toss'] as const)('the PG deposit callback on the %s PG', (paymentGateway) => {
  // GIVEN the stack as the app builds it, on each PG
  const { template } = synthAppStack({ paymentGateway });
  const callbackPath = CALLBACK_PATHS[paymentGateway];
  const stage = () => Object.values(resourcesOfType(template, 'AWS::ApiGateway::Stage'))[0]!;

  it(`has its own method throttling (${DEFAULT_PG_CALLBACK_RATE_LIMIT}/s, burst ${DEFAULT_PG_CALLBACK_BURST_LIMIT}) below the stage's, with the stage's logging`, () => {
    expect(stage().Properties?.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }),
      {
        HttpMethod: 'POST',
        ResourcePath: methodSettingPath(callbackPath),
        ThrottlingRateLimit: DEFAULT_PG_CALLBACK_RATE_LIMIT,
        ThrottlingBurstLimit: DEFAULT_PG_CALLBACK_BURST_LIMIT,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
      },
    ]);
  });

  it('keeps the callback defaults when the stage throttling changes above them', () => {
    // GIVEN / WHEN
    const { template: custom } = synthAppStack({ paymentGateway, apiThrottling: { rateLimit: 50, burstLimit: 80 } });
    // THEN
    custom.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ResourcePath: methodSettingPath(callbackPath), ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }),
      ]),
    });
  });

  it('lowers the callback defaults to the stage limits when those are lower', () => {
    const { template: custom } = synthAppStack({ paymentGateway, apiThrottling: { rateLimit: 5, burstLimit: 8 } });
    custom.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ResourcePath: methodSettingPath(callbackPath), ThrottlingRateLimit: 5, ThrottlingBurstLimit: 8 }),
      ]),
    });
  });

  it('creates no web ACL by default', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  describe('with pgWebAcl', () => {
    // GIVEN the stack with the web ACL on
    const { template: withAcl } = synthAppStack({ paymentGateway, pgWebAcl: true });
    const stageId = Object.keys(resourcesOfType(withAcl, 'AWS::ApiGateway::Stage'))[0]!;
    const webAclId = Object.keys(resourcesOfType(withAcl, 'AWS::WAFv2::WebACL'))[0]!;

    it('creates one regional web ACL that allows by default and blocks an IP over the rate on the callback path only', () => {
      withAcl.resourceCountIs('AWS::WAFv2::WebACL', 1);
      withAcl.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        VisibilityConfig: { CloudWatchMetricsEnabled: true, MetricName: Match.anyValue(), SampledRequestsEnabled: true },
        Rules: [
          {
            Name: 'PgCallbackRatePerIp',
            Priority: 0,
            Action: { Block: {} },
            Statement: {
              RateBasedStatement: {
                Limit: DEFAULT_PG_WEB_ACL_RATE_LIMIT,
                EvaluationWindowSec: 300,
                AggregateKeyType: 'IP',
                ScopeDownStatement: {
                  ByteMatchStatement: {
                    FieldToMatch: { UriPath: {} },
                    PositionalConstraint: 'ENDS_WITH',
                    SearchString: callbackPath,
                    TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }],
                  },
                },
              },
            },
            VisibilityConfig: { CloudWatchMetricsEnabled: true, MetricName: 'PgCallbackRatePerIp', SampledRequestsEnabled: true },
          },
        ],
      });
    });

    it('associates the web ACL with the API stage', () => {
      withAcl.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
      withAcl.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        WebACLArn: { 'Fn::GetAtt': [webAclId, 'Arn'] },
        ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: Match.stringLikeRegexp('RestApi') }, '/stages/', { Ref: stageId }])] },
      });
    });
  });
});

describe('PaymentApi PG callback protection props', () => {
  function props(stack: ReturnType<typeof newTestStack>, overrides: Partial<PaymentApiProps> = {}): PaymentApiProps {
    const table = (id: string) => new dynamodb.Table(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
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

  it('applies the given callback throttling and web ACL rate limit', () => {
    // GIVEN
    const stack = newTestStack();
    // WHEN
    new PaymentApi(stack, 'Api', props(stack, { pgCallbackThrottlingRateLimit: 3, pgCallbackThrottlingBurstLimit: 7, pgWebAcl: true, pgWebAclRateLimit: 300 }));
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: 'POST', ResourcePath: methodSettingPath(SANDBOX_DEPOSIT_CALLBACK_PATH), ThrottlingRateLimit: 3, ThrottlingBurstLimit: 7 }),
      ]),
    });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: [Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 300 }) } })],
    });
  });

  it.each([
    [{ pgCallbackThrottlingRateLimit: 0 }, 'pgCallbackThrottlingRateLimit must be an integer between 1 and 100 (got 0)'],
    [{ pgCallbackThrottlingRateLimit: 101 }, 'pgCallbackThrottlingRateLimit must be an integer between 1 and 100 (got 101)'],
    [{ throttlingRateLimit: 20, pgCallbackThrottlingRateLimit: 21 }, 'pgCallbackThrottlingRateLimit must be an integer between 1 and 20 (got 21)'],
    [{ pgCallbackThrottlingBurstLimit: 2.5 }, 'pgCallbackThrottlingBurstLimit must be an integer between 1 and 200 (got 2.5)'],
    [{ pgCallbackThrottlingBurstLimit: 201 }, 'pgCallbackThrottlingBurstLimit must be an integer between 1 and 200 (got 201)'],
    [{ pgWebAcl: true, pgWebAclRateLimit: 9 }, 'pgWebAclRateLimit must be an integer between 10 and 2000000000 (got 9)'],
    [{ pgWebAclRateLimit: 500 }, 'pgWebAclRateLimit is set but pgWebAcl is not: set pgWebAcl: true to create the web ACL'],
  ])('rejects %o', (overrides, message) => {
    const stack = newTestStack();
    expect(() => new PaymentApi(stack, 'Api', props(stack, overrides))).toThrow(`ConstructTestStack/Api: ${message}`);
  });
});
