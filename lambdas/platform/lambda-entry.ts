/**
 * What a Lambda entry file calls: the function's handler, built once per cold start from
 * `process.env`, with the SDK clients the entry names (each configured by the SDK from the
 * environment) and no other.
 *
 * An entry names its clients, `lambdaHandler(createPayment, { documents: dynamoDbDocuments })`,
 * with each factory in its own module (./clients/), so esbuild bundles only those services: a
 * client costs a bundle 20-40 KiB and SNS's AWS Query protocol an XML parser besides. A client the
 * entry did not name is a getter that throws, naming it, so a function that starts using one fails
 * at its cold start (and in test/cdk/bundling.test.ts, which builds every bundle's handler),
 * never later with an undefined client.
 */
import { systemClock } from '../adapters/system-clock';
import type { AwsClients } from './aws-clients';
import type { FunctionRuntime, LambdaFunction } from './function-runtime';
import { createObservability, observabilityConfigFromEnv } from './observability';

/** The factories of the clients a function uses, by their `runtime.aws` name (e.g. `dynamoDbDocuments` of ./clients/dynamodb). */
export type EntryClients = { readonly [Name in keyof AwsClients]?: () => AwsClients[Name] };

/** Each client: what it is, and the factory (and its module) an entry adds to build it. */
const CLIENTS: Readonly<Record<keyof AwsClients, { readonly service: string; readonly factory: string }>> = {
  documents: { service: 'DynamoDB document', factory: 'dynamoDbDocuments from platform/clients/dynamodb' },
  sqs: { service: 'SQS', factory: 'sqsClient from platform/clients/sqs' },
  sns: { service: 'SNS', factory: 'snsClient from platform/clients/sns' },
};

/**
 * `runtime.aws` of a Lambda: the clients in `factories`, built now; every other one a
 * non-enumerable getter that throws.
 * @param functionName named in the error (AWS_LAMBDA_FUNCTION_NAME on Lambda)
 * @param capture wraps each client as it is built (the tracer's `captureAWSv3Client`: an X-Ray
 *   subsegment per request)
 */
export function entryClients(factories: EntryClients, functionName?: string, capture: <C>(client: C) => C = (client) => client): AwsClients {
  const entry = functionName === undefined ? "This function's entry" : `The ${functionName} entry`;
  const clients = {};
  for (const name of Object.keys(CLIENTS) as (keyof AwsClients)[]) {
    const factory = factories[name];
    const { service, factory: add } = CLIENTS[name];
    Object.defineProperty(
      clients,
      name,
      factory !== undefined
        ? { value: capture(factory()), enumerable: true }
        : {
            enumerable: false,
            get: () => {
              throw new Error(`${entry} builds no ${service} client (runtime.aws.${name}); add \`${name}: ${add}\` to the clients its entry.ts passes to lambdaHandler`);
            },
          },
    );
  }
  return clients as AwsClients;
}

export function lambdaHandler<Config, Handler>(fn: LambdaFunction<Config, Handler>, clients: EntryClients): Handler {
  const env = process.env;
  const config = fn.configFromEnv(env);
  const observability = createObservability(observabilityConfigFromEnv(env));
  const { tracer } = observability;
  const runtime: FunctionRuntime = {
    aws: entryClients(clients, env.AWS_LAMBDA_FUNCTION_NAME, (client) => tracer.captureAWSv3Client(client as never) as typeof client),
    clock: systemClock,
    ...observability,
  };
  return fn.createHandler(config, runtime);
}
