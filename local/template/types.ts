/** The parts of a CloudFormation template the local runner reads. */

/** Any CloudFormation value: a literal or an intrinsic function object. */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, CfnValue>;
  readonly Metadata?: Record<string, CfnValue>;
  readonly Condition?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { Default?: CfnValue }>;
}

/** CloudFormation resource Metadata key naming a function's handler source (see lib/constructs/payment-function.ts). */
export const ENTRY_METADATA_KEY = 'payment-outbox:entry';

export const isRecord = (value: unknown): value is Record<string, CfnValue> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
