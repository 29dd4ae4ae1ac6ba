/**
 * Synth-time validation of construct props. Every check throws with the construct path,
 * the prop name, the allowed range and the value received, so a bad prop fails `cdk synth`
 * with a message that says exactly what to change.
 */
import type { Duration } from 'aws-cdk-lib';
import { Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Throws unless `value` is an integer in `[min, max]`. Tokens (unresolved values) are not checked. */
export function validateIntegerInRange(scope: IConstruct, prop: string, value: number, min: number, max: number): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${scope.node.path}: ${prop} must be an integer between ${min} and ${max} (got ${value})`);
  }
}

/** Throws unless `value` is in `[min, max]`, compared in whole seconds. */
export function validateDurationInRange(scope: IConstruct, prop: string, value: Duration, min: Duration, max: Duration): void {
  if (Token.isUnresolved(value.toSeconds())) return;
  const seconds = value.toSeconds();
  if (seconds < min.toSeconds() || seconds > max.toSeconds()) {
    throw new Error(
      `${scope.node.path}: ${prop} must be between ${min.toHumanString()} and ${max.toHumanString()} (got ${value.toHumanString()})`,
    );
  }
}
