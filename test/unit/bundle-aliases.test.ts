/**
 * The modules the Lambda bundles carry in place of a package (FUNCTION_BUNDLE_ALIASES of
 * lib/constructs/function-bundling.ts), each checked against the claim that makes it safe.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import MnemonistLRUCache from 'mnemonist/lru-cache';
import { describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLE_ALIASES } from '../../lib/constructs/function-bundling';
import { REPO_ROOT } from '../../lib/repo-root';
import LRUCache from '../../lambdas/platform/bundle-aliases/lru-cache';
import { gte } from '../../lambdas/platform/bundle-aliases/semver';
import { EventStreamSerde, eventStreamSerdeProvider } from '../../lambdas/platform/bundle-aliases/smithy-event-streams';

const requireFromRepo = createRequire(join(REPO_ROOT, 'package.json'));

describe('@smithy/core/event-streams in the bundles: a stub', () => {
  it('is reached by no SDK client the functions can bundle: no client in package.json dependencies has a streaming member', () => {
    // An event stream is a union with the `streaming` trait; the trait's name is a string in the client's schemas.
    const { dependencies } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const clients = Object.keys(dependencies).filter((name) => name.startsWith('@aws-sdk/client-'));
    expect(clients.length).toBeGreaterThan(0);
    for (const client of clients) {
      const schemas = join(dirname(requireFromRepo.resolve(`${client}/package.json`)), 'dist-es', 'schemas');
      const files = readdirSync(schemas).filter((file) => file.endsWith('.js'));
      expect(files.length, client).toBeGreaterThan(0);
      for (const file of files) {
        expect(readFileSync(join(schemas, file), 'utf8').includes('"streaming"'), `${client} has a streaming member: drop the @smithy/core/event-streams alias`).toBe(false);
      }
    }
  });

  it('throws, naming the alias to drop, if an event stream is ever serialized or deserialized', () => {
    expect(() => new EventStreamSerde()).toThrow(/drop its alias in lib\/constructs\/function-bundling\.ts/);
    expect(() => eventStreamSerdeProvider()).toThrow(/EventStreamSerde|eventStreamSerdeProvider/);
    expect(FUNCTION_BUNDLE_ALIASES['@smithy/core/event-streams']).toBe('./lambdas/platform/bundle-aliases/smithy-event-streams.ts');
  });
});

describe('mnemonist/lru-cache in the bundles: the same cache over a Map', () => {
  it('answers every operation EndpointCache makes exactly as mnemonist does (a seeded run of 5,000 operations, capacity 3)', () => {
    const ours = new LRUCache<string, number>(3);
    const theirs = new MnemonistLRUCache<string, number>(3);
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 5_000; step++) {
      const key = `k${next(6)}`;
      // Keys from a set twice the capacity, so gets, sets and evictions mix; a clear now and then.
      const operation = next(200) === 0 ? 'clear' : ['get', 'set', 'set', 'has', 'peek'][next(5)];
      const answers =
        operation === 'set'
          ? [ours.set(key, step), theirs.set(key, step)]
          : operation === 'clear'
            ? [ours.clear(), theirs.clear()]
            : [ours[operation as 'get' | 'has' | 'peek'](key), theirs[operation as 'get' | 'has' | 'peek'](key)];
      expect(answers[0], `step ${step}: ${operation} ${key}`).toEqual(answers[1]);
      expect(ours.size, `step ${step}`).toBe(theirs.size);
    }
  });

  it('refuses a capacity that is not a positive number, as mnemonist does', () => {
    expect(() => new LRUCache(0)).toThrow('mnemonist/lru-cache: capacity should be positive number.');
    expect(() => new MnemonistLRUCache(0)).toThrow('mnemonist/lru-cache: capacity should be positive number.');
  });
});

describe('semver in the bundles: gte over plain versions', () => {
  const semver = requireFromRepo('semver') as { gte: (a: string, b: string) => boolean };

  it('is called by nothing in the bundles but the X-Ray SDK\'s SDK v2 patcher', () => {
    // The packages a function bundle can reach that require semver; a new one must be checked before the alias stays.
    const xray = dirname(requireFromRepo.resolve('aws-xray-sdk-core/package.json'));
    const callers: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.js') && /require\(['"]semver['"]\)/.test(readFileSync(path, 'utf8'))) callers.push(path.slice(xray.length + 1));
      }
    };
    walk(join(xray, 'dist', 'lib'));
    expect(callers).toEqual([join('dist', 'lib', 'patchers', 'aws_p.js')]);
    expect(FUNCTION_BUNDLE_ALIASES.semver).toBe('./lambdas/platform/bundle-aliases/semver.ts');
  });

  it('answers gte as semver does for plain versions, and refuses what it does not read', () => {
    const versions = ['0.0.0', '0.0.1', '0.1.0', '1.0.0', '2.2.0', '2.10.0', '2.9.99', '10.0.0', 'v22.11.0', '22.11.0'];
    for (const a of versions) {
      for (const b of versions) expect(gte(a, b), `${a} >= ${b}`).toBe(semver.gte(a, b));
    }
    expect(() => gte('2.0.0-beta.1', '1.0.0')).toThrow(/plain major\.minor\.patch/);
  });
});
