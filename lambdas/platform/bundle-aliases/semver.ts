/**
 * `semver` as the Lambda bundles carry it (an esbuild alias, see lib/constructs/function-bundling.ts):
 * `gte` over plain `major.minor.patch` versions, and nothing else.
 *
 * Its only caller in our bundles is aws-xray-sdk-core's AWS SDK v2 patcher (`patchers/aws_p.js`,
 * loaded with the X-Ray SDK that Powertools Tracer wraps), which compares an SDK v2 client's
 * VERSION with its minimum; we capture SDK v3 clients only, so it never runs. The full package is
 * ~27 KiB of every bundle. A version this reading does not cover (a prerelease, a range) throws
 * rather than answer wrongly; compared with the real `semver` in test/unit/bundle-aliases.test.ts.
 */
const PLAIN_VERSION = /^v?(\d+)\.(\d+)\.(\d+)$/;

function parts(version: string): [number, number, number] {
  const match = PLAIN_VERSION.exec(String(version).trim());
  if (!match) throw new Error(`semver (bundle alias): only plain major.minor.patch versions are supported, got "${version}"`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** `a >= b` for plain versions. */
export function gte(a: string, b: string): boolean {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    if ((x[i] as number) !== (y[i] as number)) return (x[i] as number) > (y[i] as number);
  }
  return true;
}

export default { gte };
