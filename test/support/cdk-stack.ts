/**
 * Shared arrangement for the CDK tests: an App with the same context as `cdk synth` (cdk.json),
 * with bundling skipped (`aws:cdk:bundling-stacks` = []) so no esbuild runs, plus small readers
 * over the synthesized template.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, type AppProps, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PaymentOutboxStack, type PaymentOutboxStackProps } from '../../lib/payment-outbox-stack';
import { appSubscribers } from '../../bin/app-subscribers';
import { REPO_ROOT } from '../../lib/repo-root';

/** The `context` block of cdk.json: feature flags the CLI applies, so tests see the same template. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * A new App with cdk.json's context and no bundling. `builtinCloudFormationValidation` (CDK's own
 * template schema check, a few seconds per `app.synth()`) stays on unless a test turns it off.
 */
export function newTestApp(extraContext: Record<string, unknown> = {}, props: Omit<AppProps, 'context'> = {}): App {
  return new App({ ...props, context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...extraContext } });
}

/** Synthesizes a PaymentOutboxStack without bundling and returns its template. */
export function synthStack(props?: PaymentOutboxStackProps): { app: App; stack: PaymentOutboxStack; template: Template } {
  const app = newTestApp();
  const stack = new PaymentOutboxStack(app, 'TestStack', props);
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * The stack as bin/payment-outbox.ts builds it: the app's subscribers (bin/app-subscribers.ts), i.e. the
 * payment-events queue and the notifications webhook (on the local receiver's default URL).
 */
export function synthAppStack(props: PaymentOutboxStackProps = {}): ReturnType<typeof synthStack> {
  return synthStack({ subscribers: appSubscribers(), ...props });
}

/** A bare stack in a test App, for testing one construct alone. */
export function newTestStack(): Stack {
  return new Stack(newTestApp(), 'ConstructTestStack');
}

/** A CloudFormation resource as found in a template. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly Metadata?: Record<string, any>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** Every resource of `type`, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, CfnResourceJson> {
  return template.findResources(type) as Record<string, CfnResourceJson>;
}

/** Logical id of the function whose Metadata `payment-outbox:entry` is `entry`; throws unless exactly one. */
export function functionIdByEntry(template: Template, entry: string): string {
  const ids = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function'))
    .filter(([, fn]) => fn.Metadata?.['payment-outbox:entry'] === entry)
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one function with entry ${entry}, found ${ids.length}`);
  return ids[0] as string;
}

/** The statements of every inline policy attached to the execution role of function `functionId`. */
export function statementsOfFunction(template: Template, functionId: string): PolicyStatementJson[] {
  const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionId];
  const roleId = (fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties?.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties?.PolicyDocument.Statement as PolicyStatementJson[]);
}

/** An IAM policy statement as found in a template. */
export interface PolicyStatementJson {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Actions of a statement as an array. */
export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Resources of a statement as an array. */
export function resourcesOf(statement: PolicyStatementJson): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Every action the function's role is allowed, on any resource referencing `logicalId` (Ref or GetAtt). */
export function actionsOnResource(template: Template, functionId: string, logicalId: string, attribute?: string): string[] {
  return statementsOfFunction(template, functionId)
    .filter((statement) => statement.Effect === 'Allow')
    .filter((statement) => resourcesOf(statement).some((resource) => refersTo(resource, logicalId, attribute)))
    .flatMap(actionsOf)
    .sort();
}

function refersTo(resource: unknown, logicalId: string, attribute?: string): boolean {
  if (typeof resource !== 'object' || resource === null) return false;
  const ref = (resource as { Ref?: string }).Ref;
  const getAtt = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (attribute === undefined) return ref === logicalId || (getAtt?.[0] === logicalId && getAtt[1] === 'Arn');
  return getAtt?.[0] === logicalId && getAtt[1] === attribute;
}
