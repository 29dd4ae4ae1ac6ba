/**
 * `<state dir>/endpoints.json`: what a running local stack tells the tools outside its process
 * (the outbox CLI, tests that start `npm start`, users' own scripts). The runner writes it; the
 * CLI reads it with `parseEndpointsFile`. One type for both.
 */
import { join } from 'node:path';

export const ENDPOINTS_FILE_NAME = 'endpoints.json';

export interface EndpointsFile {
  readonly apiUrl: string;
  readonly region: string;
  readonly sqsEndpoint: string;
  /** SNS (fauxqs serves it on the SQS port). */
  readonly snsEndpoint: string;
  readonly dynamodbEndpoint: string;
  /** Queue name -> URL. */
  readonly queues: Readonly<Record<string, string>>;
  /** Topic name -> ARN. */
  readonly topics: Readonly<Record<string, string>>;
  /** Table logical id (`OutboxTable`, `PaymentsTable`, ...) -> local table name. */
  readonly tables: Readonly<Record<string, string>>;
  /** The sandbox PG's callback HMAC key (`POST /pg/webhooks/deposits`). */
  readonly pgCallbackSecret: string;
  /** Which PG the stack calls. */
  readonly paymentGateway: LocalPaymentGatewayInfo;
  /** Webhook subscriber name -> its signing key (random per run). */
  readonly webhookSecrets: Readonly<Record<string, string>>;
  /** The URL the default webhook subscriber's dispatcher POSTs to, when the runner started the receiver. */
  readonly webhookReceiverUrl?: string;
}

/** The PG of a running local stack, as endpoints.json shows it. */
export type LocalPaymentGatewayInfo =
  | { readonly kind: 'sandbox' }
  | {
      readonly kind: 'toss';
      /** The Toss-compatible API the functions call. */
      readonly baseUrl: string;
      /** Where Toss must send DEPOSIT_CALLBACKs: the stack's `/pg/webhooks/toss`. */
      readonly depositCallbackUrl: string;
      /** Present when the PG is tools/toss-local: its made-up secret key and its control routes (sessions, deposits, ledger, faults). */
      readonly local?: { readonly secretKey: string; readonly controlUrl: string };
    };

/** The fields a tool needs to reach the stack's emulators (the CLI reads no more). */
export type EmulatorEndpoints = Pick<EndpointsFile, 'region' | 'sqsEndpoint' | 'dynamodbEndpoint' | 'queues' | 'tables'>;

export function endpointsFilePath(stateDir: string): string {
  return join(stateDir, ENDPOINTS_FILE_NAME);
}

/**
 * Reads and checks the fields of endpoints.json a tool needs; `tables` may be absent (a file
 * written by hand), then the tool discovers tables itself.
 * @throws Error naming the file and the field
 */
export function parseEndpointsFile(text: string, file: string): EmulatorEndpoints {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON`);
  }
  if (!isRecord(json)) throw new Error(`${file} is not a JSON object`);
  for (const field of ['region', 'sqsEndpoint', 'dynamodbEndpoint'] as const) {
    if (typeof json[field] !== 'string' || json[field] === '') throw new Error(`${file}: "${field}" is missing`);
  }
  return {
    region: json.region as string,
    sqsEndpoint: json.sqsEndpoint as string,
    dynamodbEndpoint: json.dynamodbEndpoint as string,
    queues: stringMap(json.queues, 'queues', file) ?? {},
    tables: stringMap(json.tables, 'tables', file) ?? {},
  };
}

function stringMap(value: unknown, field: string, file: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new Error(`${file}: "${field}" must map names to strings`);
  }
  return value as Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
