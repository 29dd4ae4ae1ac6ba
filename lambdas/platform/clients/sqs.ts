import { SQSClient } from '@aws-sdk/client-sqs';
import { commonClientConfig, type AwsClientOptions } from './options';

/** The SQS client of a function that deletes, re-schedules or dead-letters messages itself (the webhook dispatcher). */
export function sqsClient(options: AwsClientOptions = {}): SQSClient {
  // `useQueueUrlAsEndpoint: false` sends requests to the configured endpoint rather than to the
  // queue URL's host: the same host on AWS, and required for the SQS emulator, whose queue URLs
  // name a host that does not resolve.
  return new SQSClient({ ...commonClientConfig(options), useQueueUrlAsEndpoint: false, ...(options.endpoints?.sqs !== undefined && { endpoint: options.endpoints.sqs }) });
}
