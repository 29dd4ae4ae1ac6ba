/**
 * SigV4 for the API's IAM routes (service `execute-api`): the SDK's own signer
 * (`@smithy/signature-v4`) over the caller's credentials. Returns the headers to send; `host` is
 * signed but not returned, since fetch derives it from the URL (the same value).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** API Gateway's signing name. */
export const EXECUTE_API_SERVICE = 'execute-api';

/** A request as the API client sends it. */
export interface UnsignedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Returns the request's headers plus the signature's (`authorization`, `x-amz-date`, `x-amz-security-token`). */
export type RequestSigner = (request: UnsignedRequest) => Promise<Record<string, string>>;

export type SignerCredentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

export interface SigV4SignerOptions {
  /** Static credentials or a provider (the SDK's default chain). */
  readonly credentials: SignerCredentials;
  readonly region: string;
  /** @default 'execute-api' */
  readonly service?: string;
  /** The signing time; tests fix it. @default now */
  readonly clock?: () => Date;
}

export function createSigV4Signer(options: SigV4SignerOptions): RequestSigner {
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: options.service ?? EXECUTE_API_SERVICE,
    sha256: Sha256,
    // API Gateway needs no x-amz-content-sha256 header; the payload hash is signed all the same.
    applyChecksum: false,
  });
  const clock = options.clock ?? (() => new Date());
  return async (request) => {
    const { url } = request;
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port !== '' && { port: Number(url.port) }),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...request.headers, host: url.host },
        ...(request.body !== undefined && { body: request.body }),
      },
      { signingDate: clock() },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      if (name.toLowerCase() !== 'host') headers[name] = value;
    }
    return headers;
  };
}
