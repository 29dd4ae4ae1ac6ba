/**
 * Which payment gateway the app's stack calls, from context:
 *
 * ```sh
 * cdk deploy                                        # the sandbox PG (default)
 * cdk deploy -c paymentGateway=toss                 # Toss Payments, with a new secret for the key (put it after deploying)
 * cdk deploy -c paymentGateway=toss -c tossSecretKeyArn=arn:aws:secretsmanager:...:secret:toss-sk-AbCdEf
 * cdk deploy -c paymentGateway=toss -c tossApiBaseUrl=https://...   # another Toss-compatible API
 * ```
 *
 * Side-effect free (bin/payment-outbox.ts synthesizes), so tests can import it. The values themselves
 * (ARN shape, URL) are validated by the stack's TossPaymentGateway.
 */
import type { App } from 'aws-cdk-lib';
import { DEFAULT_PAYMENT_GATEWAY, isPaymentGatewayKind, PAYMENT_GATEWAY_KINDS } from '../lib/constructs/payment-gateway';
import type { PaymentOutboxStackProps } from '../lib/payment-outbox-stack';

/** Context key of the payment gateway: `-c paymentGateway=toss`. */
export const PAYMENT_GATEWAY_CONTEXT = 'paymentGateway';

/** Context key of an existing secret holding the Toss secret key: `-c tossSecretKeyArn=arn:...`. */
export const TOSS_SECRET_KEY_ARN_CONTEXT = 'tossSecretKeyArn';

/** Context key of the Toss API base URL: `-c tossApiBaseUrl=https://...`. */
export const TOSS_API_BASE_URL_CONTEXT = 'tossApiBaseUrl';

/** The stack props that choose and configure the payment gateway. */
export type PaymentGatewaySettings = Pick<PaymentOutboxStackProps, 'paymentGateway' | 'toss'>;

/**
 * The payment gateway settings from the app's context: `paymentGateway` (default `sandbox`) and, on Toss,
 * `tossSecretKeyArn` and `tossApiBaseUrl` (both optional).
 *
 * @throws Error naming the context key when `paymentGateway` is not a known PG, a value is not a string, or a
 *   Toss key is given while the PG is not Toss
 */
export function paymentGatewaySettings(app: App): PaymentGatewaySettings {
  const kind = stringContext(app, PAYMENT_GATEWAY_CONTEXT) ?? DEFAULT_PAYMENT_GATEWAY;
  if (!isPaymentGatewayKind(kind)) {
    throw new Error(`-c ${PAYMENT_GATEWAY_CONTEXT}=${kind} is not a payment gateway of this app (known: ${PAYMENT_GATEWAY_KINDS.join(', ')})`);
  }
  const secretKeyArn = stringContext(app, TOSS_SECRET_KEY_ARN_CONTEXT);
  const apiBaseUrl = stringContext(app, TOSS_API_BASE_URL_CONTEXT);
  if (kind !== 'toss') {
    const given = [
      ...(secretKeyArn !== undefined ? [TOSS_SECRET_KEY_ARN_CONTEXT] : []),
      ...(apiBaseUrl !== undefined ? [TOSS_API_BASE_URL_CONTEXT] : []),
    ];
    if (given.length > 0) {
      throw new Error(
        `-c ${given.join(' and -c ')} ${given.length === 1 ? 'applies' : 'apply'} only to Toss Payments: ` +
          `add -c ${PAYMENT_GATEWAY_CONTEXT}=toss (the payment gateway is ${kind})`,
      );
    }
    return { paymentGateway: kind };
  }
  return {
    paymentGateway: kind,
    toss: {
      ...(secretKeyArn !== undefined && { secretKeyArn }),
      ...(apiBaseUrl !== undefined && { apiBaseUrl }),
    },
  };
}

/** A context value as a string, or undefined when absent or empty. */
function stringContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`-c ${key} must be a string (got ${JSON.stringify(value)})`);
  return value.trim() === '' ? undefined : value.trim();
}
