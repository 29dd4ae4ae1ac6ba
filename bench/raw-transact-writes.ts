/**
 * The ceiling an API write is compared with: raw TransactWriteItems of the items a create commits
 * (the payment conditioned on not existing, its outbox event conditioned on not existing), sent
 * straight to the same DynamoDB Local at the API's concurrency, while the rest of the pipeline runs.
 * The raw outbox items carry no `pendingShard`, so the relay's stream filter drops them (they are
 * not events) and they write no PendingEvents index entry: the ceiling is, if anything, a little high.
 */
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createPayment } from '../lambdas/domain/payment';

/** Payment ids of the raw writes start with this: they are left out of the pipeline's figures. */
export const RAW_PAYMENT_PREFIX = 'bench-raw-';

export async function measureRawTransactWrites(
  documents: DynamoDBDocumentClient,
  tables: { readonly payments: string; readonly outbox: string },
  options: { readonly transactions: number; readonly concurrency: number },
): Promise<{ transactions: number; seconds: number; perSecond: number }> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.transactions) {
        const i = next++;
        const now = new Date().toISOString();
        const { payment, event } = createPayment(
          { paymentId: `${RAW_PAYMENT_PREFIX}${i}-${Date.now()}`, orderId: `raw-${i}`, amount: 1000 + i, currency: 'KRW', method: 'CARD' },
          { now, eventId: `raw-event-${i}-${Date.now()}` },
        );
        await documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: tables.payments, Item: payment, ConditionExpression: 'attribute_not_exists(paymentId)' } },
              {
                Put: {
                  TableName: tables.outbox,
                  Item: { ...event, expiresAt: Math.floor(Date.parse(now) / 1000) + 30 * 86_400 },
                  ConditionExpression: 'attribute_not_exists(aggregateId)',
                },
              },
            ],
            ClientRequestToken: event.eventId,
          }),
        );
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { transactions: options.transactions, seconds, perSecond: options.transactions / seconds };
}
