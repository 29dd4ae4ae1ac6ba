import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpWebhookClient, WEBHOOK_USER_AGENT } from '../../lambdas/adapters/http-webhook-client';

type Route = (request: IncomingMessage, body: string, response: ServerResponse) => void;

const servers: Server[] = [];

async function serve(route: Route): Promise<string> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => route(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const client = new HttpWebhookClient();
const post = (url: string, timeoutMs = 2000) =>
  client.post({ url, body: '{"eventId":"e1"}', headers: { 'Content-Type': 'application/json', 'X-Event-Id': 'e1' }, timeoutMs });

describe('HttpWebhookClient', () => {
  it('POSTs the body and headers, with its user agent, and returns the status and a body excerpt', async () => {
    let seen: { method?: string; body?: string; headers?: IncomingMessage['headers'] } = {};
    const url = await serve((request, body, response) => {
      seen = { method: request.method, body, headers: request.headers };
      response.writeHead(202).end('accepted\n');
    });

    const result = await post(url);

    expect(result).toEqual({ kind: 'response', status: 202, bodyExcerpt: 'accepted' });
    expect(seen.method).toBe('POST');
    expect(seen.body).toBe('{"eventId":"e1"}');
    expect(seen.headers?.['x-event-id']).toBe('e1');
    expect(seen.headers?.['content-type']).toBe('application/json');
    expect(seen.headers?.['user-agent']).toBe(WEBHOOK_USER_AGENT);
  });

  it('returns Retry-After as sent', async () => {
    const url = await serve((_request, _body, response) => response.writeHead(503, { 'Retry-After': '17' }).end());

    expect(await post(url)).toEqual({ kind: 'response', status: 503, retryAfter: '17' });
  });

  it('keeps only the start of a long body, on one line', async () => {
    const url = await serve((_request, _body, response) => response.writeHead(400).end(`bad\n\n${'x'.repeat(10_000)}`));

    const result = await post(url);

    expect(result.kind === 'response' && result.bodyExcerpt).toBe(`bad ${'x'.repeat(196)}…`);
  });

  it('reports a timeout when no answer comes within the deadline', async () => {
    const url = await serve(() => undefined);

    const started = Date.now();
    const result = await post(url, 300);

    expect(result).toEqual({ kind: 'timeout', timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps the status when the body is still streaming at the deadline', async () => {
    const url = await serve((_request, _body, response) => {
      response.writeHead(200);
      response.write('partial');
    });

    expect(await post(url, 300)).toEqual({ kind: 'response', status: 200, bodyExcerpt: 'partial' });
  });

  it('reports a refused connection as a connection error with its code', async () => {
    const url = await serve(() => undefined);
    const server = servers.pop();
    await new Promise((resolve) => server?.close(resolve));

    const result = await post(url);

    expect(result.kind).toBe('network-error');
    expect(result.kind === 'network-error' && result.message).toMatch(/ECONNREFUSED/);
  });

  it('reports a connection reset as a connection error', async () => {
    const url = await serve((request) => request.socket.destroy());

    const result = await post(url);

    expect(result.kind).toBe('network-error');
  });

  it('does not follow a redirect: the 3xx is the result', async () => {
    let hits = 0;
    const url = await serve((_request, _body, response) => {
      hits += 1;
      response.writeHead(302, { Location: '/elsewhere' }).end();
    });

    expect(await post(url)).toMatchObject({ kind: 'response', status: 302 });
    expect(hits).toBe(1);
  });
});
