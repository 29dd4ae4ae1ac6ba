import type { Environment } from './function-runtime';

/**
 * Configuration helpers. Each function's `configFromEnv` calls them once per cold start, so a missing or malformed
 * variable fails the cold start with a precise message instead of failing each request later.
 */

/** Thrown when a required environment variable is missing or malformed. */
export class ConfigurationError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Environment variable ${variable} ${message}`);
    this.name = 'ConfigurationError';
  }
}

/**
 * Returns the value of `name`.
 * @throws ConfigurationError when the variable is unset or blank
 */
export function requiredEnv(name: string, env: Environment): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigurationError(name, 'is required but not set');
  return value;
}

/**
 * Returns `name` as a positive integer, or `defaultValue` when it is unset or blank.
 * @throws ConfigurationError when the variable is set to anything but a positive integer
 */
export function positiveIntEnv(name: string, defaultValue: number, env: Environment): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return defaultValue;
  const trimmed = raw.trim();
  const value = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigurationError(name, `must be a positive integer, got "${raw}"`);
  }
  return value;
}
