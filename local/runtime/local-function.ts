/**
 * A template function run in this process: its handler imported from the entry source file
 * (the same code `cdk deploy` bundles) and invoked with a Lambda context and its timeout.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalStartupError } from '../errors';
import type { FunctionSpec } from '../template/resolve';
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
  /** Invokes the handler; rejects with its error, or LambdaTimeoutError after the function's Timeout. */
  invoke(event: unknown): Promise<unknown>;
}

export interface LoadFunctionInput {
  readonly spec: FunctionSpec;
  readonly functionName: string;
  readonly arn: string;
  readonly repoRoot: string;
  /** Variables set only while this module is imported. */
  readonly importEnvironment?: Record<string, string>;
  /**
   * Import with a copy of process.env plus `importEnvironment` in place of process.env: a module
   * that keeps `process.env` to read later (at invocation) keeps its own variables. @default false
   */
  readonly isolateEnvironment?: boolean;
  /**
   * A module instance of its own, for an entry several functions share (`?function=<key>` on the
   * import URL): handlers read their configuration at import. @default - the entry's one instance
   */
  readonly instanceKey?: string;
}

/** Imports the handler module. Call after the shared environment is in process.env. */
export async function loadFunction(input: LoadFunctionInput): Promise<LocalFunction> {
  const { spec } = input;
  const file = join(input.repoRoot, spec.entry);
  const saved: Record<string, string | undefined> = {};
  const processEnv = process.env;
  if (input.isolateEnvironment) {
    process.env = { ...processEnv, ...input.importEnvironment };
  } else {
    for (const [name, value] of Object.entries(input.importEnvironment ?? {})) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  }
  const url = `${pathToFileURL(file).href}${input.instanceKey ? `?function=${encodeURIComponent(input.instanceKey)}` : ''}`;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new LocalStartupError(`${spec.entry} (${spec.logicalId}) failed to load: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    process.env = processEnv;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  const handler = module[spec.exportName];
  if (typeof handler !== 'function') throw new LocalStartupError(`${spec.entry} does not export a function named ${spec.exportName}`);

  return {
    spec,
    functionName: input.functionName,
    arn: input.arn,
    invoke: (event) => invokeWithTimeout(handler as Handler, event, input),
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
