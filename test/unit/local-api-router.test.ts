/** How the local API Gateway matches a request to a route (local/api/router.ts), on hand-written routes. */
import { describe, expect, it } from 'vitest';
import { Router } from '../../local/api/router';
import type { RouteSpec } from '../../local/template/resolve';

describe('API routing', () => {
  const route = (httpMethod: string, path: string): RouteSpec => ({ methodLogicalId: `${httpMethod}${path}`, httpMethod, path, authorizationType: 'NONE', functionLogicalId: 'Fn' });
  const router = new Router([
    route('GET', '/payments/{paymentId}'),
    route('GET', '/payments/search'),
    route('POST', '/payments/{paymentId}/confirm'),
    route('ANY', '/files/{proxy+}'),
  ]);

  it('prefers a literal segment over a parameter, decodes parameters and supports greedy paths', () => {
    expect(router.match('GET', '/payments/search')).toMatchObject({ kind: 'match', match: { route: { path: '/payments/search' }, pathParameters: {} } });
    expect(router.match('GET', '/payments/p%201')).toMatchObject({ kind: 'match', match: { pathParameters: { paymentId: 'p 1' } } });
    expect(router.match('PUT', '/files/a/b.txt')).toMatchObject({ kind: 'match', match: { pathParameters: { proxy: 'a/b.txt' } } });
  });

  it('tells an unknown path from a known path with another method', () => {
    expect(router.match('GET', '/nothing')).toEqual({ kind: 'not-found' });
    expect(router.match('DELETE', '/payments/p1')).toEqual({ kind: 'method-not-allowed', allowed: ['GET'] });
    expect(router.match('GET', '/payments/p1/confirm')).toEqual({ kind: 'method-not-allowed', allowed: ['POST'] });
  });
});
