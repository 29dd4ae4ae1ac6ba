import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { PgMisconfiguredError } from '../domain/errors';
import { PG_MISCONFIGURED_LOG_MESSAGE } from '../platform/observability';
import { mapError } from './error-mapper';

export type ApiRoute = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** Turns any error into the API's `{"error": {code, message}}` body; a 500 only for our own faults. */
function httpErrors(logger: Logger): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      const { response, unexpected } = mapError(request.error);
      if (request.error instanceof PgMisconfiguredError) logger.error(PG_MISCONFIGURED_LOG_MESSAGE, { pgMisconfigured: true, detail: request.error.detail });
      else if (unexpected) logger.error('Unexpected error while handling the request', { error: request.error });
      else logger.info('Request refused', { statusCode: response.statusCode, reason: request.error?.message });
      request.response = response;
    },
  };
}

/** Wraps a route function in the middy chain every API handler shares. */
export function apiHandler(route: ApiRoute, logger: Logger) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(route)
    .use(injectLambdaContext(logger))
    .use(httpErrors(logger));
}

export type ApiHandler = ReturnType<typeof apiHandler>;
