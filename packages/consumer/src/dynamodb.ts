/**
 * @payment-outbox/consumer/dynamodb: the inbox of the stack's example consumer on a DynamoDB table
 * (PK `pk`), over the caller's `DynamoDBDocumentClient`. A separate entry so that the main one needs no
 * AWS SDK; this one needs `@aws-sdk/client-dynamodb` and `@aws-sdk/lib-dynamodb` (peer dependencies).
 */
export { DynamoDbPaymentInbox, inboxKey, projectionKey, type DynamoDbPaymentInboxSettings } from '../../../lambdas/adapters/dynamodb-inbox';
export { systemClock } from '../../../lambdas/adapters/system-clock';
export type { Clock } from '../../../lambdas/ports/clock';
