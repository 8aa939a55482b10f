// Two quickstart instances sharing one PostgreSQL database, behind nginx (round robin), driven
// with the official @mastra/client-js, unchanged, through nginx: agents with memory, threads,
// workflows. Every response names the instance that served it (nginx's X-Upstream header);
// the tests assert that consecutive requests alternate between the two instances and that the
// data is the same whichever instance answers (and when read from each instance directly).
//
// Run by tests/tests/load_balanced.rs (`node --test load_balanced.mjs`), which starts the
// instances and nginx and sets:
//   MASTRA_URL        nginx's URL
//   MASTRA_INSTANCES  the instances' own URLs, comma-separated
// The file name has no `.test.` on purpose: the plain `node --test` run of this directory
// (tests/tests/agents_client_js.rs, one quickstart, no nginx) must not pick it up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MastraClient, MastraClientError } from '@mastra/client-js';

const baseUrl = process.env.MASTRA_URL;
assert.ok(baseUrl, 'MASTRA_URL must point at nginx in front of two quickstarts (see tests/tests/load_balanced.rs)');
const instanceUrls = (process.env.MASTRA_INSTANCES ?? '').split(',').filter(Boolean);
assert.equal(instanceUrls.length, 2, 'MASTRA_INSTANCES must hold the two instances\' URLs');
// `$upstream_addr` is `host:port`.
const upstreams = instanceUrls.map((url) => new URL(url).host);

// The instance that served each request made through nginx, in order.
const served = [];
const recordingFetch = async (input, init) => {
  const response = await fetch(input, init);
  const upstream = response.headers.get('x-upstream');
  assert.ok(upstreams.includes(upstream), `${init?.method ?? 'GET'} ${input} was served by ${upstream}, not one of ${upstreams}`);
  served.push(upstream);
  return response;
};

const client = new MastraClient({ baseUrl, retries: 0, fetch: recordingFetch });
const direct = instanceUrls.map((url) => new MastraClient({ baseUrl: url, retries: 0 }));
const AGENT = 'my-agent';
const WORKFLOW = 'trip-planner';
const agent = client.getAgent(AGENT);

// Runs `request` twice through nginx: the two answers come from the two instances and are equal.
async function sameFromBoth(what, request) {
  const mark = served.length;
  const first = await request();
  const second = await request();
  const [a, b] = served.slice(mark);
  assert.equal(served.length, mark + 2, `${what}: one request each`);
  assert.notEqual(a, b, `${what}: both reads went to ${a}`);
  assert.deepEqual(second, first, `${what} differs between ${a} and ${b}`);
  return first;
}

// The instances that served the requests made since `mark`.
const servedSince = (mark) => served.slice(mark);

test('requests through nginx alternate between the two instances', async () => {
  const mark = served.length;
  for (let i = 0; i < 6; i += 1) {
    const agents = await client.listAgents();
    assert.deepEqual(Object.keys(agents), [AGENT]);
  }
  const seen = servedSince(mark);
  for (let i = 1; i < seen.length; i += 1) {
    assert.notEqual(seen[i], seen[i - 1], `requests ${i - 1} and ${i} both went to ${seen[i]}: ${seen}`);
  }
  assert.deepEqual(new Set(seen), new Set(upstreams));
});

test('a thread made on one instance is found on the other, and on both directly', async () => {
  const resourceId = `lb-user-${Date.now()}`;
  const mark = served.length;
  const created = await client.createMemoryThread({
    agentId: AGENT, resourceId, title: 'Balanced', metadata: { origin: 'nginx' },
  });
  const thread = client.getMemoryThread({ threadId: created.id, agentId: AGENT });
  const got = await thread.get();
  assert.notEqual(servedSince(mark)[1], servedSince(mark)[0], 'created and read on different instances');
  assert.equal(got.id, created.id);
  assert.equal(got.title, 'Balanced');
  assert.deepEqual(got.metadata, { origin: 'nginx' });

  const listed = await sameFromBoth('thread listing', () => client.listMemoryThreads({ resourceId, agentId: AGENT }));
  assert.equal(listed.total, 1);
  assert.equal(listed.threads[0].id, created.id);
  for (const each of direct) {
    const own = await each.getMemoryThread({ threadId: created.id, agentId: AGENT }).get();
    assert.deepEqual(own, got);
  }

  const renamed = await thread.update({ title: 'Renamed' });
  assert.equal(renamed.title, 'Renamed');
  const reread = await sameFromBoth('renamed thread', () => thread.get());
  assert.equal(reread.title, 'Renamed');

  await thread.delete();
  for (const each of [client, client, ...direct]) {
    await assert.rejects(
      each.getMemoryThread({ threadId: created.id, agentId: AGENT }).get(),
      (e) => e instanceof MastraClientError && e.status === 404,
    );
  }
});

test('generate with memory: turns on alternating instances share one history', async () => {
  const resourceId = `lb-memory-${Date.now()}`;
  const created = await client.createMemoryThread({ agentId: AGENT, resourceId, title: 'Memory' });
  const memory = { thread: created.id, resource: resourceId };

  const mark = served.length;
  const first = await agent.generate('Remember the lighthouse', { memory });
  const second = await agent.generate('Still there?', { memory });
  const [firstBy, secondBy] = servedSince(mark);
  assert.notEqual(firstBy, secondBy, 'the two turns ran on different instances');
  assert.equal(first.text, 'You said: Remember the lighthouse');
  assert.equal(second.text, 'You said: Still there?');

  // The second turn's prompt held the first turn, written by the other instance: the offline
  // model counts every word of its prompt, so it read more than the same turn on a new thread.
  const fresh = await client.createMemoryThread({ agentId: AGENT, resourceId, title: 'Fresh' });
  const alone = await agent.generate('Still there?', { memory: { thread: fresh.id, resource: resourceId } });
  assert.ok(
    second.usage.inputTokens > alone.usage.inputTokens,
    `history from the other instance was in the prompt: ${second.usage.inputTokens} vs ${alone.usage.inputTokens}`,
  );

  const thread = client.getMemoryThread({ threadId: created.id, agentId: AGENT });
  const page = await sameFromBoth('messages', () => thread.listMessages({ perPage: false }));
  assert.equal(page.total, 4);
  assert.deepEqual(page.messages.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);
  assert.equal(page.messages[0].content.parts[0].text, 'Remember the lighthouse');
  assert.equal(page.messages[1].content.content, 'You said: Remember the lighthouse');
  assert.equal(page.messages[2].content.parts[0].text, 'Still there?');
  assert.equal(page.messages[3].content.content, 'You said: Still there?');
  for (const each of direct) {
    const own = await each.getMemoryThread({ threadId: created.id, agentId: AGENT }).listMessages({ perPage: false });
    assert.deepEqual(own, page);
  }

  const threads = await sameFromBoth('threads of the resource', () => client.listMemoryThreads({ resourceId, agentId: AGENT }));
  assert.deepEqual(threads.threads.map((t) => t.id).sort(), [created.id, fresh.id].sort());
});

test('an agent stream through nginx arrives chunk by chunk and is remembered', async () => {
  const resourceId = `lb-stream-${Date.now()}`;
  const created = await client.createMemoryThread({ agentId: AGENT, resourceId, title: 'Stream' });
  const response = await agent.stream('Stream through the balancer', { memory: { thread: created.id, resource: resourceId } });
  const chunks = [];
  await response.processDataStream({ onChunk: async (chunk) => { chunks.push(chunk); } });
  const types = chunks.map((c) => c.type);
  assert.equal(types[0], 'start');
  assert.equal(types.at(-1), 'finish');
  assert.ok(types.filter((t) => t === 'text-delta').length > 1, 'streamed token by token');
  const text = chunks.filter((c) => c.type === 'text-delta').map((c) => c.payload.text).join('');
  assert.equal(text, 'You said: Stream through the balancer');

  const page = await sameFromBoth('streamed turn', () => client.getMemoryThread({ threadId: created.id, agentId: AGENT }).listMessages({ perPage: false }));
  assert.deepEqual(page.messages.map((m) => m.role), ['user', 'assistant']);
  assert.equal(page.messages[1].content.content, 'You said: Stream through the balancer');
});

test('a workflow run created on one instance starts on the other and reads the same on both', async () => {
  const workflow = client.getWorkflow(WORKFLOW);
  const mark = served.length;
  const run = await workflow.createRun({ resourceId: 'lb-runs' });
  const result = await run.startAsync({ inputData: { city: 'London' } });
  const [createdBy, startedBy] = servedSince(mark);
  assert.notEqual(createdBy, startedBy, 'created and started on different instances');
  assert.equal(result.status, 'success');
  assert.equal(result.result.setting, 'indoor');
  assert.deepEqual(result.steps['to-fahrenheit'].output, { fahrenheit: 53.6 });

  const stored = await sameFromBoth('run', () => workflow.runById(run.runId));
  assert.equal(stored.runId, run.runId);
  assert.equal(stored.status, 'success');
  assert.equal(stored.resourceId, 'lb-runs');
  assert.deepEqual(stored.result, result.result);
  assert.deepEqual(stored.payload, { city: 'London' });
  for (const each of direct) {
    assert.deepEqual(await each.getWorkflow(WORKFLOW).runById(run.runId), stored);
  }
});

test('a run started in the background is followed to its end from both instances', async () => {
  const workflow = client.getWorkflow(WORKFLOW);
  const resourceId = `lb-background-${Date.now()}`;
  const run = await workflow.createRun({ resourceId });
  assert.deepEqual(await run.start({ inputData: { city: 'Oslo' } }), { message: 'Workflow run started' });
  const mark = served.length;
  let stored;
  const deadline = Date.now() + 30_000;
  do {
    stored = await workflow.runById(run.runId);
    if (stored.status === 'success') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (Date.now() < deadline);
  assert.equal(stored.status, 'success', `the run finished within 30 s: ${JSON.stringify(stored)}`);
  assert.equal(stored.result.packing.at(-1), 'coat');
  // Every poll alternated: the run's progress was read from both instances.
  const polls = servedSince(mark);
  if (polls.length > 1) assert.deepEqual(new Set(polls), new Set(upstreams));

  const listed = await sameFromBoth('runs of the resource', () => workflow.runs({ resourceId }));
  assert.deepEqual(listed.runs.map((r) => r.runId), [run.runId]);
  assert.equal(listed.total, 1);
  assert.equal(listed.runs[0].snapshot.status, 'success');
});

test('a workflow stream through nginx delivers every event, and the run is stored for both', async () => {
  const workflow = client.getWorkflow(WORKFLOW);
  const run = await workflow.createRun({ runId: `lb-stream-${Date.now()}` });
  const stream = await run.stream({ inputData: { city: 'Lisbon' } });
  const events = [];
  for await (const event of stream) events.push(event);
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'workflow-start');
  assert.equal(types.at(-1), 'workflow-finish');
  assert.ok(events.every((e) => e.runId === run.runId));
  assert.equal(events.at(-1).payload.workflowStatus, 'success');
  assert.equal(events.at(-1).payload.result.setting, 'outdoor');

  const stored = await sameFromBoth('streamed run', () => workflow.runById(run.runId));
  assert.equal(stored.status, 'success');
  assert.deepEqual(stored.result, events.at(-1).payload.result);

  // Observed afterwards from both instances: the same events, ending with the same result.
  const observed = await sameFromBoth('observed run', async () => {
    const replay = [];
    for await (const event of await run.observe()) replay.push(event);
    return replay;
  });
  assert.equal(observed[0].type, 'workflow-start');
  assert.equal(observed.at(-1).type, 'workflow-finish');
  assert.deepEqual(observed.at(-1).payload.result, events.at(-1).payload.result);
});

test('every request of this file alternated between the two instances', () => {
  assert.ok(served.length > 20, `${served.length} requests`);
  for (let i = 1; i < served.length; i += 1) {
    assert.notEqual(served[i], served[i - 1], `requests ${i - 1} and ${i} both went to ${served[i]}`);
  }
  const counts = upstreams.map((u) => served.filter((s) => s === u).length);
  assert.ok(Math.abs(counts[0] - counts[1]) <= 1, `requests per instance: ${counts}`);
});
