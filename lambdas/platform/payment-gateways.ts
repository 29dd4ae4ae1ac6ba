/**
 * The payment gateways a stack can run on and their defaults: one definition for the stack (lib/),
 * which sets `PAYMENT_GATEWAY` and the Toss variables, and for the handlers, which read them.
 */

/** `sandbox`: the stand-in PG with its ledger table; `toss`: Toss Payments. */
export const PAYMENT_GATEWAY_KINDS = ['sandbox', 'toss'] as const;
export type PaymentGatewayKind = (typeof PAYMENT_GATEWAY_KINDS)[number];

/** The PG of a stack (and a function) given none. */
export const DEFAULT_PAYMENT_GATEWAY: PaymentGatewayKind = 'sandbox';

/** Whether `value` names a payment gateway. */
export function isPaymentGatewayKind(value: unknown): value is PaymentGatewayKind {
  return typeof value === 'string' && (PAYMENT_GATEWAY_KINDS as readonly string[]).includes(value);
}

export const DEFAULT_TOSS_API_BASE_URL = 'https://api.tosspayments.com';
/** Under the API functions' 10 s timeout, so a slow Toss answers 503 instead of a killed function. */
export const DEFAULT_TOSS_TIMEOUT_MS = 7_000;
/** Woori Bank's code (https://docs.tosspayments.com/codes/org-codes). */
export const DEFAULT_TOSS_VIRTUAL_ACCOUNT_BANK = '20';
export const DEFAULT_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS = 72;

/**
 * What the secret the stack creates for the Toss secret key holds until the key is put in it. The
 * handlers refuse to send it to Toss (a misconfiguration, alarmed); CloudFormation rewrites the
 * secret only when this text changes, so changing it would overwrite a key already put.
 */
export const TOSS_SECRET_KEY_PLACEHOLDER =
  'REPLACE_ME: put the Toss Payments secret key (test_sk_... or live_sk_...) with aws secretsmanager put-secret-value';

/** The log field (`true`) of every line saying the PG refused this service's own request; the PgMisconfigured alarm counts them. */
export const PG_MISCONFIGURED_LOG_FIELD = 'pgMisconfigured';
