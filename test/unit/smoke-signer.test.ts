import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../../tools/smoke/api-client';
import { createSigV4Signer } from '../../tools/smoke/signer';

/** The credentials and time of AWS's SigV4 test suite (made up by AWS for it). */
const SUITE_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_TIME = new Date('2015-08-30T12:36:00Z');

describe('createSigV4Signer', () => {
  it.each([
    ['GET', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['POST', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
  ])("signs the test suite's %s-vanilla request with its published signature", async (method, signature) => {
    const sign = createSigV4Signer({ credentials: SUITE_CREDENTIALS, region: 'us-east-1', service: 'service', clock: () => SUITE_TIME });

    const headers = await sign({ method, url: new URL('https://example.amazonaws.com/'), headers: {} });

    expect(headers).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    });
  });

  it('signs an execute-api POST with a body and a session token as SigV4 defines it', async () => {
    const credentials = { accessKeyId: 'AKIDSMOKEEXAMPLE', secretAccessKey: 'smoke/secret/EXAMPLEKEY', sessionToken: 'session-token-example' };
    const sign = createSigV4Signer({ credentials, region: 'ap-northeast-2', clock: () => new Date('2026-03-02T01:00:30.123Z') });
    const body = '{"orderId":"smoke-1","amount":1000,"currency":"KRW","method":"CARD"}';
    const url = new URL('https://abc123.execute-api.ap-northeast-2.amazonaws.com/prod/payments');

    const headers = await sign({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body });

    expect(headers['x-amz-date']).toBe('20260302T010030Z');
    expect(headers['x-amz-security-token']).toBe('session-token-example');
    expect(headers.host).toBeUndefined();
    expect(headers.authorization).toBe(
      referenceAuthorization({
        ...credentials,
        region: 'ap-northeast-2',
        service: 'execute-api',
        amzDate: '20260302T010030Z',
        method: 'POST',
        path: '/prod/payments',
        headers: {
          'content-type': 'application/json',
          host: url.host,
          'x-amz-date': '20260302T010030Z',
          'x-amz-security-token': 'session-token-example',
        },
        body,
      }),
    );
  });

  it('takes credentials from a provider (the SDK chain) at signing time', async () => {
    const provider = vi.fn(async () => SUITE_CREDENTIALS);
    const sign = createSigV4Signer({ credentials: provider, region: 'us-east-1', service: 'service', clock: () => SUITE_TIME });

    const headers = await sign({ method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} });

    expect(provider).toHaveBeenCalled();
    expect(headers.authorization).toContain('Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
});

describe('createApiClient', () => {
  it('sends the signed headers and the exact body that was signed', async () => {
    const fetchMock = vi.fn(async () => new Response('{"paymentId":"p1"}', { status: 201 }));
    const sign = createSigV4Signer({ credentials: SUITE_CREDENTIALS, region: 'us-east-1', clock: () => SUITE_TIME });
    const api = createApiClient('https://abc.execute-api.us-east-1.amazonaws.com/prod', { signer: sign, fetch: fetchMock as unknown as typeof fetch });

    const answer = await api('POST', '/payments', { orderId: 'o' });

    expect(answer).toEqual({ status: 201, text: '{"paymentId":"p1"}', body: { paymentId: 'p1' } });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [URL, RequestInit];
    expect(url.href).toBe('https://abc.execute-api.us-east-1.amazonaws.com/prod/payments');
    expect(init.body).toBe('{"orderId":"o"}');
    const headers = init.headers as Record<string, string>;
    expect(headers.authorization).toBe(
      referenceAuthorization({
        ...SUITE_CREDENTIALS,
        region: 'us-east-1',
        service: 'execute-api',
        amzDate: '20150830T123600Z',
        method: 'POST',
        path: '/prod/payments',
        headers: { accept: 'application/json', 'content-type': 'application/json', host: url.host, 'x-amz-date': '20150830T123600Z' },
        body: '{"orderId":"o"}',
      }),
    );
  });

  it('names the request and the cause when the API cannot be reached', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const api = createApiClient('http://127.0.0.1:9', { fetch: (async () => Promise.reject(refused)) as unknown as typeof fetch });

    await expect(api('GET', '/payments/p1')).rejects.toThrow('GET http://127.0.0.1:9/payments/p1: fetch failed (ECONNREFUSED)');
  });
});

/**
 * SigV4 written out from its definition (canonical request → string to sign → derived key), for
 * requests without a query and with plain path segments: an independent check of the signer.
 */
function referenceAuthorization(input: {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
  amzDate: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}): string {
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
  const names = Object.keys(input.headers).map((n) => n.toLowerCase()).sort();
  const signedHeaders = names.join(';');
  const canonical = [
    input.method,
    input.path,
    '',
    ...names.map((n) => `${n}:${input.headers[n]!.trim()}`),
    '',
    signedHeaders,
    sha256(input.body),
  ].join('\n');
  const day = input.amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', input.amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${input.secretAccessKey}`, day), input.region), input.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}
