/** Creates the template's tables in DynamoDB Local: keys, indexes, stream and TTL setting as defined. */
import {
  CreateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { LocalTableRef } from '../template/intrinsics';
import type { TableSpec } from '../template/resolve';

export interface CreatedTable extends LocalTableRef {
  readonly spec: TableSpec;
}

export function createTableInput(spec: TableSpec): CreateTableCommandInput {
  return {
    TableName: spec.tableName,
    KeySchema: spec.keySchema,
    AttributeDefinitions: spec.attributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    ...(spec.globalSecondaryIndexes.length > 0 && { GlobalSecondaryIndexes: spec.globalSecondaryIndexes }),
    ...(spec.localSecondaryIndexes.length > 0 && { LocalSecondaryIndexes: spec.localSecondaryIndexes }),
    ...(spec.streamViewType && { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.streamViewType } }),
  };
}

export async function createTables(client: DynamoDBClient, specs: readonly TableSpec[]): Promise<CreatedTable[]> {
  return Promise.all(
    specs.map(async (spec) => {
      const { TableDescription: table } = await client.send(new CreateTableCommand(createTableInput(spec)));
      if (spec.ttlAttribute) {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName: spec.tableName, TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true } }),
        );
      }
      return {
        spec,
        tableName: spec.tableName,
        arn: table?.TableArn ?? `arn:aws:dynamodb:local:000000000000:table/${spec.tableName}`,
        ...(table?.LatestStreamArn && { streamArn: table.LatestStreamArn }),
      };
    }),
  );
}
