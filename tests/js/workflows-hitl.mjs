// Human in the loop, workflow half, driven through the official @mastra/client-js against a
// running quickstart (MASTRA_URL): suspend and resume (resumeAsync, resume, resumeStream),
// refusals, attaching with createRun({runId}), observe, and cancel with a starter's stream and
// an observer's stream both ending. Run by tests/tests/workflows_hitl_client_js.rs, which
// names this file (its name keeps it out of `node --test`'s default pattern, so
// client.test.mjs's suite is unchanged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MastraClient, MastraClientError } from '@mastra/client-js';

const baseUrl = process.env.MASTRA_URL;
assert.ok(baseUrl, 'MASTRA_URL must point at a running quickstart');
const client = new MastraClient({ baseUrl, retries: 0 });
const APPROVAL = 'expense-approval';
const SLOW = 'slow-report';
const STEP = 'request-approval';

async function suspendedRun() {
  const run = await client.getWorkflow(APPROVAL).createRun();
  const result = await run.startAsync({ inputData: { item: 'laptop', amount: 1200 } });
  assert.equal(result.status, 'suspended');
  assert.deepEqual(result.suspended, [[STEP]]);
  assert.equal(result.steps[STEP].status, 'suspended');
  assert.equal(result.steps[STEP].suspendPayload.reason, 'Approve an expense of 1200 EUR for laptop?');
  return run;
}

async function collect(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}

async function waitForStatus(workflowId, runId, status) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = await client.getWorkflow(workflowId).runById(runId);
    if (run.status === status) return run;
    assert.ok(Date.now() < deadline, `run ${runId} never reached ${status} (is ${run.status})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('details list the step suspend and resume schemas', async () => {
  const details = await client.getWorkflow(APPROVAL).details();
  const step = details.steps[STEP];
  assert.deepEqual(JSON.parse(step.resumeSchema).json.required, ['approved', 'approver']);
  assert.deepEqual(JSON.parse(step.suspendSchema).json.required, ['reason']);
});

test('startAsync suspends; resumeAsync finishes with the answer; a second resume is refused', async () => {
  const run = await suspendedRun();
  const stored = await client.getWorkflow(APPROVAL).runById(run.runId);
  assert.equal(stored.status, 'suspended');
  const result = await run.resumeAsync({ step: STEP, resumeData: { approved: true, approver: 'ada' } });
  assert.equal(result.status, 'success');
  assert.deepEqual(result.result, { status: 'approved', message: '1200 EUR for laptop approved by ada' });
  assert.deepEqual(result.steps[STEP].resumePayload, { approved: true, approver: 'ada' });
  await assert.rejects(
    run.resumeAsync({ step: STEP, resumeData: { approved: false, approver: 'eve' } }),
    (e) => e instanceof MastraClientError && e.status === 409
      && /not suspended/.test(e.body.error),
  );
});

test('bad resume data is a 400 with issues and the run stays suspended', async () => {
  const run = await suspendedRun();
  await assert.rejects(
    run.resumeAsync({ step: STEP, resumeData: { approved: 'maybe' } }),
    (e) => e instanceof MastraClientError && e.status === 400
      && /^Invalid resume data/.test(e.body.error)
      && e.body.issues.every((i) => i.field.startsWith('resumeData')),
  );
  assert.equal((await client.getWorkflow(APPROVAL).runById(run.runId)).status, 'suspended');
});

test('resume answers at once and the run finishes in the background', async () => {
  const run = await suspendedRun();
  const answer = await run.resume({ step: STEP, resumeData: { approved: false, approver: 'bob' } });
  assert.equal(answer.message, 'Workflow run resumed');
  const done = await waitForStatus(APPROVAL, run.runId, 'success');
  assert.equal(done.result.status, 'rejected');
});

test('resumeStream streams the resumed part to the end', async () => {
  const run = await suspendedRun();
  const events = await collect(await run.resumeStream({
    step: STEP, resumeData: { approved: true, approver: 'cy' },
  }));
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'workflow-start');
  assert.ok(types.includes('workflow-step-result'), types.join());
  const finish = events.at(-1);
  assert.equal(finish.type, 'workflow-finish');
  assert.equal(finish.payload.workflowStatus, 'success');
});

test('createRun with an existing runId attaches; observe replays a suspended run', async () => {
  const started = await suspendedRun();
  const attached = await client.getWorkflow(APPROVAL).createRun({ runId: started.runId });
  assert.equal(attached.runId, started.runId);
  assert.equal((await client.getWorkflow(APPROVAL).runById(started.runId)).status, 'suspended');
  const events = await collect(await attached.observe());
  assert.deepEqual(events.map((e) => e.type), [
    'workflow-start', 'workflow-step-start', 'workflow-step-suspended', 'workflow-finish',
  ]);
  assert.equal(events[2].payload.suspendPayload.reason, 'Approve an expense of 1200 EUR for laptop?');
  assert.equal(events[3].payload.workflowStatus, 'suspended');
  // The attached run resumes like the one that started it.
  const result = await attached.resumeAsync({ step: STEP, resumeData: { approved: true, approver: 'dee' } });
  assert.equal(result.status, 'success');
});

test('cancel stops a slow step and ends the starter and observer streams', async () => {
  const workflow = client.getWorkflow(SLOW);
  const run = await workflow.createRun();
  const starter = (await run.stream({ inputData: { topic: 'budget' } })).getReader();
  const first = await starter.read();
  assert.equal(first.value.type, 'workflow-start');
  const second = await starter.read();
  assert.equal(second.value.type, 'workflow-step-start');

  const observerClient = new MastraClient({ baseUrl, retries: 0 });
  const attached = await observerClient.getWorkflow(SLOW).createRun({ runId: run.runId });
  const observed = (await attached.observe()).getReader();
  assert.equal((await observed.read()).value.type, 'workflow-start');

  const cancelledAt = Date.now();
  const answer = await run.cancel();
  assert.equal(answer.message, 'Workflow run cancelled');
  const rest = async (reader) => {
    const events = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return events;
      events.push(value);
    }
  };
  const [starterRest, observerRest] = await Promise.all([rest(starter), rest(observed)]);
  for (const events of [starterRest, observerRest]) {
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(-2), ['workflow-canceled', 'workflow-finish'], types.join());
    assert.equal(events.at(-1).payload.workflowStatus, 'canceled');
  }
  const stored = await waitForStatus(SLOW, run.runId, 'canceled');
  assert.equal(stored.steps['compile-report'].status, 'canceled');
  // The step takes a minute unless stopped; it stopped well before.
  assert.ok(Date.now() - cancelledAt < 30_000, 'the run ended long before the slow step would have');
  // Cancelling again changes nothing.
  assert.equal((await run.cancel()).message, 'Workflow run cancelled');
  assert.equal((await workflow.runById(run.runId)).status, 'canceled');
});
