// A stream fan-out handler for Node.js, written as one would for Lambda with the AWS SDK
// for JavaScript v3: for each INSERT or MODIFY record of the flights table's stream, read
// every connection (a paginated Scan) and post the flight to each with PostToConnection,
// all at once. A connection that answers 410 Gone is deleted. A record that fails is
// reported in batchItemFailures with every later one, so the mapping retries in order.
//
// fanoutsim runs it unchanged as the stack's stream_fanout:
//   Simulator(functions={"stream_fanout": FunctionCode("nodejs22.x", "examples/node-fanout",
//                                                       "index.handler")})
// The SDK finds fanoutsim's AWS endpoint in AWS_ENDPOINT_URL, as it would find AWS.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";

const dynamodb = new DynamoDBClient({});
const gateway = new ApiGatewayManagementApiClient({ endpoint: process.env.WEBSOCKET_ENDPOINT });
const table = process.env.CONNECTIONS_TABLE;

async function connections() {
  const ids = [];
  let start;
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: table, ProjectionExpression: "connectionId", ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) ids.push(item.connectionId.S);
    start = page.LastEvaluatedKey;
  } while (start);
  return ids;
}

async function post(connectionId, data) {
  try {
    await gateway.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
  } catch (error) {
    if (error?.$metadata?.httpStatusCode !== 410) throw error;
    console.log(`connection ${connectionId} is gone: deleting it`);
    await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { connectionId: { S: connectionId } } }));
  }
}

export const handler = async (event) => {
  const records = event.Records ?? [];
  let everyone;
  for (const [index, record] of records.entries()) {
    if (record.eventName !== "INSERT" && record.eventName !== "MODIFY") continue;
    try {
      const flight = unmarshall(record.dynamodb.NewImage);
      const message = { ...flight, operation: record.eventName === "INSERT" ? "CREATE" : "UPDATE" };
      everyone ??= await connections();
      const data = new TextEncoder().encode(JSON.stringify(message));
      await Promise.all(everyone.map((id) => post(id, data)));
      console.log(`posted ${flight.flightId} to ${everyone.length} connections`);
    } catch (error) {
      console.log(`record ${record.dynamodb.SequenceNumber} failed: ${error}`);
      return {
        batchItemFailures: records.slice(index).map((r) => ({ itemIdentifier: r.dynamodb.SequenceNumber })),
      };
    }
  }
  return { batchItemFailures: [] };
};
