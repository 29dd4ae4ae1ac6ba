/**
 * docs/openapi.yaml: the payment API as OpenAPI 3.1, built from the routes the stack deploys
 * (paymentApiRoutes), the request schemas the handlers parse with, the error codes the error
 * mapper answers and the payment schema of the event contract. A route without an entry in
 * OPERATIONS fails the generation, so a new route cannot be left out.
 */
import { paymentApiRoutes, type PaymentApiRoute, type RouteAuth } from '../../lib/constructs/payment-api';
import {
  cancelPaymentSchema,
  confirmPaymentSchema,
  confirmWithPaymentKeySchema,
  createPaymentSchema,
  depositNotificationSchema,
  idempotencyKeySchema,
  paymentIdSchema,
} from '../../lambdas/domain/commands';
import { tossDepositCallbackSchema } from '../../lambdas/adapters/toss/toss-deposit-callback';
import { TRACEPARENT } from '../../lambdas/domain/trace-context';
import { STATUS_BY_CODE } from '../../lambdas/http-api/error-mapper';
import { MAX_BODY_BYTES } from '../../lambdas/http-api/request';
import { EXAMPLE_TRACEPARENT, TRACEPARENT_FORMAT } from './asyncapi';
import { paymentDeliveriesViewSchema } from './delivery-view-schema';
import { describeProperties, jsonSchemaOf, paymentJsonSchema, PAYMENT_EVENT_SCHEMA_PATH, type JsonSchema } from './payment-event-json-schema';

/** Repository path of the generated document. */
export const OPENAPI_PATH = 'docs/openapi.yaml';

/** The code of an answer the error mapper gives to anything that is not a known domain error. */
export const INTERNAL_ERROR_CODE = 'INTERNAL_ERROR';

type OperationSpec = {
  readonly operationId: string;
  readonly summary: string;
  readonly description: string;
  /** Request body schemas; several are alternatives (oneOf). */
  readonly body?: readonly JsonSchema[];
  readonly idempotencyKey?: boolean;
  readonly success: { readonly status: number; readonly description: string; readonly schema: JsonSchema; readonly replayHeader?: boolean };
  /** Domain error codes the route can answer (their statuses come from the error mapper). */
  readonly errors: readonly string[];
};

/** Request fields whose rules are more than their JSON Schema says. */
const REQUEST_FIELD_DESCRIPTIONS: Readonly<Record<string, string>> = {
  orderId: "The caller's order id.",
  amount: "Integer amount in the currency's minor unit.",
  currency: "An ISO 4217 code; the stack's PG settles only some (Toss: KRW), others answer 422 CURRENCY_NOT_SUPPORTED.",
  method: 'How the buyer pays.',
  cardToken: "The buyer's card token (sandbox PG).",
  paymentKey: "The paymentKey Toss's payment window returned to the buyer's browser (Toss).",
  reason: 'Why the payment is cancelled.',
  pgTransactionId: "The PG's id of the deposit: the callback's idempotency key.",
  depositedAt: 'When the deposit arrived (ISO-8601 with offset).',
  secret: 'The callback secret Toss issued with the virtual account; compared with the stored one.',
  transactionKey: "Toss's id of the deposit transaction: the callback's idempotency key.",
  status: "Toss's status of the deposit: DONE records it.",
};

/** A request schema as the document shows it: no dialect of its own (OpenAPI 3.1's is 2020-12), described fields. */
function requestSchema(schema: Parameters<typeof jsonSchemaOf>[0]): JsonSchema {
  const { $schema: _dialect, ...rest } = jsonSchemaOf(schema);
  describeProperties(rest, REQUEST_FIELD_DESCRIPTIONS);
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Codes every change of an existing payment can answer. */
const CHANGE_ERRORS = [
  'VALIDATION_ERROR',
  'PAYLOAD_TOO_LARGE',
  'PAYMENT_NOT_FOUND',
  'INVALID_STATE_TRANSITION',
  'CONCURRENT_MODIFICATION',
  'IDEMPOTENCY_KEY_REUSED',
];
/** The store's unavailability (DynamoDB throttling or a fault on its side): any route. */
const STORE_UNAVAILABLE = 'STORE_UNAVAILABLE';
/** Codes of a change that calls the PG. */
const PG_ERRORS = ['PG_ATTEMPT_IN_PROGRESS', 'PG_REJECTED', 'PG_UNAVAILABLE'];
const READ_ERRORS = ['VALIDATION_ERROR', 'PAYMENT_NOT_FOUND'];

const OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  CreatePayment: {
    operationId: 'createPayment',
    summary: 'Create a payment',
    description:
      'Creates a payment and its `payment.created` event in one transaction. A VIRTUAL_ACCOUNT payment is issued its account at the PG first and answers WAITING_FOR_DEPOSIT; the others answer READY.',
    body: [requestSchema(createPaymentSchema)],
    idempotencyKey: true,
    success: { status: 201, description: 'The payment created (or, with a replayed Idempotency-Key, the one created first).', schema: ref('Payment'), replayHeader: true },
    errors: ['VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE', 'CONCURRENT_MODIFICATION', 'IDEMPOTENCY_KEY_REUSED', 'CURRENCY_NOT_SUPPORTED', 'PG_REJECTED', 'PG_UNAVAILABLE'],
  },
  GetPayment: {
    operationId: 'getPayment',
    summary: 'Read a payment',
    description: 'The payment as stored.',
    success: { status: 200, description: 'The payment.', schema: ref('Payment') },
    errors: READ_ERRORS,
  },
  ConfirmPayment: {
    operationId: 'confirmPayment',
    summary: 'Confirm a card or easy-pay payment',
    description:
      'Authorizes the payment at the PG and records `payment.approved` or `payment.failed`. The body is `{cardToken}` on the sandbox PG and `{paymentKey}` (from Toss\'s payment window) on Toss. Virtual-account payments are approved by the deposit callback instead (409).',
    body: [requestSchema(confirmPaymentSchema), requestSchema(confirmWithPaymentKeySchema)],
    idempotencyKey: true,
    success: { status: 200, description: 'The payment, APPROVED or FAILED.', schema: ref('Payment'), replayHeader: true },
    errors: [...CHANGE_ERRORS, ...PG_ERRORS],
  },
  CancelPayment: {
    operationId: 'cancelPayment',
    summary: 'Cancel a payment',
    description: 'Cancels a READY, WAITING_FOR_DEPOSIT or APPROVED payment and records `payment.cancelled`; an APPROVED one is refunded at the PG first.',
    body: [requestSchema(cancelPaymentSchema)],
    idempotencyKey: true,
    success: { status: 200, description: 'The payment, CANCELLED.', schema: ref('Payment'), replayHeader: true },
    errors: [...CHANGE_ERRORS, ...PG_ERRORS],
  },
  ListPaymentEvents: {
    operationId: 'listPaymentEvents',
    summary: "List a payment's events",
    description: "The payment's events from the outbox, in sequence order, as the topic publishes them.",
    success: {
      status: 200,
      description: 'The events.',
      schema: {
        type: 'object',
        required: ['events'],
        properties: { events: { type: 'array', items: { $ref: `../${PAYMENT_EVENT_SCHEMA_PATH}` } } },
      },
    },
    errors: READ_ERRORS,
  },
  ListPaymentDeliveries: {
    operationId: 'listPaymentDeliveries',
    summary: "Where a payment's events stand with each subscriber",
    description:
      'Per subscriber, each event its filter accepts: `pending` or `enqueued` for a queue subscriber; `pending`, `retrying`, `delivered` or `dead-lettered` for a webhook subscriber.',
    success: { status: 200, description: 'The deliveries.', schema: ref('PaymentDeliveries') },
    errors: READ_ERRORS,
  },
  PgDepositCallback: {
    operationId: 'sandboxDepositCallback',
    summary: "The sandbox PG's deposit callback",
    description:
      'A virtual-account deposit, reported by the sandbox PG and signed with `X-PG-Signature`. Served on stacks whose PG is the sandbox. Answers 200 only once the deposit is recorded (or was already), so the PG resends until then.',
    body: [requestSchema(depositNotificationSchema)],
    success: { status: 200, description: 'The payment, APPROVED.', schema: ref('Payment'), replayHeader: true },
    errors: ['INVALID_SIGNATURE', 'VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE', 'PAYMENT_NOT_FOUND', 'INVALID_STATE_TRANSITION', 'AMOUNT_MISMATCH', 'CONCURRENT_MODIFICATION', 'IDEMPOTENCY_KEY_REUSED'],
  },
  TossDepositCallback: {
    operationId: 'tossDepositCallback',
    summary: "Toss Payments' DEPOSIT_CALLBACK",
    description:
      "Toss's virtual-account deposit callback (unsigned). Served on stacks whose PG is Toss; register the API URL + this path in Toss's developer center. Trusted only when `secret` matches the one Toss issued with the payment's virtual account, and recorded only once Toss's own lookup shows the deposit. Unknown fields are ignored.",
    body: [requestSchema(tossDepositCallbackSchema)],
    success: { status: 200, description: 'The payment (APPROVED once the deposit is recorded).', schema: ref('Payment'), replayHeader: true },
    errors: ['INVALID_SIGNATURE', 'VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE', 'PAYMENT_NOT_FOUND', 'INVALID_STATE_TRANSITION', 'DEPOSIT_NOT_CONFIRMED', 'AMOUNT_MISMATCH', 'CONCURRENT_MODIFICATION', 'IDEMPOTENCY_KEY_REUSED', 'PG_UNAVAILABLE'],
  },
};

const SECURITY: Readonly<Record<RouteAuth, readonly Record<string, string[]>[]>> = {
  iam: [{ sigv4: [] }],
  hmac: [{ pgSignature: [] }],
  // Toss does not sign its callbacks: the per-payment `secret` in the body is checked by the handler.
  'pg-secret': [{}],
};

/** The routes of both PGs: the caller routes and each PG's deposit callback. */
export function documentedRoutes(): PaymentApiRoute[] {
  const routes = new Map<string, PaymentApiRoute>();
  for (const route of [...paymentApiRoutes('sandbox'), ...paymentApiRoutes('toss')]) routes.set(route.id, route);
  return [...routes.values()];
}

function errorResponse(status: number, codes: readonly string[]): Record<string, unknown> {
  const unavailable = status === 503;
  return {
    description: `${codes.map((code) => `\`${code}\``).join(', ')}.${unavailable ? ' Retry after `Retry-After` seconds with the same Idempotency-Key: the retry resumes the same request and never applies it twice.' : ''}`,
    ...(unavailable && {
      headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } } },
    }),
    content: {
      'application/json': {
        schema: {
          allOf: [ref('Error'), { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: [...codes] } } } } }],
        },
      },
    },
  };
}

function operation(route: PaymentApiRoute): Record<string, unknown> {
  const spec = OPERATIONS[route.id];
  if (spec === undefined) throw new Error(`Route ${route.id} (${route.method} ${route.path}) has no entry in tools/schemas/openapi.ts OPERATIONS`);
  const byStatus = new Map<number, string[]>();
  // Every route reads or writes the payment store, which may throttle or fail after the SDK's retries.
  for (const code of [...spec.errors, STORE_UNAVAILABLE]) {
    const status = STATUS_BY_CODE[code];
    if (status === undefined) throw new Error(`${route.id}: ${code} is not an error code of lambdas/http-api/error-mapper.ts`);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  byStatus.set(500, [INTERNAL_ERROR_CODE]);
  const parameters = [
    ...(route.path.includes('{paymentId}') ? [{ $ref: '#/components/parameters/PaymentId' }] : []),
    ...(spec.idempotencyKey ? [{ $ref: '#/components/parameters/IdempotencyKey' }] : []),
    ...(route.auth === 'hmac' ? [{ $ref: '#/components/parameters/PgSignature' }] : []),
    // Every handler runs in the request's trace context (lambdas/http-api/api-handler.ts).
    { $ref: '#/components/parameters/TraceParent' },
  ];
  const body = spec.body;
  const responses: Record<string, unknown> = {
    [String(spec.success.status)]: {
      description: spec.success.description,
      ...(spec.success.replayHeader && { headers: { 'Idempotent-Replayed': { $ref: '#/components/headers/IdempotentReplayed' } } }),
      content: { 'application/json': { schema: spec.success.schema } },
    },
  };
  for (const [status, codes] of [...byStatus.entries()].sort(([a], [b]) => a - b)) responses[String(status)] = errorResponse(status, codes);
  if (route.auth === 'iam') responses['403'] = { $ref: '#/components/responses/GatewayForbidden' };
  responses['429'] = { $ref: '#/components/responses/GatewayThrottled' };
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: [route.auth === 'iam' ? 'payments' : 'pg-callbacks'],
    security: SECURITY[route.auth],
    parameters,
    ...(body && {
      requestBody: {
        required: true,
        description: `JSON, at most ${MAX_BODY_BYTES} bytes.`,
        content: { 'application/json': { schema: body.length === 1 ? body[0] : { oneOf: body } } },
      },
    }),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
    'x-route-id': route.id,
  };
}

function withoutDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of documentedRoutes()) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  const errorCodes = [...Object.keys(STATUS_BY_CODE), INTERNAL_ERROR_CODE];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payment API',
      version: '1',
      description:
        'The payment service\'s REST API (API Gateway, one Lambda per route). Every state change commits the payment and its event in one DynamoDB transaction; the events reach subscribers as described in docs/asyncapi.yaml. Errors answer `{"error": {"code", "message"}}` with a machine-readable code. Generated by `npm run schemas` from lib/constructs/payment-api.ts, lambdas/domain/commands.ts and lambdas/http-api/error-mapper.ts; do not edit.',
    },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
        description: 'The stack\'s API (output PaymentApiUrl).',
        variables: { apiId: { default: 'abcdef1234' }, region: { default: 'us-east-1' }, stage: { default: 'dev' } },
      },
    ],
    tags: [
      { name: 'payments', description: 'Routes for the services that take payments: SigV4-signed, authorized by IAM.' },
      { name: 'pg-callbacks', description: 'Routes the payment gateway calls; a stack serves the one of its PG.' },
    ],
    paths,
    components: {
      schemas: {
        Payment: paymentJsonSchema(),
        PaymentDeliveries: withoutDialect(jsonSchemaOf(paymentDeliveriesViewSchema)),
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: errorCodes, description: 'Stable and machine-readable: branch on it, not on the message.' },
                message: { type: 'string', description: 'For people; may change.' },
              },
            },
          },
        },
        GatewayError: {
          type: 'object',
          description: "API Gateway's own answer, before any handler runs.",
          required: ['message'],
          properties: { message: { type: 'string' } },
        },
      },
      parameters: {
        PaymentId: { name: 'paymentId', in: 'path', required: true, schema: withoutDialect(jsonSchemaOf(paymentIdSchema)) },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Makes a retry safe: the same key with the same request answers the first outcome again (with `Idempotent-Replayed: true`) and changes nothing; the same key with another request answers 422 IDEMPOTENCY_KEY_REUSED.',
          schema: withoutDialect(jsonSchemaOf(idempotencyKeySchema)),
        },
        PgSignature: {
          name: 'X-PG-Signature',
          in: 'header',
          required: true,
          description: '`sha256=` + hex HMAC-SHA256 of the raw body under the PG callback secret.',
          schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' },
        },
        TraceParent: {
          name: TRACEPARENT,
          in: 'header',
          required: false,
          description:
            `The caller's ${TRACEPARENT_FORMAT}: the request continues the caller's trace, and the events of the change it makes carry the same trace id (their \`${TRACEPARENT}\` message attribute and webhook header, docs/asyncapi.yaml). Without it, API Gateway's X-Ray trace (\`X-Amzn-Trace-Id\`) is used, else a new trace. A malformed value is ignored and starts a new trace; it never answers 400.`,
          // No pattern: a malformed value is accepted (and ignored), so the schema does not refuse one.
          schema: { type: 'string', examples: [EXAMPLE_TRACEPARENT] },
        },
      },
      headers: {
        IdempotentReplayed: { description: '`true` when the answer replays an earlier request with the same Idempotency-Key.', schema: { type: 'string', const: 'true' } },
      },
      responses: {
        GatewayForbidden: {
          description: 'The request is not SigV4-signed, the signature does not match, or the caller\'s IAM policy lacks `execute-api:Invoke` on the route (API Gateway\'s answer).',
          content: { 'application/json': { schema: ref('GatewayError') } },
        },
        GatewayThrottled: {
          description: "Over the stage's (or the PG callback route's) throttling limit (API Gateway's answer); retry with backoff.",
          content: { 'application/json': { schema: ref('GatewayError') } },
        },
      },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4 for the service `execute-api`, authorized by IAM: the caller\'s role needs `execute-api:Invoke` on the route. Sign with the AWS SDK (`@smithy/signature-v4`, botocore, ...).',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        pgSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-PG-Signature',
          description: 'The sandbox PG signs each callback: `sha256=<hex HMAC-SHA256 of the raw body>` under the PG callback secret (Secrets Manager); the handler compares in constant time and answers 401 INVALID_SIGNATURE otherwise.',
        },
      },
    },
  };
}
