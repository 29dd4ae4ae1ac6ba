/** A Lambda context object for local invocations, with the function's configured timeout. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface ContextInput {
  readonly functionName: string;
  readonly functionArn: string;
  readonly memoryMb: number;
  /** Epoch milliseconds at which the invocation times out. */
  readonly deadline: number;
  readonly awsRequestId?: string;
}

export function createLambdaContext(input: ContextInput): Context {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported: return a value or a promise from the handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: input.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: input.functionArn,
    memoryLimitInMB: String(input.memoryMb),
    awsRequestId: input.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${input.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, input.deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
