/**
 * Plays API Gateway (REST API, Lambda proxy integration) on a local port: routes from the
 * template's resources and methods, v1 proxy events, the handler's status, headers and body
 * returned as they are. Like API Gateway: a handler that throws, times out or returns a
 * malformed result gives 502 `{"message": "Internal server error"}`, and bodies above 10 MB
 * are refused (here with 413 PAYLOAD_TOO_LARGE in the API's error format).
 * IAM authorization is not checked locally (requests need no SigV4 signature).
 */
import { requestTraceContext } from '../../lambdas/domain/trace-context';
import { randomTraceIds } from '../../lambdas/platform/trace-scope';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { LocalStartupError } from '../errors';
import { describeError, type LocalLogger } from '../log';
import type { LocalFunction } from '../runtime/local-function';
import type { RouteSpec } from '../template/resolve';
import { buildProxyEvent } from './proxy-event';
import { Router } from './router';

/** API Gateway REST APIs accept payloads up to 10 MB. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface ApiServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default all interfaces */
  readonly host?: string;
  readonly routes: readonly RouteSpec[];
  /** Functions by logical id. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly stage: string;
  readonly log: LocalLogger;
  /** @default API_GATEWAY_MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

type BodyResult = { ok: true; body: Buffer } | { ok: false };

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve({ ok: false });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        resolve({ ok: false });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!settled) {
        settled = true;
        resolve({ ok: true, body: Buffer.concat(chunks) });
      }
    });
    req.on('error', (error) => {
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
  });
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  return typeof value === 'object' && value !== null && typeof (value as { statusCode?: unknown }).statusCode === 'number';
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const router = new Router(options.routes);
  const limit = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  const apiId = 'local';
  const { log } = options;

  const traceIds = new WeakMap<IncomingMessage, string>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const send = (status: number, body: string | Buffer, headers: Record<string, string | string[]> = {}) => {
      res.writeHead(status, { 'x-amzn-RequestId': requestId, ...headers });
      res.end(body);
      return status;
    };
    const json = { 'Content-Type': 'application/json' };

    const result = router.match(method, url.pathname);
    if (result.kind === 'not-found') {
      req.resume();
      return send(404, errorBody('ROUTE_NOT_FOUND', `No route for ${method} ${url.pathname}`), json);
    }
    if (result.kind === 'method-not-allowed') {
      req.resume();
      return send(405, errorBody('METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`), { ...json, Allow: result.allowed.join(', ') });
    }
    const { route } = result.match;
    const body = await readBody(req, limit);
    if (!body.ok) {
      // Stop reading a huge upload: answer and close the connection.
      return send(413, errorBody('PAYLOAD_TOO_LARGE', `The request body exceeds ${limit} bytes`), { ...json, Connection: 'close' });
    }
    if (route.mock) return send(route.mock.statusCode, '', route.mock.headers);

    const fn = route.functionLogicalId ? options.functions.get(route.functionLogicalId) : undefined;
    if (!fn) return send(502, JSON.stringify({ message: 'Internal server error' }), json);
    const event = buildProxyEvent(req, url, result.match, { stage: options.stage, apiId, body: body.body, requestId });
    // The trace id the handler logs and stores with the change's events (the same reading of the same headers).
    traceIds.set(req, requestTraceContext(event.headers, randomTraceIds).traceId);
    let output: unknown;
    try {
      output = await fn.invoke(event);
    } catch (error) {
      log.error(`${method} ${url.pathname}: ${fn.spec.shortName} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return send(502, JSON.stringify({ message: 'Internal server error' }), json);
    }
    if (!isProxyResult(output)) {
      log.error(`${method} ${url.pathname}: ${fn.spec.shortName} returned a malformed proxy result: ${JSON.stringify(output)?.slice(0, 200)}`);
      return send(502, JSON.stringify({ message: 'Internal server error' }), json);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(output.headers ?? {})) headers[name] = String(value);
    for (const [name, values] of Object.entries(output.multiValueHeaders ?? {})) headers[name] = values.map(String);
    const payload = output.isBase64Encoded ? Buffer.from(output.body ?? '', 'base64') : (output.body ?? '');
    return send(output.statusCode, payload, headers);
  };

  const server: Server = createServer((req, res) => {
    const started = Date.now();
    handle(req, res)
      .then((status) => {
        const traceId = traceIds.get(req);
        log.info(`${req.method} ${req.url} ${status} ${Date.now() - started} ms${traceId === undefined ? '' : ` trace=${traceId}`}`);
      })
      .catch((error: unknown) => {
        log.error(`${req.method} ${req.url}: ${describeError(error)}`);
        if (!res.headersSent) {
          res.writeHead(502, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: 'Internal server error' }));
        } else res.destroy();
      });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new LocalStartupError(`port ${options.port} (API) is already in use by another process; stop it or set PORT to another port`)
          : error,
      );
    });
    server.listen({ port: options.port, ...(options.host && { host: options.host }) }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
