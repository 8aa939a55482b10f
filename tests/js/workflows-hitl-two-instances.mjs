// Two quickstart instances on one PostgreSQL database (MASTRA_URL and MASTRA_URL_2), driven
// through the official @mastra/client-js: a run suspended through one is resumed through the
// other, resumes sent through both at once let exactly one through, and a suspended run
// cancelled through one cannot be resumed through the other. Run by
// tests/tests/workflows_hitl_client_js_postgres.rs, which names this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MastraClient, MastraClientError } from '@mastra/client-js';

const [first, second] = [process.env.MASTRA_URL, process.env.MASTRA_URL_2];
assert.ok(first && second, 'MASTRA_URL and MASTRA_URL_2 must point at two quickstarts');
const one = new MastraClient({ baseUrl: first, retries: 0 });
const two = new MastraClient({ baseUrl: second, retries: 0 });
const APPROVAL = 'expense-approval';
const STEP = 'request-approval';

async function suspendedOn(client) {
  const run = await client.getWorkflow(APPROVAL).createRun();
  const result = await run.startAsync({ inputData: { item: 'desk', amount: 300 } });
  assert.equal(result.status, 'suspended');
  return run.runId;
}

test('suspended through one instance, resumed through the other', async () => {
  const runId = await suspendedOn(one);
  const attached = await two.getWorkflow(APPROVAL).createRun({ runId });
  const result = await attached.resumeAsync({ step: STEP, resumeData: { approved: true, approver: 'two' } });
  assert.equal(result.status, 'success');
  assert.deepEqual(result.result, { status: 'approved', message: '300 EUR for desk approved by two' });
  assert.equal((await one.getWorkflow(APPROVAL).runById(runId)).status, 'success');
});

test('resumes sent through both instances at once: exactly one goes ahead', async () => {
  for (let round = 0; round < 5; round++) {
    const runId = await suspendedOn(one);
    const runs = await Promise.all([one, two].map((c) => c.getWorkflow(APPROVAL).createRun({ runId })));
    const outcomes = await Promise.allSettled(runs.map((run, i) => run.resumeAsync({
      step: STEP, resumeData: { approved: i === 0, approver: `instance-${i + 1}` },
    })));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(won.length, 1, JSON.stringify(outcomes));
    assert.ok(lost[0].reason instanceof MastraClientError && lost[0].reason.status === 409);
    const stored = await two.getWorkflow(APPROVAL).runById(runId);
    assert.deepEqual(stored.result, won[0].value.result);
  }
});

test('cancelled through one instance, refused through the other', async () => {
  const runId = await suspendedOn(two);
  const run = await one.getWorkflow(APPROVAL).createRun({ runId });
  assert.equal((await run.cancel()).message, 'Workflow run cancelled');
  const attached = await two.getWorkflow(APPROVAL).createRun({ runId });
  await assert.rejects(
    attached.resumeAsync({ step: STEP, resumeData: { approved: true, approver: 'late' } }),
    (e) => e instanceof MastraClientError && e.status === 409,
  );
  assert.equal((await two.getWorkflow(APPROVAL).runById(runId)).status, 'canceled');
});
