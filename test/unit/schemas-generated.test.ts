/**
 * The checked-in contract documents are what the code generates now: a change to a schema, a route,
 * an error code or a queue setting without `npm run schemas` fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedDocuments } from '../../tools/schemas/documents';
import { REPO_ROOT } from '../support/contract-validators';

describe('generated contract documents', () => {
  const documents = generatedDocuments();

  it('are the event JSON Schema, the OpenAPI and the AsyncAPI document', () => {
    expect(documents.map((document) => document.path)).toEqual(['schemas/payment-event.schema.json', 'docs/openapi.yaml', 'docs/asyncapi.yaml']);
  });

  it.each(documents.map((document) => [document.path, document] as const))('%s is up to date (else run `npm run schemas`)', (path, document) => {
    const file = join(REPO_ROOT, path);
    expect(existsSync(file), `${path} is missing: run npm run schemas`).toBe(true);
    // Compared as text, so that the failure shows the differing lines.
    expect(readFileSync(file, 'utf8'), `${path} differs from what the code generates: run npm run schemas`).toBe(document.content);
  });
});
