/** What every command gets: the target, its SDK clients, where to write, and the clock. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Output } from './output';
import type { Target } from './target';

export interface CommandContext {
  readonly target: Target;
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** AWS mode: reads the Toss secret key named by TOSS_SECRET_KEY_ARN (`attempts reconcile`). */
  readonly secretsManager: SecretsManagerClient;
  readonly out: Output;
  now(): Date;
  /** A fresh run id (messages.ts `newRunId`), used when `--run-id` is not given. */
  newRunId(): string;
}
