/** `npm run schemas`: writes the event contract documents (tools/schemas/documents.ts) into the repository. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDocuments } from './documents';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
for (const document of generatedDocuments()) {
  const path = join(root, document.path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, document.content);
  console.log(`wrote ${document.path}`);
}
