// Drives a mastra-rs MCP server with the official TypeScript SDK client
// (@modelcontextprotocol/sdk, pinned in package-lock.json). Run by tests/tests/mcp.rs with:
//   MCP_URL       the endpoint of a server without auth
//   MCP_AUTH_URL  the endpoint of the same application with auth
//   MCP_TOKEN     a token the second server accepts
// Prints "all MCP checks passed" and exits 0 when every check holds.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const { MCP_URL, MCP_AUTH_URL, MCP_TOKEN } = process.env;
assert.ok(MCP_URL && MCP_AUTH_URL && MCP_TOKEN, "MCP_URL, MCP_AUTH_URL and MCP_TOKEN are set");

async function connect(url, headers = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
  });
  const client = new Client({ name: "mastra-rs-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

function text(result) {
  assert.equal(result.content[0].type, "text");
  return result.content[0].text;
}

async function checkEveryKind(client) {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), [
    "ask_echo",
    "create_item",
    "divide",
    "get_item",
    "get_secret",
    "run_shout",
  ]);

  let progressed = 0;
  const asked = await client.callTool(
    { name: "ask_echo", arguments: { message: "hi from the sdk" } },
    undefined,
    { onprogress: () => { progressed += 1; } },
  );
  assert.ok(progressed > 0, "the agent's answer reported progress");
  assert.equal(asked.isError, false, JSON.stringify(asked));
  assert.match(JSON.parse(text(asked)).text, /hi from the sdk/);

  const run = await client.callTool({ name: "run_shout", arguments: { word: "sdk" } });
  assert.equal(run.isError, false, JSON.stringify(run));
  assert.deepEqual(JSON.parse(text(run)).result, { word: "SDK" });

  const divided = await client.callTool({ name: "divide", arguments: { a: 10, b: 4 } });
  assert.equal(divided.isError, false, JSON.stringify(divided));
  assert.deepEqual(JSON.parse(text(divided)), { quotient: 2.5 });

  const item = await client.callTool({ name: "get_item", arguments: { itemId: "42" } });
  assert.equal(item.isError, false, JSON.stringify(item));
  assert.deepEqual(JSON.parse(text(item)), { id: "42", detail: false });

  const bad = await client.callTool({ name: "divide", arguments: { a: "ten", b: 4 } });
  assert.equal(bad.isError, true, JSON.stringify(bad));
  assert.match(text(bad), /Invalid arguments for tool divide/);

  const unknown = await client.callTool({ name: "nope", arguments: {} });
  assert.equal(unknown.isError, true, JSON.stringify(unknown));
  assert.equal(text(unknown), "Unknown tool: nope");
}

// Without auth: connect (initialize, session), every kind of tool, then end the session.
{
  const { client, transport } = await connect(MCP_URL);
  assert.equal(client.getServerVersion().name, "Test MCP");
  assert.ok(transport.sessionId, "the server gave a session id");
  await checkEveryKind(client);
  await transport.terminateSession();
  assert.equal(transport.sessionId, undefined);
  await client.close();
}

// With auth: refused without a token, served with one.
{
  await assert.rejects(connect(MCP_AUTH_URL), (error) => {
    assert.match(String(error), /401|Invalid or expired token|Unauthorized/);
    return true;
  });
  const { client, transport } = await connect(MCP_AUTH_URL, { Authorization: `Bearer ${MCP_TOKEN}` });
  await checkEveryKind(client);
  await transport.terminateSession();
  await client.close();
}

console.log("all MCP checks passed");
