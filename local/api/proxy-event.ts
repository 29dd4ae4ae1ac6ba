/** Builds API Gateway REST (v1) Lambda proxy events from Node HTTP requests. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from '../template/intrinsics';
import type { RouteMatch } from './router';

export interface ProxyEventContext {
  readonly stage: string;
  readonly apiId: string;
  readonly body: Buffer;
  readonly requestId?: string;
  readonly now?: Date;
}

/** Headers with the caller's spelling (API Gateway keeps it), single- and multi-value. */
function readHeaders(req: IncomingMessage): { headers: Record<string, string>; multi: Record<string, string[]> } {
  const headers: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const existing = Object.keys(multi).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    (multi[existing] ??= []).push(value);
    // Like API Gateway: the single-value map holds the last value of a repeated header.
    headers[existing] = value;
  }
  return { headers, multi };
}

function readQuery(url: URL): { single: Record<string, string> | null; multi: Record<string, string[]> | null } {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    (multi[key] ??= []).push(value);
    single[key] = value;
  }
  return Object.keys(single).length === 0 ? { single: null, multi: null } : { single, multi };
}

function requestTime(now: Date): string {
  // e.g. 09/Apr/2015:12:34:56 +0000
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(now.getUTCDate())}/${months[now.getUTCMonth()]}/${now.getUTCFullYear()}:${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())} +0000`;
}

/** `Root=1-<epoch seconds, 8 hex>-<24 hex>;Sampled=1`: the X-Ray header API Gateway adds when tracing is active. */
export function newXRayTraceHeader(now: Date): string {
  const epoch = Math.floor(now.getTime() / 1000).toString(16).padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Sampled=1`;
}

export function buildProxyEvent(req: IncomingMessage, url: URL, match: RouteMatch, ctx: ProxyEventContext): APIGatewayProxyEvent {
  const { headers, multi } = readHeaders(req);
  // The stage has X-Ray tracing on: API Gateway passes the caller's X-Amzn-Trace-Id on, or starts a trace.
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'x-amzn-trace-id')) {
    const header = newXRayTraceHeader(ctx.now ?? new Date());
    headers['X-Amzn-Trace-Id'] = header;
    multi['X-Amzn-Trace-Id'] = [header];
  }
  const query = readQuery(url);
  const now = ctx.now ?? new Date();
  const method = (req.method ?? 'GET').toUpperCase();
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const host = req.headers.host ?? 'localhost';
  const hasParams = Object.keys(match.pathParameters).length > 0;
  return {
    resource: match.route.path,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders: multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: hasParams ? match.pathParameters : null,
    stageVariables: null,
    body: ctx.body.length === 0 ? null : ctx.body.toString('utf8'),
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: ctx.apiId,
      authorizer: null,
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      extendedRequestId: randomUUID(),
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${ctx.stage}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: ctx.requestId ?? randomUUID(),
      requestTime: requestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: match.route.methodLogicalId,
      resourcePath: match.route.path,
      stage: ctx.stage,
    },
  };
}
