// A stream fan-out handler for Node.js, written as one would for Lambda with the AWS SDK
// for JavaScript v3: for each INSERT or MODIFY change of the flights table, read every
// connection (a paginated Scan) and post the flight to each with PostToConnection, all at
// once. A connection that answers 410 Gone is deleted. A record that fails is reported in
// batchItemFailures with every later one, so the mapping retries in order. It takes the
// table's DynamoDB stream records, and Kinesis records carrying the table's changes (the
// seed's feed: Simulator(preset="seed")).
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

// A record's change (eventName, dynamodb) and the identifier a failure is reported by.
function changeOf(record) {
  if (record.eventSource === "aws:kinesis") {
    const change = JSON.parse(Buffer.from(record.kinesis.data, "base64").toString("utf8"));
    return { change, id: record.kinesis.sequenceNumber };
  }
  return { change: record, id: record.dynamodb.SequenceNumber };
}

export const handler = async (event) => {
  const records = event.Records ?? [];
  let everyone;
  for (const [index, record] of records.entries()) {
    const { change, id } = changeOf(record);
    if (change.eventName !== "INSERT" && change.eventName !== "MODIFY") continue;
    try {
      const flight = unmarshall(change.dynamodb.NewImage);
      const message = { ...flight, operation: change.eventName === "INSERT" ? "CREATE" : "UPDATE" };
      everyone ??= await connections();
      const data = new TextEncoder().encode(JSON.stringify(message));
      await Promise.all(everyone.map((id) => post(id, data)));
      console.log(`posted ${flight.flightId} to ${everyone.length} connections`);
    } catch (error) {
      console.log(`record ${id} failed: ${error}`);
      return { batchItemFailures: records.slice(index).map((r) => ({ itemIdentifier: changeOf(r).id })) };
    }
  }
  return { batchItemFailures: [] };
};
