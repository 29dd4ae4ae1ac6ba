/**
 * Attribute values as a client middleware sees them: plain (the document client's input) or
 * marshalled (`{ S }`, `{ N }`, `{ M }`), depending on where in the stack it runs.
 */

export function stringAttribute(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const marshalled = (value as { S?: unknown } | undefined)?.S;
  return typeof marshalled === 'string' ? marshalled : undefined;
}

export function numberAttribute(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const marshalled = (value as { N?: unknown } | undefined)?.N;
  return typeof marshalled === 'string' ? Number(marshalled) : undefined;
}

export function mapAttribute(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const marshalled = (value as { M?: unknown }).M;
  if (typeof marshalled === 'object' && marshalled !== null) return marshalled as Record<string, unknown>;
  return value as Record<string, unknown>;
}
