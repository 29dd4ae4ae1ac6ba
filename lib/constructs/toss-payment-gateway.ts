import { RemovalPolicy, SecretValue, Token, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/platform/env-names';
import {
  DEFAULT_TOSS_API_BASE_URL,
  DEFAULT_TOSS_VIRTUAL_ACCOUNT_BANK,
  DEFAULT_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS,
  TOSS_SECRET_KEY_PLACEHOLDER,
} from '../../lambdas/platform/payment-gateways';
import type { IPaymentGateway, PgAccess } from './payment-gateway';
import type { PaymentFunction } from './payment-function';
import { validateIntegerInRange } from './validation';

export { DEFAULT_TOSS_API_BASE_URL, DEFAULT_TOSS_VIRTUAL_ACCOUNT_BANK, DEFAULT_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS, TOSS_SECRET_KEY_PLACEHOLDER };

/** Longest validity of a virtual account this stack accepts: 30 days. */
export const MAX_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS = 720;

/** What a stack on Toss is: the `PaymentGateway` output's description. */
export const TOSS_PG_NOTICE =
  'The payment gateway is Toss Payments: the payment functions authenticate with the secret key held by the secret ' +
  'TossSecretKeyArn names (put test_sk_... or live_sk_... there), and Toss must send deposit callbacks to ' +
  "TossDepositCallbackUrl (register it as the webhook URL in Toss's developer center).";

/** Hosts an `http://` API base URL may name: a local stand-in for Toss, never a deployed one. */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

/**
 * A complete Secrets Manager secret ARN: the name ends in the `-` and 6 characters Secrets Manager adds.
 * A partial ARN (no suffix) would be granted as written and match no secret.
 */
const COMPLETE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/** A bank code or name as Toss takes it (`20`, `WOORI`): letters, digits and `_`, at most 20. */
const BANK = /^[A-Za-z0-9_]{1,20}$/;

/** Props of {@link TossPaymentGateway}. */
export interface TossPaymentGatewayProps {
  /**
   * Complete ARN of an existing Secrets Manager secret holding the Toss secret key (its value is the key
   * itself, `test_sk_...` or `live_sk_...`), e.g. `arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:toss-sk-AbCdEf`.
   * It is imported, not created; the functions are granted `GetSecretValue` + `DescribeSecret` on it. A secret
   * encrypted with a customer managed KMS key also needs `kms:Decrypt` for them, which is not granted here.
   *
   * @default - a new secret holding {@link TOSS_SECRET_KEY_PLACEHOLDER}: put the key into it after the first deployment
   */
  readonly secretKeyArn?: string;

  /**
   * Base URL of the Toss Payments API (`TOSS_API_BASE_URL`): an `https://` URL without query or fragment,
   * or `http://` on `localhost` / `127.0.0.1` (a local stand-in). Trailing slashes are dropped.
   *
   * @default 'https://api.tosspayments.com'
   */
  readonly apiBaseUrl?: string;

  /**
   * The bank virtual accounts are issued at (`TOSS_VIRTUAL_ACCOUNT_BANK`), as Toss takes it: a bank code
   * such as `20` (Woori Bank) or `88` (Shinhan Bank); letters, digits and `_`, at most 20.
   *
   * @default '20'
   */
  readonly virtualAccountBank?: string;

  /**
   * Hours a virtual account accepts its deposit (`TOSS_VIRTUAL_ACCOUNT_VALID_HOURS`), an integer between 1 and 720.
   *
   * @default 72
   */
  readonly virtualAccountValidHours?: number;

  /**
   * Removal policy of the secret this construct creates (none when `secretKeyArn` is given).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Toss Payments' AWS side: the Secrets Manager secret holding the Toss secret key (created with a
 * placeholder, or imported by ARN) and the API settings. Toss itself runs the payments; the adapter in
 * lambdas/adapters/toss calls it from the functions {@link bind} gives `PAYMENT_GATEWAY=toss`,
 * `TOSS_API_BASE_URL`, `TOSS_SECRET_KEY_ARN` (with read access to the secret), `TOSS_VIRTUAL_ACCOUNT_BANK`
 * and `TOSS_VIRTUAL_ACCOUNT_VALID_HOURS`. `TOSS_TIMEOUT_MS` is left to the handlers' default.
 *
 * After the first deployment of a created secret, put the key:
 * `aws secretsmanager put-secret-value --secret-id <TossSecretKeyArn> --secret-string test_sk_...`.
 */
export class TossPaymentGateway extends Construct implements IPaymentGateway {
  /** Always `toss`. */
  public readonly kind = 'toss' as const;
  /** The secret holding the Toss secret key (`TOSS_SECRET_KEY_ARN`), created or imported. */
  public readonly secretKey: secretsmanager.ISecret;
  /** The secret this construct created, when no `secretKeyArn` was given. */
  public readonly createdSecretKey: secretsmanager.Secret | undefined;
  /** Validated API base URL, without trailing slashes (`TOSS_API_BASE_URL`). */
  public readonly apiBaseUrl: string;
  /** Validated virtual account bank (`TOSS_VIRTUAL_ACCOUNT_BANK`). */
  public readonly virtualAccountBank: string;
  /** Validated virtual account validity in hours (`TOSS_VIRTUAL_ACCOUNT_VALID_HOURS`). */
  public readonly virtualAccountValidHours: number;

  constructor(scope: Construct, id: string, props: TossPaymentGatewayProps = {}) {
    super(scope, id);

    this.apiBaseUrl = validateApiBaseUrl(this, props.apiBaseUrl ?? DEFAULT_TOSS_API_BASE_URL);
    this.virtualAccountBank = props.virtualAccountBank ?? DEFAULT_TOSS_VIRTUAL_ACCOUNT_BANK;
    if (!Token.isUnresolved(this.virtualAccountBank) && !BANK.test(this.virtualAccountBank)) {
      throw new Error(
        `${this.node.path}: virtualAccountBank must be a Toss bank code such as 20 (letters, digits and _, at most 20) (got ${JSON.stringify(this.virtualAccountBank)})`,
      );
    }
    this.virtualAccountValidHours = props.virtualAccountValidHours ?? DEFAULT_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS;
    validateIntegerInRange(this, 'virtualAccountValidHours', this.virtualAccountValidHours, 1, MAX_TOSS_VIRTUAL_ACCOUNT_VALID_HOURS);

    if (props.secretKeyArn !== undefined) {
      if (!Token.isUnresolved(props.secretKeyArn) && !COMPLETE_SECRET_ARN.test(props.secretKeyArn)) {
        throw new Error(
          `${this.node.path}: secretKeyArn must be the complete ARN of a Secrets Manager secret, ending in the 6 characters ` +
            `Secrets Manager adds to its name (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf) (got ${props.secretKeyArn})`,
        );
      }
      this.secretKey = secretsmanager.Secret.fromSecretCompleteArn(this, 'SecretKey', props.secretKeyArn);
      this.createdSecretKey = undefined;
    } else {
      const secret = new secretsmanager.Secret(this, 'SecretKey', {
        description:
          'Toss Payments secret key (test_sk_... or live_sk_...) the payment functions authenticate to Toss with. Created with a ' +
          'placeholder: aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string <test_sk_... or live_sk_...>',
        // A fixed placeholder, never regenerated: see TOSS_SECRET_KEY_PLACEHOLDER.
        secretStringValue: SecretValue.unsafePlainText(TOSS_SECRET_KEY_PLACEHOLDER),
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          "A PG secret key is issued and rotated in Toss's developer center, not by a rotation Lambda: rotating it means " +
          're-issuing the key there and putting the new one into this secret with put-secret-value.',
      });
      this.secretKey = secret;
      this.createdSecretKey = secret;
    }
  }

  /**
   * Sets `PAYMENT_GATEWAY=toss`, `TOSS_API_BASE_URL`, `TOSS_SECRET_KEY_ARN` (granting `GetSecretValue` and
   * `DescribeSecret` on the secret), `TOSS_VIRTUAL_ACCOUNT_BANK` and `TOSS_VIRTUAL_ACCOUNT_VALID_HOURS`.
   * The same for both kinds of access: Toss has one key for calls and lookups.
   */
  public bind(fn: PaymentFunction, _access: PgAccess): void {
    fn.bindEnvironment(ENV.paymentGateway, this.kind);
    fn.bindEnvironment(ENV.tossApiBaseUrl, this.apiBaseUrl);
    fn.bindSecret(ENV.tossSecretKeyArn, this.secretKey);
    fn.bindEnvironment(ENV.tossVirtualAccountBank, this.virtualAccountBank);
    fn.bindEnvironment(ENV.tossVirtualAccountValidHours, String(this.virtualAccountValidHours));
  }
}

function validateApiBaseUrl(scope: Construct, value: string): string {
  if (Token.isUnresolved(value)) return value;
  const problem = (() => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return 'is not a URL';
    }
    if (url.protocol === 'http:' && !LOCAL_HOSTS.has(url.hostname)) return 'uses http:// on a host other than localhost or 127.0.0.1';
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `uses ${url.protocol}//`;
    if (url.username !== '' || url.password !== '') return 'carries credentials';
    if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) return 'has a query or fragment';
    return undefined;
  })();
  if (problem !== undefined) {
    throw new Error(
      `${scope.node.path}: apiBaseUrl must be an https:// URL (or http:// on localhost or 127.0.0.1) without query or fragment; ` +
        `${JSON.stringify(value)} ${problem}`,
    );
  }
  return value.replace(/\/+$/, '');
}
