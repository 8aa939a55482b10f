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

const WORKFLOW = 'trip-planner';

test('listWorkflows and details describe the quickstart workflow', async () => {
  const workflows = await client.listWorkflows();
  // The quickstart also has the human-in-the-loop workflows (tests/js/workflows-hitl.mjs).
  assert.ok(Object.keys(workflows).includes(WORKFLOW), Object.keys(workflows).join());
  const w = workflows[WORKFLOW];
  assert.equal(w.name, WORKFLOW);
  assert.match(w.description, /Plans a day/);
  for (const id of ['fetch-weather', 'to-fahrenheit', 'pack-list', 'indoor-plan', 'outdoor-plan', 'summarize']) {
    assert.equal(w.steps[id].id, id, `step ${id}`);
  }
  assert.deepEqual(w.stepGraph.map((e) => e.type), ['step', 'parallel', 'mapping', 'conditional', 'step']);
  const details = await client.getWorkflow(WORKFLOW).details();
  assert.deepEqual(details.stepGraph, w.stepGraph);
  const { inputSchema, outputSchema } = await client.getWorkflow(WORKFLOW).getSchema();
  assert.deepEqual(inputSchema.required, ['city']);
  assert.ok(outputSchema.properties.summary);
});

test('createRun and startAsync run the workflow to its result', async () => {
  const workflow = client.getWorkflow(WORKFLOW);
  const run = await workflow.createRun();
  assert.match(run.runId, /^[0-9a-f-]{36}$/);
  const result = await run.startAsync({ inputData: { city: 'London' } });
  assert.equal(result.status, 'success');
  assert.equal(result.result.setting, 'indoor');
  assert.deepEqual(result.result.packing, ['water', 'umbrella', 'sunglasses']);
  assert.equal(result.steps['fetch-weather'].status, 'success');
  assert.deepEqual(result.steps['to-fahrenheit'].output, { fahrenheit: 53.6 });
  assert.match(result.steps['indoor-plan'].output.suggestion, /^You said: Suggest one indoor activity in London/);
  assert.equal(result.steps['outdoor-plan'], undefined);

  const stored = await workflow.runById(run.runId);
  assert.equal(stored.runId, run.runId);
  assert.equal(stored.workflowName, WORKFLOW);
  assert.equal(stored.status, 'success');
  assert.deepEqual(stored.result, result.result);
  assert.deepEqual(stored.payload, { city: 'London' });
});

test('stream delivers workflow events the client parses', async () => {
  const run = await client.getWorkflow(WORKFLOW).createRun({ runId: `js-stream-${Date.now()}` });
  const stream = await run.stream({ inputData: { city: 'Lisbon' } });
  const events = [];
  for await (const event of stream) events.push(event);
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'workflow-start');
  assert.equal(types.at(-1), 'workflow-finish');
  assert.ok(events.every((e) => e.runId === run.runId && e.from === 'WORKFLOW'));
  const started = events.filter((e) => e.type === 'workflow-step-start').map((e) => e.payload.id);
  assert.deepEqual(started.slice(0, 1), ['fetch-weather']);
  assert.ok(started.includes('outdoor-plan') && !started.includes('indoor-plan'), `${started}`);
  const finish = events.at(-1).payload;
  assert.equal(finish.workflowStatus, 'success');
  assert.equal(finish.result.setting, 'outdoor');
});

test('start runs in the background and runs() lists the runs newest first', async () => {
  const workflow = client.getWorkflow(WORKFLOW);
  const run = await workflow.createRun({ resourceId: 'js-user' });
  assert.deepEqual(await run.start({ inputData: { city: 'Oslo' } }), { message: 'Workflow run started' });
  let stored;
  for (let i = 0; i < 100; i += 1) {
    stored = await workflow.runById(run.runId);
    if (stored.status === 'success') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(stored.status, 'success');
  assert.equal(stored.resourceId, 'js-user');
  assert.equal(stored.result.packing.at(-1), 'coat');

  const all = await workflow.runs();
  assert.ok(all.total >= 3, `total ${all.total}`);
  assert.equal(all.runs[0].runId, run.runId);
  assert.equal(all.runs[0].snapshot.status, 'success');
  const mine = await workflow.runs({ resourceId: 'js-user', perPage: 5, page: 0 });
  assert.deepEqual(mine.runs.map((r) => r.runId), [run.runId]);
  assert.equal(mine.total, 1);
});

test('invalid workflow input and unknown runs are errors the client reports', async () => {
  const run = await client.getWorkflow(WORKFLOW).createRun();
  await assert.rejects(
    run.startAsync({ inputData: { town: 'Paris' } }),
    (e) => e instanceof MastraClientError && e.status === 400
      && e.body.error === 'Invalid request body' && e.body.issues[0].field === 'inputData.city',
  );
  await assert.rejects(
    client.getWorkflow(WORKFLOW).runById('no-such-run'),
    (e) => e instanceof MastraClientError && e.status === 404 && e.body.error === 'Workflow run not found',
  );
  await assert.rejects(
    client.getWorkflow('nope').details(),
    (e) => e instanceof MastraClientError && e.status === 404,
  );
});
