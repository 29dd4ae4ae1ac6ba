import { SNSClient } from '@aws-sdk/client-sns';
import { commonClientConfig, type AwsClientOptions } from './options';

/** The SNS client of the functions that publish outbox events to the payment-events topic (the relay and the sweeper). */
export function snsClient(options: AwsClientOptions = {}): SNSClient {
  return new SNSClient({ ...commonClientConfig(options), ...(options.endpoints?.sns !== undefined && { endpoint: options.endpoints.sns }) });
}
