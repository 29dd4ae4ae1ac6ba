import type { APIGatewayProxyEvent } from 'aws-lambda';

/** An API Gateway REST (v1) proxy event, as API Gateway or the local runner builds it. */
export function apiEvent(overrides: {
  method?: string;
  path?: string;
  resource?: string;
  body?: string | null;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  isBase64Encoded?: boolean;
}): APIGatewayProxyEvent {
  const headers = overrides.headers ?? {};
  return {
    httpMethod: overrides.method ?? 'POST',
    path: overrides.path ?? '/payments',
    resource: overrides.resource ?? overrides.path ?? '/payments',
    body: overrides.body ?? null,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: overrides.pathParameters ?? null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    isBase64Encoded: overrides.isBase64Encoded ?? false,
    requestContext: {
      requestId: 'test-request',
      httpMethod: overrides.method ?? 'POST',
      path: overrides.path ?? '/payments',
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export const lambdaContext = {
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '256',
  awsRequestId: 'test-request',
  logGroupName: '/aws/lambda/test',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
