/**
 * `npm run smoke -- --stack NAME | --local`: resolves the target, builds its clients (SigV4-signed
 * API calls and the caller's credentials for a deployed stack; the emulators and plain HTTP for
 * the local stack), runs the steps and prints one line per step and a PASS / FAIL line.
 * Exit 0 passed, 1 a step failed, 2 a usage error or a target the smoke test cannot drive.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '../../local/clients';
import { createApiClient } from './api-client';
import { parseSmokeArgs, UsageError, USAGE } from './args';
import { createSigV4Signer } from './signer';
import { runSmoke, type SmokeReport, type StepResult } from './steps';
import { defaultLocalEndpointsFile, readLocalTarget, resolveStackTarget, SmokeRefusedError, type SmokeTarget } from './target';

export interface SmokeIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: SmokeIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** `20260302t010030-a1b2c3`: sortable, unique enough for an order id and a queue name. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase();
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

const NAME_WIDTH = 16;

/** `ok    create            85 ms  201 pay_... READY (order smoke-...)`. */
export function formatStep(step: StepResult): string {
  const latency = step.latencyMs === undefined ? '' : `${Math.round(step.latencyMs)} ms`;
  return `${step.outcome.padEnd(8)}${step.name.padEnd(NAME_WIDTH)}${latency.padStart(9)}  ${step.detail}`;
}

/** `PASS ...` or `FAIL at <step>: ...`. */
export function formatVerdict(target: SmokeTarget, report: SmokeReport, totalMs: number): string {
  const where = `${target.label}, payment ${report.paymentId ?? '(none)'}, ${(totalMs / 1000).toFixed(1)} s`;
  if (!report.passed) return `FAIL at ${report.failed?.name ?? '?'}: ${report.failed?.detail ?? ''} [${where}]`;
  const note = report.eventsSource === 'api' ? '; events read from the API, not from the topic' : '';
  return `PASS ${where}${note}`;
}

export async function runSmokeCli(argv: readonly string[], io: SmokeIo = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let command;
  try {
    command = parseSmokeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`smoke: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.help) {
    io.out(USAGE);
    return 0;
  }
  const started = performance.now();
  const { target: wanted } = command;
  const credentials = wanted.kind === 'stack' ? defaultProvider() : LOCAL_CREDENTIALS;
  const destroy: Array<{ destroy(): void }> = [];
  try {
    let target: SmokeTarget;
    try {
      if (wanted.kind === 'stack') {
        const cloudFormation = new CloudFormationClient({ credentials, ...(wanted.region !== undefined && { region: wanted.region }) });
        destroy.push(cloudFormation);
        target = await resolveStackTarget(wanted.stackName, cloudFormation);
      } else {
        target = readLocalTarget(wanted.endpointsFile ? resolve(wanted.endpointsFile) : defaultLocalEndpointsFile(env));
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // SDK errors (credentials, access, network) do not say which call failed.
      const text = wanted.kind === 'stack' && !message.includes(wanted.stackName) ? `DescribeStacks ${wanted.stackName}: ${message}` : message;
      if (error instanceof SmokeRefusedError) {
        io.err(`smoke: refused: ${text}`);
        return 2;
      }
      io.out(formatStep({ name: 'target', outcome: 'fail', latencyMs: performance.now() - started, detail: text }));
      io.out(`FAIL at target: ${text}`);
      return 1;
    }
    io.out(
      formatStep({
        name: 'target',
        outcome: 'ok',
        latencyMs: performance.now() - started,
        detail: `${target.label}: API ${target.apiUrl}${target.kind === 'stack' ? ' (SigV4, execute-api)' : ''}, PG ${target.paymentGateway.kind}`,
      }),
    );

    const brokerConfig = {
      region: target.region,
      credentials,
    };
    const sqs = new SQSClient({ ...brokerConfig, ...(target.emulator && { endpoint: target.emulator.sqsEndpoint, useQueueUrlAsEndpoint: false }) });
    const sns = new SNSClient({ ...brokerConfig, ...(target.emulator && { endpoint: target.emulator.snsEndpoint }) });
    destroy.push(sqs, sns);
    const api = createApiClient(target.apiUrl, target.kind === 'stack' ? { signer: createSigV4Signer({ credentials, region: target.region }) } : {});
    const report = await runSmoke(target, {
      api,
      ...(target.paymentGateway.kind === 'toss-local' && { control: createApiClient(target.paymentGateway.controlUrl) }),
      brokers: { sqs, sns },
      runId: newRunId(),
      timeoutMs: command.timeoutMs,
      onStep: (step) => io.out(formatStep(step)),
    });
    io.out(formatVerdict(target, report, performance.now() - started));
    return report.passed ? 0 : 1;
  } finally {
    for (const client of destroy) client.destroy();
  }
}
