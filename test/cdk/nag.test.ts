import { Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { appSubscribers } from '../../bin/app-subscribers';
import { PaymentOutboxStack } from '../../lib/payment-outbox-stack';
import { newTestApp } from '../support/cdk-stack';

/** Findings of the AwsSolutions pack on `scope`, as `rule @ construct path` lines. */
function findings(pack: AwsSolutionsChecks, scope: IConstruct): string[] {
  return pack
    .validateScope(scope)
    .violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.severity} ${violation.ruleName} @ ${resource.constructPath}`),
    );
}

/** Every acknowledgement recorded in the tree under `scope`. */
function acknowledgements(scope: IConstruct): { path: string; id: string; reason: string }[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning on the stack, and synthesis succeeds with the pack registered', () => {
    // GIVEN an app like bin/payment-outbox.ts (its subscribers: a queue and a webhook), with the pack registered
    const app = newTestApp();
    new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers() });
    const pack = new AwsSolutionsChecks(app);
    Validations.of(app).addPlugins(pack);
    // WHEN
    const assembly = app.synth();
    // THEN
    expect(findings(pack, app)).toEqual([]);
    expect(assembly.getStackByName('NagStack').template).toBeDefined();
  });

  it('acknowledges exactly the expected rules, each with a written reason', () => {
    // GIVEN
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers() });
    // WHEN
    const acks = acknowledgements(stack);
    // THEN
    expect([...new Set(acks.map((ack) => ack.id))].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-APIG4',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-L1',
      'AwsSolutions-SMG4',
      'AwsSolutions-SQS3',
    ]);
    for (const ack of acks) {
      expect(ack.reason.length, `${ack.id} on ${ack.path}`).toBeGreaterThan(60);
    }
  });

  it('acknowledges APIG4 (no authorizer) on the PG callback method only', () => {
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers() });
    const paths = acknowledgements(stack)
      .filter((ack) => ack.id === 'AwsSolutions-APIG4')
      .map((ack) => ack.path);
    expect(paths).toEqual(['NagStack/Api/RestApi/Default/pg/webhooks/deposits/POST']);
  });

  it('acknowledges SMG4 (no automatic rotation) on the shared HMAC secrets only: the PG key and each webhook signing key', () => {
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers() });
    const paths = acknowledgements(stack)
      .filter((ack) => ack.id === 'AwsSolutions-SMG4')
      .map((ack) => ack.path)
      .sort();
    expect(paths).toEqual(['NagStack/Api/PgWebhookSecret', 'NagStack/NotificationsWebhookDispatcher/Secret']);
  });

  it('needs no acknowledgement for the topic: it is encrypted (SNS2) and TLS-only (SNS3)', () => {
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers() });
    const onTopic = acknowledgements(stack).filter((ack) => ack.path.startsWith('NagStack/PaymentEventsTopic'));
    expect(onTopic).toEqual([]);
  });

  it('acknowledges SQS3 (no DLQ) only on the dead-letter queues that are not SQS redrive sources: relay-failures and the SNS subscription DLQs', () => {
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers() });
    const paths = acknowledgements(stack)
      .filter((ack) => ack.id === 'AwsSolutions-SQS3')
      .map((ack) => ack.path);
    expect([...paths].sort()).toEqual(
      ['NagStack/NotificationsSubscriber/SubscriptionDeadLetterQueue', 'NagStack/PaymentEventsSubscriber/SubscriptionDeadLetterQueue', 'NagStack/Relay/FailureQueue'].sort(),
    );
  });

  it('reports no unacknowledged finding on a stack on Toss Payments, with a created or an imported secret key', () => {
    for (const toss of [{}, { secretKeyArn: 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:toss-sk-AbC123' }]) {
      // GIVEN the app's stack on Toss, with the pack registered
      const app = newTestApp();
      new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers(), paymentGateway: 'toss', toss });
      const pack = new AwsSolutionsChecks(app);
      Validations.of(app).addPlugins(pack);
      // WHEN
      const assembly = app.synth();
      // THEN
      expect(findings(pack, app), JSON.stringify(toss)).toEqual([]);
      expect(assembly.getStackByName('NagStack').template).toBeDefined();
    }
  });

  it('acknowledges, on Toss, APIG4 on the Toss callback method only and SMG4 on the Toss secret key and the webhook signing key', () => {
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers(), paymentGateway: 'toss' });
    const acks = acknowledgements(stack);
    expect(acks.filter((ack) => ack.id === 'AwsSolutions-APIG4').map((ack) => ack.path)).toEqual(['NagStack/Api/RestApi/Default/pg/webhooks/toss/POST']);
    expect(
      acks
        .filter((ack) => ack.id === 'AwsSolutions-SMG4')
        .map((ack) => ack.path)
        .sort(),
    ).toEqual(['NagStack/NotificationsWebhookDispatcher/Secret', 'NagStack/TossPaymentGateway/SecretKey']);
    expect(acks.find((ack) => ack.path === 'NagStack/TossPaymentGateway/SecretKey')?.reason).toMatch(/rotated in Toss's developer center/);
  });

  it('acknowledges no SMG4 for an imported Toss secret key (the stack creates no secret for it)', () => {
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'NagStack', {
      subscribers: appSubscribers(),
      paymentGateway: 'toss',
      toss: { secretKeyArn: 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:toss-sk-AbC123' },
    });
    expect(acknowledgements(stack).filter((ack) => ack.path.startsWith('NagStack/TossPaymentGateway'))).toEqual([]);
  });

  it.each(['sandbox', 'toss'] as const)(
    'reports no unacknowledged finding with the PG web ACL on (%s), and then needs no APIG3 acknowledgement',
    (paymentGateway) => {
      // GIVEN the app's stack with pgWebAcl, with the pack registered
      const app = newTestApp();
      const stack = new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers(), paymentGateway, pgWebAcl: true });
      const pack = new AwsSolutionsChecks(app);
      Validations.of(app).addPlugins(pack);
      // WHEN
      const assembly = app.synth();
      // THEN: the stage has a web ACL, so APIG3 passes on its own
      expect(findings(pack, app)).toEqual([]);
      expect(acknowledgements(stack).filter((ack) => ack.id === 'AwsSolutions-APIG3')).toEqual([]);
      expect(assembly.getStackByName('NagStack').template).toBeDefined();
    },
  );

  it('acknowledges APIG3 (no web ACL) on the REST API when pgWebAcl is off, pointing at the option', () => {
    const app = newTestApp();
    const stack = new PaymentOutboxStack(app, 'NagStack', { subscribers: appSubscribers() });
    const apig3 = acknowledgements(stack).filter((ack) => ack.id === 'AwsSolutions-APIG3');
    expect(apig3.map((ack) => ack.path)).toEqual(['NagStack/Api/RestApi']);
    expect(apig3[0]?.reason).toMatch(/pgWebAcl/);
  });

  it('does report findings when a construct breaks a rule (the check is not vacuous)', () => {
    // GIVEN a stack with a queue that has no DLQ, no TLS enforcement and no encryption
    const app = newTestApp();
    const stack = new Stack(app, 'BadStack');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const pack = new AwsSolutionsChecks(app);
    // WHEN
    const found = findings(pack, app);
    // THEN
    expect(found).toEqual(
      expect.arrayContaining([
        'error AwsSolutions-SQS2 @ BadStack/Plain/Resource',
        'error AwsSolutions-SQS3 @ BadStack/Plain/Resource',
        'error AwsSolutions-SQS4 @ BadStack/Plain/Resource',
      ]),
    );
  });

  it('fails synthesis when the pack is registered and a finding is not acknowledged', () => {
    // GIVEN the same bad queue, with the pack registered on the app as bin/payment-outbox.ts does
    const app = newTestApp({}, { builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'BadStack');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN / THEN
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });
});
