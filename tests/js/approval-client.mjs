// Drives the quickstart's tool that waits for approval (MASTRA_URL) with the official
// @mastra/client-js: agent.stream stops at tool-call-approval, listSuspendedRuns lists the run,
// approveToolCall deletes the item, declineToolCall keeps it, a second decision is refused.
// Not named *.test.mjs: tests/tests/agents_approval_client_js.rs runs it on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MastraClient, MastraClientError } from '@mastra/client-js';

const baseUrl = process.env.MASTRA_URL;
assert.ok(baseUrl, 'MASTRA_URL must point at a running quickstart');
const client = new MastraClient({ baseUrl, retries: 0 });
const agent = client.getAgent('my-agent');
const TOOL = 'delete-item';

async function chunksOf(response) {
  const chunks = [];
  await response.processDataStream({ onChunk: async (chunk) => { chunks.push(chunk); } });
  return chunks;
}

async function createItem(name) {
  const response = await fetch(`${baseUrl}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, price: 1.5 }),
  });
  assert.equal(response.status, 201);
  return (await response.json()).id;
}

async function itemStatus(id) {
  return (await fetch(`${baseUrl}/items/${id}`)).status;
}

/// Asks the agent to delete `id`; answers the approval chunk after checking the stream.
async function askToDelete(id) {
  const chunks = await chunksOf(await agent.stream(`Please @${TOOL} {"itemId": "${id}"}`));
  const types = chunks.map((c) => c.type);
  assert.deepEqual(types, ['start', 'step-start', 'tool-call', 'tool-call-approval']);
  const approval = chunks[3];
  assert.equal(approval.payload.toolName, TOOL);
  assert.deepEqual(approval.payload.args, { itemId: id });
  assert.equal(approval.payload.toolCallId, chunks[2].payload.toolCallId);
  assert.ok(chunks.every((c) => c.runId === chunks[0].runId));
  return approval;
}

test('the agent listing says the tool requires approval', async () => {
  const details = await agent.details();
  assert.equal(details.tools[TOOL].requireApproval, true);
  assert.equal(details.tools['celsius-to-fahrenheit'].requireApproval, false);
});

test('approveToolCall runs the tool and streams the rest of the turn', async () => {
  const id = await createItem('Approved away');
  const approval = await askToDelete(id);
  assert.equal(await itemStatus(id), 200, 'nothing is deleted before the approval');

  const suspended = await agent.listSuspendedRuns();
  const run = suspended.runs.find((r) => r.runId === approval.runId);
  assert.ok(run, `run ${approval.runId} is listed: ${JSON.stringify(suspended)}`);
  assert.equal(run.status, 'suspended');
  assert.equal(run.toolCalls[0].toolCallId, approval.payload.toolCallId);
  assert.equal(run.toolCalls[0].requiresApproval, true);

  const chunks = await chunksOf(
    await agent.approveToolCall({ runId: approval.runId, toolCallId: approval.payload.toolCallId }),
  );
  const types = chunks.map((c) => c.type);
  assert.equal(types[0], 'start');
  assert.equal(types[1], 'tool-result');
  assert.equal(types.at(-1), 'finish');
  assert.equal(chunks[1].payload.result.deleted.id, id);
  const text = chunks.filter((c) => c.type === 'text-delta').map((c) => c.payload.text).join('');
  assert.match(text, new RegExp(`^${TOOL} returned \\{"deleted":`));
  assert.equal(await itemStatus(id), 404, 'the item is deleted');

  const after = await agent.listSuspendedRuns();
  assert.ok(!after.runs.some((r) => r.runId === approval.runId));
  await assert.rejects(
    agent.approveToolCall({ runId: approval.runId, toolCallId: approval.payload.toolCallId }),
    (e) => e instanceof MastraClientError && e.status === 409,
  );
});

test('declineToolCall keeps the item and tells the model', async () => {
  const id = await createItem('Kept');
  const approval = await askToDelete(id);
  const chunks = await chunksOf(
    await agent.declineToolCall({ runId: approval.runId, toolCallId: approval.payload.toolCallId }),
  );
  const denied = chunks.find((c) => c.type === 'tool-output-denied');
  assert.ok(denied, `tool-output-denied in ${chunks.map((c) => c.type)}`);
  assert.deepEqual(denied.payload.approval, {
    approved: false,
    reason: 'Tool call was not approved by the user',
  });
  assert.ok(!chunks.some((c) => c.type === 'tool-result'));
  assert.equal(chunks.at(-1).type, 'finish');
  const text = chunks.filter((c) => c.type === 'text-delta').map((c) => c.payload.text).join('');
  assert.equal(text, `${TOOL} returned "Tool call was not approved by the user"`);
  assert.equal(await itemStatus(id), 200, 'the item is kept');
  await assert.rejects(
    agent.declineToolCall({ runId: approval.runId, toolCallId: approval.payload.toolCallId }),
    (e) => e instanceof MastraClientError && e.status === 409,
  );
});

test('an unknown run is refused with 404', async () => {
  await assert.rejects(
    agent.approveToolCall({ runId: 'no-such-run', toolCallId: 'no-such-call' }),
    (e) => e instanceof MastraClientError && e.status === 404,
  );
});
