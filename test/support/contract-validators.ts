/**
 * Validators over the checked-in contract documents, for tests: the event JSON Schema with Ajv
 * (draft 2020-12), API responses against docs/openapi.yaml (the operation of a method and path, the
 * schema of a status), message attributes against docs/asyncapi.yaml.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dereference } from '@readme/openapi-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EVENT_SCHEMA_FILE = join(REPO_ROOT, 'schemas/payment-event.schema.json');
export const OPENAPI_FILE = join(REPO_ROOT, 'docs/openapi.yaml');
export const ASYNCAPI_FILE = join(REPO_ROOT, 'docs/asyncapi.yaml');

/** Ajv for draft 2020-12 with the formats the documents use; `x-` keywords are annotations. */
export function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  ajv.addVocabulary(['x-sqs-data-type', 'x-parser-schema-id']);
  return ajv;
}

/** Problems of one validation as `path: message` lines; empty when valid. */
export function problems(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'}: ${error.message ?? 'invalid'} ${JSON.stringify(error.params)}`);
}

/** The compiled schemas/payment-event.schema.json. */
export function eventSchemaValidator(): ValidateFunction {
  return newAjv().compile(JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as object);
}

/** The schema of the SNS/SQS message attributes in docs/asyncapi.yaml, over their string values. */
export function messageAttributesValidator(): ValidateFunction {
  const document = parse(readFileSync(ASYNCAPI_FILE, 'utf8')) as { components: { schemas: { EventMessageAttributes: object } } };
  return newAjv().compile(document.components.schemas.EventMessageAttributes);
}

interface OpenApiResponse {
  readonly headers?: Record<string, { readonly required?: boolean }>;
  readonly content?: Record<string, { readonly schema?: object }>;
}
interface OpenApiOperation {
  readonly operationId: string;
  readonly responses: Record<string, OpenApiResponse>;
}
type OpenApiPaths = Record<string, Record<string, OpenApiOperation>>;

export interface ApiExchange {
  readonly method: string;
  /** The request path, without the stage or the query. */
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

export interface OpenApiValidator {
  /** What does not agree with docs/openapi.yaml; empty when the response is as documented. */
  check(exchange: ApiExchange): string[];
}

function templateRegex(template: string): RegExp {
  const pattern = template
    .split('/')
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${pattern}$`);
}

/** Loads docs/openapi.yaml with every `$ref` resolved (the event schema file included). */
export async function loadOpenApiValidator(file = OPENAPI_FILE): Promise<OpenApiValidator> {
  const document = (await dereference(file)) as unknown as { paths: OpenApiPaths };
  const ajv = newAjv();
  const compiled = new Map<object, ValidateFunction>();
  const routes = Object.entries(document.paths).map(([template, operations]) => ({ template, regex: templateRegex(template), operations }));
  return {
    check({ method, path, status, headers, body }) {
      // A literal segment wins over a parameter: the template with fewer parameters first.
      const route = routes
        .filter((candidate) => candidate.regex.test(path))
        .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0))[0];
      if (!route) return [`${method} ${path}: no path of the document matches`];
      const operation = route.operations[method.toLowerCase()];
      if (!operation) return [`${method} ${route.template}: not an operation of the document`];
      const response = operation.responses[String(status)] ?? operation.responses.default;
      const where = `${operation.operationId} ${status}`;
      if (!response) return [`${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`];
      const found: string[] = [];
      for (const [name, header] of Object.entries(response.headers ?? {})) {
        if (header.required && headers.get(name) === null) found.push(`${where}: required header ${name} is missing`);
      }
      const schema = response.content?.['application/json']?.schema;
      if (schema === undefined) return found;
      let validate = compiled.get(schema);
      if (!validate) {
        validate = ajv.compile(schema);
        compiled.set(schema, validate);
      }
      if (!validate(body)) found.push(...problems(validate).map((problem) => `${where}: ${problem}`));
      return found;
    },
  };
}
