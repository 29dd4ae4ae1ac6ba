/**
 * `npm run cfn-lint`: synthesizes the app's stack on each payment gateway (sandbox, toss) with asset
 * bundling skipped, and runs cfn-lint (https://github.com/aws-cloudformation/cfn-lint, a Python tool:
 * `pip install cfn-lint`) on the templates. Exits 1 when cfn-lint reports an error; warnings and
 * informational findings are printed and do not fail (cfn-lint's exit status is a bit mask:
 * 2 errors, 4 warnings, 8 informational).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeTemplate } from '../../local/template/synthesize';
import { PAYMENT_GATEWAY_KINDS } from '../../lambdas/platform/payment-gateways';

const CFN_LINT_ERRORS = 2;
/** W3005 (a DependsOn already implied by a GetAtt) is how CDK writes every Lambda's role dependency. */
const IGNORED_CHECKS = ['W3005'];

async function main(): Promise<number> {
  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    process.stderr.write('cfn-lint is not installed (pip install cfn-lint); nothing was linted\n');
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'payment-outbox-cfn-lint-'));
  try {
    const files: string[] = [];
    for (const paymentGateway of PAYMENT_GATEWAY_KINDS) {
      const template = await synthesizeTemplate({ appStackPropsOverrides: { paymentGateway } });
      const file = join(dir, `PaymentOutbox-${paymentGateway}.template.json`);
      writeFileSync(file, JSON.stringify(template, null, 1));
      files.push(file);
    }
    process.stdout.write(`${version.stdout.trim()} on ${files.map((f) => f.slice(dir.length + 1)).join(', ')}\n`);
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--ignore-checks', ...IGNORED_CHECKS, '--', ...files], { encoding: 'utf8' });
    if (lint.error) throw lint.error;
    const findings = lint.stdout.trim();
    if (findings) process.stdout.write(`${findings.replaceAll(`${dir}/`, '')}\n`);
    const status = lint.status ?? 0;
    if (status & CFN_LINT_ERRORS) {
      process.stderr.write('cfn-lint found errors in the synthesized templates\n');
      return 1;
    }
    process.stdout.write(`no errors (${findings ? findings.split('\n').length : 0} warning or informational finding(s); ignored: ${IGNORED_CHECKS.join(', ')})\n`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
