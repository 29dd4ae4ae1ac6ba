/**
 * Who receives payment events in this app: ADD A SUBSCRIBER HERE. Each entry gets its own SQS FIFO
 * queue `<name>.fifo` and DLQ `<name>-dlq.fifo` subscribed to the `payment-events.fifo` topic; a
 * webhook subscriber also gets a signing secret and a dispatcher that POSTs each event to its URL.
 * The list is validated at synth time (lambdas/domain/subscribers.ts, `parseSubscribers`):
 *
 * ```ts
 * { name: 'ledger', delivery: { kind: 'queue' } },                       // consumes ledger.fifo itself
 * { name: 'shop', eventTypes: ['payment.approved', 'payment.cancelled'],  // only these types (default: all)
 *   delivery: { kind: 'webhook', url: 'https://shop.example.com/hooks/payments',
 *               timeoutSeconds: 5, maxAttempts: 8, backoff: { baseSeconds: 2, maxSeconds: 300 } } },  // defaults shown
 * ```
 *
 * Side-effect free (bin/payment-outbox.ts synthesizes), so the local runner and tests can import it.
 */
import { Annotations, type App } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { EXAMPLE_CONSUMER_SUBSCRIBER } from '../lambdas/platform/resource-names';

/** Context key of the `notifications` webhook URL: `cdk deploy -c notificationsWebhookUrl=https://...`. */
export const NOTIFICATIONS_WEBHOOK_URL_CONTEXT = 'notificationsWebhookUrl';

/** Where `notifications` posts unless the context says otherwise: the local webhook receiver (tools/webhook-receiver). */
export const DEFAULT_NOTIFICATIONS_WEBHOOK_URL = 'http://localhost:3001/payment-events';

/**
 * The app's subscribers, as raw configuration for `PaymentOutboxStack`'s `subscribers` prop.
 *
 * @param notificationsWebhookUrl URL of the `notifications` webhook (default: the local receiver)
 */
export function appSubscribers(notificationsWebhookUrl: string = DEFAULT_NOTIFICATIONS_WEBHOOK_URL): unknown[] {
  return [
    // The example consumer's queue (lambdas/functions/example-consumer reads payment-events.fifo).
    { name: EXAMPLE_CONSUMER_SUBSCRIBER, delivery: { kind: 'queue' } },
    // A service that only offers an HTTP callback: signed POSTs, retried with backoff, then dead-lettered.
    { name: NOTIFICATIONS_SUBSCRIBER, delivery: { kind: 'webhook', url: notificationsWebhookUrl } },
  ];
}

/** The `notifications` webhook URL: context `notificationsWebhookUrl`, else the local receiver's. */
export function notificationsWebhookUrl(app: App): string {
  return notificationsWebhookUrlFromContext(app) ?? DEFAULT_NOTIFICATIONS_WEBHOOK_URL;
}

/** Context `notificationsWebhookUrl`, when given. */
export function notificationsWebhookUrlFromContext(app: App): string | undefined {
  const value: unknown = app.node.tryGetContext(NOTIFICATIONS_WEBHOOK_URL_CONTEXT);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The subscriber that exists only when its URL is given to a deployment. */
export const NOTIFICATIONS_SUBSCRIBER = 'notifications';

/**
 * The subscribers `cdk deploy` creates: the `notifications` webhook only when `-c notificationsWebhookUrl`
 * gives its URL (a dispatcher posting to the local receiver would dead-letter every event). The local
 * runner and the tests use {@link appSubscribers}, which always has it, on the local receiver.
 */
export function deployedAppSubscribers(app: App): unknown[] {
  const url = notificationsWebhookUrlFromContext(app);
  return url === undefined
    ? appSubscribers().filter((subscriber) => (subscriber as { name?: unknown }).name !== NOTIFICATIONS_SUBSCRIBER)
    : appSubscribers(url);
}

/** Id of the synth message saying the `notifications` webhook was left out. */
export const NOTIFICATIONS_NOT_DEPLOYED_INFO_ID = 'payment-outbox:notificationsWebhookNotDeployed';

/**
 * Says at synth time what {@link deployedAppSubscribers} decided: how to add the `notifications` webhook
 * when it was left out, and a warning when its URL is the local receiver's.
 */
export function noteNotificationsWebhook(scope: IConstruct, app: App): void {
  const url = notificationsWebhookUrlFromContext(app);
  if (url !== undefined) {
    warnOnLocalNotificationsUrl(scope, url);
    return;
  }
  Annotations.of(scope).addInfo(
    `[${NOTIFICATIONS_NOT_DEPLOYED_INFO_ID}] The notifications webhook subscriber is not deployed: it has no URL. ` +
      `Add it with -c ${NOTIFICATIONS_WEBHOOK_URL_CONTEXT}=https://... (its receiver's HTTPS endpoint), or edit bin/app-subscribers.ts.`,
  );
}

/** Id of the synth warning about the localhost default (acknowledgeable with `Annotations.acknowledgeWarning`). */
export const LOCAL_WEBHOOK_WARNING_ID = 'payment-outbox:notificationsWebhookUrl';

/** Warns at synth time when `notifications` still posts to the local receiver, which a deployed dispatcher cannot reach. */
export function warnOnLocalNotificationsUrl(scope: IConstruct, url: string): void {
  if (url !== DEFAULT_NOTIFICATIONS_WEBHOOK_URL) return;
  Annotations.of(scope).addWarningV2(
    LOCAL_WEBHOOK_WARNING_ID,
    `The notifications webhook posts to ${DEFAULT_NOTIFICATIONS_WEBHOOK_URL} (the local receiver), which a deployed ` +
      `dispatcher cannot reach: set -c ${NOTIFICATIONS_WEBHOOK_URL_CONTEXT}=https://... before deploying.`,
  );
}
