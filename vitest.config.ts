import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The SDK warns on every client that Node 20 support ends in 2027; the Lambdas run on nodejs22.x.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        extends: true,
        // aws-cdk-lib takes seconds to load; sharing one module graph across files saves minutes.
        test: { name: 'cdk', include: ['test/cdk/**/*.test.ts'], environment: 'node', testTimeout: 120_000, isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/integration-global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Each file starts its own local stack (DynamoDB Local + SQS emulator); files run one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
