import type { WebhookAttemptResult } from '../domain/webhook-delivery-policy';

export interface WebhookRequest {
  readonly url: string;
  /** Sent byte for byte: the signature covers it. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The request (connection, answer and body excerpt) is abandoned after this long. */
  readonly timeoutMs: number;
}

/**
 * Port for the HTTP call of a webhook attempt. Never throws for what the receiver or the network
 * did: every outcome (a response of any status, a timeout, a connection error) is a result.
 */
export interface WebhookClient {
  post(request: WebhookRequest): Promise<WebhookAttemptResult>;
}
