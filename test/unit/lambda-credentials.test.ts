import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../lambdas/platform/lambda-credentials';

/** The credential chain the Lambda bundles use in place of @aws-sdk/credential-provider-node. */
describe('Lambda credential provider', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('returns the execution role credentials Lambda puts in the environment', async () => {
    // GIVEN the variables Lambda sets before loading the handler
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'token');

    // WHEN
    const credentials = await defaultProvider()();

    // THEN
    expect(credentials).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
  });

  it('rejects with a CredentialsProviderError when the environment holds no credentials', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');

    await expect(defaultProvider()()).rejects.toMatchObject({ name: 'CredentialsProviderError' });
  });
});
