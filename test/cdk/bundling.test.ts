import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsShapedRegistry, coldImport, lambdaEnvironment } from '../../bench/bundles';
import { appSubscribers } from '../../bin/app-subscribers';
import { ENTRY_METADATA_KEY, ESM_REQUIRE_BANNER } from '../../lib/constructs/payment-function';
import { REPO_ROOT } from '../../lib/repo-root';
import { PaymentOutboxStack } from '../../lib/payment-outbox-stack';
import { readTemplate, type LocalModel } from '../../local/template/resolve';
import type { CfnTemplate } from '../../local/template/types';
import { cdkJsonContext } from '../support/cdk-stack';

/** What identifies each SDK client a Lambda entry can name in a bundle: the service's schema namespace. */
const CLIENT_NAMESPACES = { documents: 'com.amazonaws.dynamodb', sqs: 'com.amazonaws.sqs', sns: 'com.amazonaws.sns' } as const;

/** The clients an entry names: the keys of `lambdaHandler(fn, { documents: dynamoDbDocuments, ... })`. */
function clientsNamedBy(entry: string): string[] {
  const call = /lambdaHandler\(\w+, \{([^}]*)\}\)/.exec(fs.readFileSync(path.join(REPO_ROOT, entry), 'utf8'));
  if (call === null) throw new Error(`${entry} calls no lambdaHandler(fn, { clients })`);
  return [...(call[1] ?? '').matchAll(/(\w+):/g)].map((match) => match[1] as string);
}

/**
 * The one test that really bundles: every function through the local esbuild (no Docker),
 * as `cdk synth` does. The other CDK tests skip bundling.
 */
describe('bundled synth', () => {
  let outdir: string;
  let bundles: { entry: string; dir: string }[] = [];
  let cfnTemplate: CfnTemplate;
  let model: LocalModel;

  beforeAll(() => {
    // GIVEN an app with cdk.json's context and bundling on (the default)
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'payment-outbox-synth-'));
    const app = new App({ outdir, context: cdkJsonContext(), builtinCloudFormationValidation: false });
    new PaymentOutboxStack(app, 'BundledStack', { subscribers: appSubscribers() });
    // WHEN
    const template = app.synth().getStackByName('BundledStack').template as {
      Resources: Record<string, { Type: string; Properties: { Code: { S3Key: string } }; Metadata: Record<string, string> }>;
    };
    cfnTemplate = template as unknown as CfnTemplate;
    model = readTemplate(cfnTemplate);
    bundles = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((fn) => ({
        entry: fn.Metadata[ENTRY_METADATA_KEY] as string,
        dir: path.join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`),
      }));
  }, 180_000);

  afterAll(() => {
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  it('bundles all twelve functions of the app (its two subscribers: the example consumer and one webhook dispatcher)', () => {
    expect(bundles).toHaveLength(12);
  });

  it('produces an ESM bundle with a linked source map for each function', () => {
    for (const { entry, dir } of bundles) {
      expect(fs.readdirSync(dir).sort(), entry).toEqual(['index.mjs', 'index.mjs.map']);
      expect(fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8'), entry).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    }
  });

  it('starts every bundle with the createRequire banner so bundled CommonJS can require Node built-ins', () => {
    for (const { entry, dir } of bundles) {
      expect(fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER), entry).toBe(true);
    }
  });

  it('bundles the AWS SDK instead of importing the runtime copy', () => {
    // The only SDK modules left outside are the optional SigV4a signers, which the SDK loads inside a
    // try/catch for multi-region access points only; we do not use them.
    const optional = new Set(['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a']);
    for (const { entry, dir } of bundles) {
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      const external = [...code.matchAll(/(?:from\s*|import\(|require\()["'](@aws-sdk\/[^"']+)["']/g)]
        .map((match) => match[1])
        .filter((name) => !optional.has(name as string));
      expect(external, entry).toEqual([]);
      expect(code.includes('DynamoDB_20120810') || code.includes('AmazonSQS'), entry).toBe(true);
    }
  });

  it('replaces the default credential chain with the environment provider: no STS, SSO or SSO-OIDC client in any bundle', () => {
    // lib/constructs/function-bundling.ts aliases @aws-sdk/credential-provider-node to lambdas/platform/lambda-credentials.ts.
    for (const { entry, dir } of bundles) {
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      for (const service of ['AWSSecurityTokenServiceV20110615', 'SWBPortalService', 'AWSSSOOIDCService']) {
        expect(code.includes(service), `${entry} carries ${service}`).toBe(false);
      }
    }
  });

  it('carries the SDK clients its entry names and no other (SNS in the relay and sweeper, SQS in the dispatcher)', () => {
    // platform/lambda-entry.ts builds only the clients an entry names, each from its own module.
    const carriers: Record<string, string[]> = { documents: [], sqs: [], sns: [] };
    for (const { entry, dir } of bundles) {
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      const named = clientsNamedBy(entry);
      for (const [client, namespace] of Object.entries(CLIENT_NAMESPACES)) {
        expect(code.includes(namespace), `${entry} names ${named.join(', ')}; carries ${namespace}?`).toBe(named.includes(client));
        if (named.includes(client)) carriers[client]?.push(entry.split('/')[2] as string);
      }
    }
    expect(new Set(carriers.sns)).toEqual(new Set(['outbox-relay', 'outbox-sweeper']));
    expect(new Set(carriers.sqs)).toEqual(new Set(['webhook-dispatcher']));
  });

  it('carries neither the event-stream codec nor mnemonist (replaced by lambdas/platform/bundle-aliases/)', () => {
    for (const { entry, dir } of bundles) {
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      // ":message-type" is the event-stream codec's header; "lru-cache.from" a static method only mnemonist's cache has.
      expect(code.includes('":message-type"'), `${entry} carries @smithy/core/event-streams`).toBe(false);
      expect(code.includes('mnemonist/lru-cache.from'), `${entry} carries mnemonist`).toBe(false);
    }
  });

  it("builds every function's handler in a fresh Node from its own template environment, with only the clients its entry names", () => {
    // As on a cold start: the bundle imported with AWS_REGION and the function's variables (AWS-shaped
    // names, URLs and ARNs), nothing else. A factory touching a client its entry did not name throws here.
    const registry = awsShapedRegistry(model, cfnTemplate);
    for (const { entry, dir } of bundles) {
      const spec = model.functions.find((fn) => fn.entry === entry);
      expect(spec, entry).toBeDefined();
      const { error } = coldImport(path.join(dir, 'index.mjs'), spec?.exportName ?? 'handler', lambdaEnvironment(spec, registry));
      expect(error, entry).toBeUndefined();
    }
  });

  it('produces bundles Node parses as ES modules', () => {
    for (const { entry, dir } of bundles) {
      expect(() => execFileSync(process.execPath, ['--check', path.join(dir, 'index.mjs')]), entry).not.toThrow();
    }
  });

  it('keeps each bundle under 3 MB (minified, SDK included)', () => {
    for (const { entry, dir } of bundles) {
      expect(fs.statSync(path.join(dir, 'index.mjs')).size, entry).toBeLessThan(3 * 1024 * 1024);
    }
  });
});
