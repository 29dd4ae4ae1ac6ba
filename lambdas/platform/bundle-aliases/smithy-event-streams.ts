/**
 * `@smithy/core/event-streams` as the Lambda bundles carry it (an esbuild alias, see
 * lib/constructs/function-bundling.ts): a module that refuses to stream.
 *
 * The SDK imports the real module in one place, `HttpProtocol.loadEventStreamCapability`, a
 * dynamic import run only to serialize or deserialize an operation's event-stream member (S3
 * SelectObjectContent, Kinesis SubscribeToShard, Bedrock's streamed responses and the like). The
 * services our functions call, DynamoDB, SQS, SNS and Secrets Manager, have no such operation
 * (test/unit/bundle-aliases.test.ts checks the schemas of every SDK client in package.json's
 * dependencies), so on Lambda that import never runs. esbuild still inlines it, since a bundle is
 * one file (no chunk splitting), and the codec is ~15 KiB of every bundle. Were a function to call
 * an event-stream operation, it would fail here, loudly, instead of streaming.
 */
const notBundled = (name: string): Error =>
  new Error(
    `${name}: the Lambda bundles replace @smithy/core/event-streams with a stub (no service they call streams events); ` +
      'drop its alias in lib/constructs/function-bundling.ts to call an event-stream operation',
  );

export class EventStreamSerde {
  constructor() {
    throw notBundled('EventStreamSerde');
  }
}

export function eventStreamSerdeProvider(): never {
  throw notBundled('eventStreamSerdeProvider');
}
