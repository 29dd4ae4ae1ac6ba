/**
 * How an SDK client of ours is configured: on Lambda from the environment only (no options: the
 * SDK reads AWS_REGION and the credentials); the local runner, chaos, bench and tests pass explicit
 * region, credentials and emulator endpoints.
 *
 * No SDK import here: each client module (dynamodb.ts, sqs.ts, sns.ts) imports only its own
 * service, so a Lambda bundle carries the services its entry builds and no other.
 */
export interface AwsClientOptions {
  /** @default the SDK's (AWS_REGION) */
  readonly region?: string;
  /** @default the SDK's credential chain */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Service endpoints (emulators). @default AWS's */
  readonly endpoints?: { readonly dynamodb?: string; readonly sqs?: string; readonly sns?: string };
}

/** The part of a client's configuration every service shares: region and credentials, when given. */
export function commonClientConfig(options: AwsClientOptions): { region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } {
  return {
    ...(options.region !== undefined && { region: options.region }),
    ...(options.credentials !== undefined && { credentials: { ...options.credentials } }),
  };
}
