/**
 * A template function run in this process: its factory (the same code `cdk deploy` bundles, see
 * `lambdas/platform/function-runtime.ts`) called with the function's own resolved environment and
 * its own SDK clients, and invoked with a Lambda context and its timeout. Nothing is read from or
 * written to `process.env`, so any number of instances, of any number of stacks, share a process.
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AwsClients } from '../../lambdas/platform/aws-clients';
import type { Environment, FunctionRuntime, LambdaFunction } from '../../lambdas/platform/function-runtime';
import { createObservability, observabilityConfigFromEnv } from '../../lambdas/platform/observability';
import { systemClock } from '../../lambdas/adapters/system-clock';
import { LocalStartupError } from '../errors';
import { functionNameOfEntry, type FunctionSpec } from '../template/resolve';
import { createLambdaContext } from './lambda-context';

type Handler = (event: unknown, context: unknown, callback?: (error?: unknown, result?: unknown) => void) => unknown;

/** The invocation exceeded the function's Timeout (the handler keeps running in the background). */
export class LambdaTimeoutError extends Error {
  constructor(readonly functionName: string, readonly timeoutSeconds: number) {
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'LambdaTimeoutError';
  }
}

export interface LocalFunction {
  readonly spec: FunctionSpec;
  readonly functionName: string;
  readonly arn: string;
  /** The function's environment as resolved for this stack (what its configuration was read from). */
  readonly environment: Readonly<Record<string, string>>;
  /** Invokes the handler; rejects with its error, or LambdaTimeoutError after the function's Timeout. */
  invoke(event: unknown): Promise<unknown>;
}

export interface LoadFunctionInput {
  readonly spec: FunctionSpec;
  readonly functionName: string;
  readonly arn: string;
  readonly repoRoot: string;
  /** The function's environment (template variables resolved to local names, URLs and keys). */
  readonly environment: Readonly<Record<string, string>>;
  /** The SDK clients this instance is given. */
  readonly aws: AwsClients;
}

/**
 * The module holding an entry's function definition: `lambdas/functions/<name>/entry.ts` is built
 * from the `LambdaFunction` that `lambdas/functions/<name>/<name>.ts` exports.
 */
export function definitionModuleOf(entry: string): string {
  return join(dirname(entry), `${functionNameOfEntry(entry) ?? 'entry'}.ts`);
}

const isLambdaFunction = (value: unknown): value is LambdaFunction<unknown, Handler> =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as LambdaFunction<unknown, Handler>).configFromEnv === 'function' &&
  typeof (value as LambdaFunction<unknown, Handler>).createHandler === 'function';

/** Imports the function's definition and builds its handler from its environment and clients. */
export async function loadFunction(input: LoadFunctionInput): Promise<LocalFunction> {
  const { spec } = input;
  const modulePath = definitionModuleOf(spec.entry);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(join(input.repoRoot, modulePath)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new LocalStartupError(`${modulePath} (${spec.logicalId}) failed to load: ${error instanceof Error ? error.message : String(error)}`);
  }
  const definitions = Object.values(module).filter(isLambdaFunction);
  const [definition] = definitions;
  if (definitions.length !== 1 || definition === undefined) {
    throw new LocalStartupError(`${modulePath} (${spec.logicalId}) must export exactly one function definition (defineFunction), found ${definitions.length}`);
  }
  const env: Environment = input.environment;
  let handler: Handler;
  try {
    const runtime: FunctionRuntime = { aws: input.aws, clock: systemClock, ...createObservability(observabilityConfigFromEnv(env)) };
    handler = definition.createHandler(definition.configFromEnv(env), runtime);
  } catch (error) {
    throw new LocalStartupError(`${spec.logicalId} (${modulePath}) failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }

  return {
    spec,
    functionName: input.functionName,
    arn: input.arn,
    environment: input.environment,
    invoke: (event) => invokeWithTimeout(handler, event, input),
  };
}

function invokeWithTimeout(handler: Handler, event: unknown, input: LoadFunctionInput): Promise<unknown> {
  const timeoutMs = input.spec.timeoutSeconds * 1000;
  const context = createLambdaContext({
    functionName: input.functionName,
    functionArn: input.arn,
    memoryMb: input.spec.memoryMb,
    deadline: Date.now() + timeoutMs,
  });
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LambdaTimeoutError(input.functionName, input.spec.timeoutSeconds)), timeoutMs);
    const settle = (error: unknown, result?: unknown) => {
      clearTimeout(timer);
      if (error !== undefined && error !== null) reject(error);
      else resolve(result);
    };
    try {
      const returned = handler(event, context, (error, result) => settle(error, result));
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        (returned as Promise<unknown>).then((result) => settle(undefined, result), (error: unknown) => settle(error ?? new Error('handler rejected')));
      }
    } catch (error) {
      settle(error ?? new Error('handler threw'));
    }
  });
}
