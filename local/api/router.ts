/** Matches a request path against the template's API resource paths, as API Gateway does. */
import type { RouteSpec } from '../template/resolve';

export interface RouteMatch {
  readonly route: RouteSpec;
  readonly pathParameters: Record<string, string>;
}

export type MatchResult =
  | { readonly kind: 'match'; readonly match: RouteMatch }
  | { readonly kind: 'method-not-allowed'; readonly allowed: string[] }
  | { readonly kind: 'not-found' };

interface CompiledRoute {
  readonly route: RouteSpec;
  readonly segments: string[];
  /** Literal segments count more than parameters: `/payments/search` beats `/payments/{id}`. */
  readonly score: number;
}

const splitPath = (path: string): string[] => path.split('/').filter((s) => s !== '');

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly RouteSpec[]) {
    this.compiled = routes.map((route) => {
      const segments = splitPath(route.path);
      const score = segments.reduce((sum, s, i) => sum + (s.startsWith('{') ? 1 : 2) * 1000 ** (segments.length - i), 0);
      return { route, segments, score };
    });
    this.compiled.sort((a, b) => b.segments.length - a.segments.length || b.score - a.score);
  }

  match(method: string, rawPath: string): MatchResult {
    const requestSegments = splitPath(rawPath);
    const candidates: RouteMatch[] = [];
    for (const compiled of this.compiled) {
      const params = matchSegments(compiled.segments, requestSegments);
      if (params) candidates.push({ route: compiled.route, pathParameters: params });
    }
    const best = candidates[0];
    if (!best) return { kind: 'not-found' };
    // Like API Gateway: the most specific resource wins, then its method (or ANY).
    const samePath = candidates.filter((c) => c.route.path === best.route.path);
    const found = samePath.find((c) => c.route.httpMethod === method) ?? samePath.find((c) => c.route.httpMethod === 'ANY');
    if (found) return { kind: 'match', match: found };
    return { kind: 'method-not-allowed', allowed: samePath.map((c) => c.route.httpMethod) };
  }
}

function matchSegments(pattern: string[], request: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const greedy = /^\{(.+)\+\}$/.exec(p);
    if (greedy?.[1]) {
      if (i !== pattern.length - 1 || request.length <= i) return undefined;
      params[greedy[1]] = request.slice(i).map(safeDecode).join('/');
      return params;
    }
    const r = request[i];
    if (r === undefined) return undefined;
    const param = /^\{(.+)\}$/.exec(p);
    if (param?.[1]) params[param[1]] = safeDecode(r);
    else if (p !== r) return undefined;
  }
  return pattern.length === request.length ? params : undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
