/**
 * `npm run build -w @payment-outbox/consumer` produces a package that a plain Node process imports by
 * its name, without the repository's TypeScript: the entries, their declarations, no AWS SDK in the main entry.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/repo-root';
import { envelope } from '../support/stream-events';

const packageDir = join(REPO_ROOT, 'packages/consumer');

describe('consumer package build', () => {
  it('builds dist/ and a fresh Node process imports it and parses an envelope', { timeout: 60_000 }, () => {
    execFileSync('npm', ['run', 'build', '-w', '@payment-outbox/consumer'], { cwd: REPO_ROOT, stdio: 'pipe' });

    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; import: string }> };
    for (const entry of Object.values(manifest.exports)) {
      expect(existsSync(join(packageDir, entry.import)), entry.import).toBe(true);
      expect(existsSync(join(packageDir, entry.types)), entry.types).toBe(true);
    }
    expect(readFileSync(join(packageDir, 'dist/index.js'), 'utf8')).not.toMatch(/@aws-sdk\//);
    // Node's ESM resolution (TypeScript's NodeNext) finds a declaration's relative imports only by their .js paths.
    const declarations = readdirSync(join(packageDir, 'dist/types'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.d.ts'))
      .map((entry) => join(entry.parentPath, entry.name));
    expect(declarations.length).toBeGreaterThan(2);
    for (const file of declarations) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from |import\()'(\.{1,2}\/[^']+)'/g)) {
        expect(existsSync(join(dirname(file), specifier!.replace(/\.js$/, '.d.ts'))), `${file} imports ${specifier}`).toBe(true);
      }
    }

    const script = `
      import * as consumer from '@payment-outbox/consumer';
      import * as dynamodb from '@payment-outbox/consumer/dynamodb';
      const event = consumer.parseEvent(process.argv[1]);
      console.log(JSON.stringify({
        exports: Object.keys(consumer).sort(),
        dynamodb: Object.keys(dynamodb).sort(),
        parsed: { eventId: event.eventId, sequence: event.sequence },
      }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(envelope('pay-dist', 3))], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    const result = JSON.parse(output) as { exports: string[]; dynamodb: string[]; parsed: unknown };

    expect(result.exports).toEqual(expect.arrayContaining(['parseEvent', 'guardedFifoConsumer', 'verifyWebhook', 'InvalidEnvelopeError', 'SequenceGapError', 'PAYMENT_EVENT_TYPES']));
    expect(result.dynamodb).toEqual(expect.arrayContaining(['DynamoDbPaymentInbox', 'systemClock']));
    expect(result.parsed).toEqual({ eventId: 'evt-pay-dist-3', sequence: 3 });
  });
});
