// Drives a running quickstart (MASTRA_URL) with the official @mastra/client-js, unchanged.
// Run by tests/tests/agents_client_js.rs, which starts the server and sets MASTRA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MastraClient, MastraClientError } from '@mastra/client-js';

const baseUrl = process.env.MASTRA_URL;
assert.ok(baseUrl, 'MASTRA_URL must point at a running quickstart');
const client = new MastraClient({ baseUrl, retries: 0 });
const agent = client.getAgent('my-agent');
const TOOL = 'celsius-to-fahrenheit';

test('listAgents returns the quickstart agent with its tool', async () => {
  const agents = await client.listAgents();
  assert.deepEqual(Object.keys(agents), ['my-agent']);
  const a = agents['my-agent'];
  assert.equal(a.name, 'My Agent');
  assert.equal(a.provider, 'mastra');
  assert.equal(a.modelId, 'echo');
  assert.equal(a.tools[TOOL].id, TOOL);
  const input = JSON.parse(a.tools[TOOL].inputSchema).json;
  assert.deepEqual(input.required, ['celsius']);
});

test('agent details describe one agent', async () => {
  const details = await agent.details();
  assert.equal(details.id, 'my-agent');
  assert.match(details.instructions, /helpful assistant/);
});

test('generate answers with text, usage and finish reason', async () => {
  const result = await agent.generate('Hello from the JS client');
  assert.equal(result.text, 'You said: Hello from the JS client');
  assert.equal(result.finishReason, 'stop');
  assert.ok(result.usage.totalTokens > 0);
});

test('generate runs the tool loop', async () => {
  const result = await agent.generate(`Convert @${TOOL} {"celsius": 100}`);
  assert.equal(result.toolCalls[0].payload.toolName, TOOL);
  assert.deepEqual(result.toolResults[0].payload.result, { fahrenheit: 212 });
  assert.equal(result.text, `${TOOL} returned {"fahrenheit":212.0}`);
});

test('stream delivers Mastra chunks the client parses', async () => {
  const response = await agent.stream('Stream this please');
  const chunks = [];
  await response.processDataStream({ onChunk: async (chunk) => { chunks.push(chunk); } });
  const types = chunks.map((c) => c.type);
  assert.equal(types[0], 'start');
  assert.equal(types.at(-1), 'finish');
  for (const t of ['step-start', 'text-start', 'text-delta', 'text-end', 'step-finish']) {
    assert.ok(types.includes(t), `missing ${t} in ${types}`);
  }
  const text = chunks.filter((c) => c.type === 'text-delta').map((c) => c.payload.text).join('');
  assert.equal(text, 'You said: Stream this please');
  assert.ok(types.filter((t) => t === 'text-delta').length > 1, 'streamed token by token');
  assert.ok(chunks.every((c) => c.from === 'AGENT' && c.runId === chunks[0].runId));
});

test('threads: create, list, use from generate, read messages, update, delete', async () => {
  const resourceId = `js-user-${Date.now()}`;
  const created = await client.createMemoryThread({
    agentId: 'my-agent', resourceId, title: 'From JS', metadata: { origin: 'client-js' },
  });
  assert.equal(created.resourceId, resourceId);
  assert.equal(created.title, 'From JS');

  const listed = await client.listMemoryThreads({ resourceId, agentId: 'my-agent' });
  assert.equal(listed.total, 1);
  assert.equal(listed.threads[0].id, created.id);
  assert.equal(listed.hasMore, false);

  await agent.generate('Remember me', { memory: { thread: created.id, resource: resourceId } });
  await agent.generate('Still there?', { memory: { thread: { id: created.id }, resource: resourceId } });

  const thread = client.getMemoryThread({ threadId: created.id, agentId: 'my-agent' });
  const page = await thread.listMessages({ perPage: 3 });
  assert.equal(page.total, 4);
  assert.equal(page.hasMore, true);
  assert.deepEqual(page.messages.map((m) => m.role), ['user', 'assistant', 'user']);
  assert.equal(page.messages[0].content.format, 2);
  assert.equal(page.messages[0].content.parts[0].text, 'Remember me');
  assert.equal(page.uiMessages.length, 3);
  const rest = await thread.listMessages({ page: 1, perPage: 3 });
  assert.equal(rest.messages[0].content.content, 'You said: Still there?');

  const updated = await thread.update({ title: 'Renamed' });
  assert.equal(updated.title, 'Renamed');
  assert.equal((await thread.get()).title, 'Renamed');
  await thread.delete();
  await assert.rejects(thread.get(), (e) => e instanceof MastraClientError && e.status === 404);
});

test('tools: list, details, execute, invalid input', async () => {
  const tools = await client.listTools();
  assert.equal(tools[TOOL].id, TOOL);
  const details = await client.getTool(TOOL).details();
  assert.match(details.description, /Fahrenheit/);
  assert.deepEqual(await client.getTool(TOOL).execute({ data: { celsius: 0 } }), { fahrenheit: 32 });
  await assert.rejects(
    client.getTool(TOOL).execute({ data: { celsius: 'warm' } }),
    (e) => e instanceof MastraClientError && e.status === 400
      && e.body.error === 'Invalid request body' && e.body.issues[0].field === 'data.celsius',
  );
});

test('an unknown agent is a 404 the client reports', async () => {
  await assert.rejects(
    client.getAgent('nobody').details(),
    (e) => e instanceof MastraClientError && e.status === 404
      && e.body.error === 'Agent with id nobody not found',
  );
});
