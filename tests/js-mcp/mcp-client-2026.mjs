// Drives a mastra-rs MCP server with the official v2 TypeScript client
// (@modelcontextprotocol/client, pinned in package-lock.json), pinned to the stateless revision
// 2026-07-28: server/discover instead of initialize, no session. Run by tests/tests/mcp.rs with
// MCP_URL, MCP_AUTH_URL and MCP_TOKEN as for mcp-client.mjs. Prints "all 2026-07-28 checks
// passed" and exits 0 when every check holds.
import assert from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const { MCP_URL, MCP_AUTH_URL, MCP_TOKEN } = process.env;
assert.ok(MCP_URL && MCP_AUTH_URL && MCP_TOKEN, "MCP_URL, MCP_AUTH_URL and MCP_TOKEN are set");

async function connect(url, headers = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client(
    { name: "mastra-rs-test-2026", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
  await client.connect(transport);
  assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
  assert.equal(transport.sessionId, undefined, "no session in the stateless revision");
  return client;
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
  const asked = await client.callTool({ name: "ask_echo", arguments: { message: "hi from v2" } });
  assert.equal(asked.isError, false, JSON.stringify(asked));
  assert.match(JSON.parse(text(asked)).text, /hi from v2/);

  const run = await client.callTool({ name: "run_shout", arguments: { word: "v2" } });
  assert.equal(run.isError, false, JSON.stringify(run));
  assert.deepEqual(JSON.parse(text(run)).result, { word: "V2" });

  const divided = await client.callTool({ name: "divide", arguments: { a: 1, b: 8 } });
  assert.deepEqual(JSON.parse(text(divided)), { quotient: 0.125 });

  const item = await client.callTool({ name: "get_item", arguments: { itemId: "v2" } });
  assert.deepEqual(JSON.parse(text(item)), { id: "v2", detail: false });

  const bad = await client.callTool({ name: "divide", arguments: { a: "one", b: 8 } });
  assert.equal(bad.isError, true, JSON.stringify(bad));
  assert.match(text(bad), /Invalid arguments for tool divide/);

  const unknown = await client.callTool({ name: "nope", arguments: {} });
  assert.equal(unknown.isError, true, JSON.stringify(unknown));
  assert.equal(text(unknown), "Unknown tool: nope");
}

{
  const client = await connect(MCP_URL);
  await checkEveryKind(client);
  await client.close();
}

{
  await assert.rejects(connect(MCP_AUTH_URL), (error) => {
    assert.match(String(error), /401|Invalid or expired token|Unauthorized|auth/i);
    return true;
  });
  const client = await connect(MCP_AUTH_URL, { Authorization: `Bearer ${MCP_TOKEN}` });
  await checkEveryKind(client);
  await client.close();
}

console.log("all 2026-07-28 checks passed");
