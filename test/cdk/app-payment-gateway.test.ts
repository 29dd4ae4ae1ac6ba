import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  PAYMENT_GATEWAY_CONTEXT,
  paymentGatewaySettings,
  TOSS_API_BASE_URL_CONTEXT,
  TOSS_SECRET_KEY_ARN_CONTEXT,
} from '../../bin/app-payment-gateway';
import { appSubscribers } from '../../bin/app-subscribers';
import { PaymentOutboxStack } from '../../lib/payment-outbox-stack';
import { newTestApp, resourcesOfType } from '../support/cdk-stack';

const ARN = 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:toss-sk-AbC123';

describe('the app payment gateway (bin/app-payment-gateway.ts)', () => {
  it('is the sandbox without context', () => {
    expect(paymentGatewaySettings(newTestApp())).toEqual({ paymentGateway: 'sandbox' });
  });

  it('reads the context keys paymentGateway, tossSecretKeyArn and tossApiBaseUrl', () => {
    expect([PAYMENT_GATEWAY_CONTEXT, TOSS_SECRET_KEY_ARN_CONTEXT, TOSS_API_BASE_URL_CONTEXT]).toEqual(['paymentGateway', 'tossSecretKeyArn', 'tossApiBaseUrl']);
  });

  it('is Toss with -c paymentGateway=toss, with no Toss setting of its own (a created secret, the Toss API)', () => {
    expect(paymentGatewaySettings(newTestApp({ paymentGateway: 'toss' }))).toEqual({ paymentGateway: 'toss', toss: {} });
  });

  it('passes -c tossSecretKeyArn and -c tossApiBaseUrl to the Toss settings', () => {
    const app = newTestApp({ paymentGateway: 'toss', tossSecretKeyArn: ARN, tossApiBaseUrl: 'https://toss.example.com' });
    expect(paymentGatewaySettings(app)).toEqual({ paymentGateway: 'toss', toss: { secretKeyArn: ARN, apiBaseUrl: 'https://toss.example.com' } });
  });

  it('treats an empty value as absent', () => {
    expect(paymentGatewaySettings(newTestApp({ paymentGateway: '', tossSecretKeyArn: '' }))).toEqual({ paymentGateway: 'sandbox' });
  });

  it('fails synthesis on a payment gateway it does not know, naming the known ones', () => {
    expect(() => paymentGatewaySettings(newTestApp({ paymentGateway: 'Toss' }))).toThrow(
      '-c paymentGateway=Toss is not a payment gateway of this app (known: sandbox, toss)',
    );
  });

  it('fails synthesis when a Toss setting is given without -c paymentGateway=toss', () => {
    expect(() => paymentGatewaySettings(newTestApp({ tossSecretKeyArn: ARN }))).toThrow(
      '-c tossSecretKeyArn applies only to Toss Payments: add -c paymentGateway=toss (the payment gateway is sandbox)',
    );
    expect(() => paymentGatewaySettings(newTestApp({ tossSecretKeyArn: ARN, tossApiBaseUrl: 'https://toss.example.com' }))).toThrow(
      '-c tossSecretKeyArn and -c tossApiBaseUrl apply only to Toss Payments',
    );
  });

  it('fails synthesis on a context value that is not a string (from cdk.json)', () => {
    expect(() => paymentGatewaySettings(newTestApp({ paymentGateway: { kind: 'toss' } }))).toThrow('-c paymentGateway must be a string (got {"kind":"toss"})');
  });

  it('builds the stack bin/payment-outbox.ts builds from them: Toss with the imported key', () => {
    // GIVEN the context of `cdk synth -c paymentGateway=toss -c tossSecretKeyArn=...`
    const app = newTestApp({ paymentGateway: 'toss', tossSecretKeyArn: ARN });
    // WHEN
    const stack = new PaymentOutboxStack(app, 'AppStack', { subscribers: appSubscribers(), ...paymentGatewaySettings(app) });
    // THEN
    const template = Template.fromStack(stack);
    template.hasOutput('PaymentGateway', { Value: 'toss' });
    template.hasOutput('TossSecretKeyArn', { Value: ARN });
    expect(resourcesOfType(template, 'AWS::DynamoDB::Table').SandboxPgLedgerTable).toBeUndefined();
  });

  it('lets an invalid value fail in the stack, naming the construct (e.g. an http URL off localhost)', () => {
    const app = newTestApp({ paymentGateway: 'toss', tossApiBaseUrl: 'http://toss.example.com' });
    expect(() => new PaymentOutboxStack(app, 'AppStack', paymentGatewaySettings(app))).toThrow(
      'AppStack/TossPaymentGateway: apiBaseUrl must be an https:// URL',
    );
  });
});
