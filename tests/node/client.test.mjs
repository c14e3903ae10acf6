// Switchboard's wire contract from another ecosystem: Node's @grpc/grpc-js,
// loading the .proto files at run time (no generated code), calls the three
// services, reads a google.rpc.BadRequest out of an error's
// grpc-status-details-bin, and asks the standard grpc.health.v1 service.
//
// Run by tests/cross_language_test.cc with SWITCHBOARD_INTAKE,
// SWITCHBOARD_ROUTING and SWITCHBOARD_NOTIFICATION set to a running stack.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'tools/node/package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const includeDirs = [
  path.join(root, 'proto'),
  path.join(root, 'third_party/proto'),
  '/usr/share/gocode/src/github.com/gogo/googleapis',  // google/rpc (Debian)
];

const definition = protoLoader.loadSync(
  [
    'switchboard/intake/v1/intake.proto',
    'switchboard/routing/v1/routing.proto',
    'switchboard/notification/v1/notification.proto',
    'grpc/health/v1/health.proto',
  ],
  { includeDirs, keepCase: true, enums: String, longs: String, defaults: false, oneofs: true },
);
const api = grpc.loadPackageDefinition(definition);

// google.rpc.Status and BadRequest, to decode error details.
const rpc = new protobuf.Root();
rpc.resolvePath = (origin, target) => {
  for (const dir of includeDirs) {
    const candidate = path.join(dir, target);
    try {
      require('node:fs').accessSync(candidate);
      return candidate;
    } catch {}
  }
  return target;
};
rpc.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const RpcStatus = rpc.lookupType('google.rpc.Status');
const BadRequest = rpc.lookupType('google.rpc.BadRequest');

function env(name) {
  const value = process.env[name];
  assert.ok(value, `${name} must name a running service`);
  return value;
}

const targets = {
  intake: env('SWITCHBOARD_INTAKE'),
  routing: env('SWITCHBOARD_ROUTING'),
  notification: env('SWITCHBOARD_NOTIFICATION'),
};
const insecure = grpc.credentials.createInsecure();
const intake = new api.switchboard.intake.v1.IntakeService(targets.intake, insecure);
const routing = new api.switchboard.routing.v1.RoutingService(targets.routing, insecure);
const notification = new api.switchboard.notification.v1.NotificationService(
  targets.notification, insecure);

const deadline = () => ({ deadline: Date.now() + 10_000 });

// Promisified unary call: resolves with the response, rejects with the
// ServiceError (code, details, metadata).
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, new grpc.Metadata(), deadline(), (error, response) =>
      error ? reject(error) : resolve(response));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function newIssue(overrides = {}) {
  return {
    title: 'Blob writes fail with 503',
    customer: { id: 'contoso', tier: 'CUSTOMER_TIER_STRATEGIC' },
    product: 'azure-storage',
    severity: 'SEVERITY_CRITICAL',
    source: 'node-crm',
    submitter: 'jane@contoso.com',
    ...overrides,
  };
}

const runId = `${process.pid}-${Date.now()}`;

describe('grpc.health.v1 (the standard health service)', () => {
  for (const [service, target] of Object.entries(targets)) {
    it(`${service} is SERVING, overall and by its service name`, async () => {
      const health = new api.grpc.health.v1.Health(target, insecure);
      const overall = await call(health, 'Check', { service: '' });
      assert.equal(overall.status, 'SERVING');
      const fullName = `switchboard.${service}.v1.${service[0].toUpperCase()}${service.slice(1)}Service`;
      const named = await call(health, 'Check', { service: fullName });
      assert.equal(named.status, 'SERVING');
      await assert.rejects(call(health, 'Check', { service: 'no.such.Service' }),
        (error) => error.code === grpc.status.NOT_FOUND);
      health.close();
    });
  }
});

describe('IntakeService', () => {
  it('accepts an issue, routes it, and a team subscriber hears of it', async () => {
    const stream = notification.Subscribe({ subscriber: 'sources/node-crm' },
      new grpc.Metadata(), { deadline: Date.now() + 30_000 });
    const received = new Promise((resolve, reject) => {
      stream.on('data', (n) => resolve(n));
      stream.on('error', (error) => { if (error.code !== grpc.status.CANCELLED) reject(error); });
    });

    const created = await call(intake, 'SubmitIssue',
      { request_id: `node-${runId}-1`, issue: newIssue() });
    assert.match(created.name, /^issues\/[0-9a-z]{26}$/);
    assert.ok(['STATE_RECEIVED', 'STATE_ROUTED'].includes(created.state));

    // The same request id gives back the same issue.
    const again = await call(intake, 'SubmitIssue',
      { request_id: `node-${runId}-1`, issue: newIssue() });
    assert.equal(again.name, created.name);

    const first = await received;
    assert.equal(first.event.type, 'EVENT_TYPE_RECEIVED');
    assert.equal(first.event.issue.name, created.name);
    assert.ok(BigInt(first.sequence) >= 1n);  // uint64 arrives as a string
    stream.cancel();

    let issue = created;
    for (let i = 0; i < 200 && issue.state !== 'STATE_ROUTED'; i++) {
      await sleep(50);
      issue = await call(intake, 'GetIssue', { name: created.name });
    }
    assert.equal(issue.state, 'STATE_ROUTED');
    assert.equal(issue.assignment.target.team, 'storage-oncall');
    assert.ok(issue.ack_deadline.seconds > 0);  // a google.protobuf.Timestamp

    const list = await call(intake, 'ListIssues', { filter: 'source=node-crm', page_size: 10 });
    assert.ok(list.issues.some((i) => i.name === created.name));
  });

  it('explains an invalid issue with a google.rpc.BadRequest', async () => {
    const error = await call(intake, 'SubmitIssue', {
      request_id: `node-${runId}-2`,
      issue: newIssue({ title: '', customer: { id: 'Not An Id' } }),
    }).then(() => assert.fail('an invalid issue was accepted'), (e) => e);
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);

    const [bytes] = error.metadata.get('grpc-status-details-bin');
    assert.ok(Buffer.isBuffer(bytes), 'the error carries grpc-status-details-bin');
    const status = RpcStatus.decode(bytes);
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    const detail = status.details.find(
      (any) => any.type_url === 'type.googleapis.com/google.rpc.BadRequest');
    assert.ok(detail, 'a BadRequest detail is attached');
    const badRequest = BadRequest.decode(detail.value);
    const fields = badRequest.field_violations.map((v) => v.field);
    assert.ok(fields.includes('issue.title'), `violations: ${fields}`);
    assert.ok(fields.includes('issue.customer.id'), `violations: ${fields}`);
    for (const violation of badRequest.field_violations) assert.ok(violation.description);
  });

  it('answers NOT_FOUND and INVALID_ARGUMENT for names', async () => {
    await assert.rejects(call(intake, 'GetIssue', { name: 'issues/01m845ftndck0dxx21bpyz3cmm' }),
      (e) => e.code === grpc.status.NOT_FOUND);
    await assert.rejects(call(intake, 'GetIssue', { name: 'tickets/1' }),
      (e) => e.code === grpc.status.INVALID_ARGUMENT);
  });
});

describe('IntakeService problems', () => {
  it('groups issues of one product and region into one problem', async () => {
    // A region of this run's own, so that the sample's regional-outage
    // policy opens a fresh problem.
    const region = `node-${runId}`;
    const names = [];
    for (const customer of ['contoso', 'fabrikam']) {
      const created = await call(intake, 'SubmitIssue', {
        request_id: `node-${runId}-problem-${customer}`,
        issue: newIssue({ customer: { id: customer, tier: 'CUSTOMER_TIER_STRATEGIC' }, region }),
      });
      names.push(created.name);
    }
    let issues = [];
    for (let i = 0; i < 200; i++) {
      issues = await Promise.all(names.map((name) => call(intake, 'GetIssue', { name })));
      if (issues.every((issue) => issue.problem)) break;
      await sleep(50);
    }
    assert.ok(issues.every((issue) => issue.problem), 'both issues were linked');
    assert.equal(issues[0].problem, issues[1].problem);

    const problem = await call(intake, 'GetProblem', { name: issues[0].problem });
    assert.match(problem.name, /^problems\/[0-9a-z]{26}$/);
    assert.equal(problem.state, 'PROBLEM_STATE_OPEN');
    assert.equal(problem.linked_issue_count, 2);
    assert.equal(problem.affected_customer_count, 2);
    assert.equal(problem.correlation_policy, 'regional-outage');
    assert.deepEqual([...problem.linked_issues].sort(), [...names].sort());
    // Any strategic customer crosses the sample policy's threshold.
    assert.equal(problem.escalated, true);

    const linked = await call(intake, 'ListIssues', { filter: `problem=${problem.name}` });
    assert.equal(linked.issues.length, 2);
    const open = await call(intake, 'ListProblems',
      { filter: 'state=PROBLEM_STATE_OPEN AND product=azure-storage', page_size: 1000 });
    assert.ok(open.problems.some((p) => p.name === problem.name));
  });

  it('refuses a bad problem filter with a google.rpc.BadRequest', async () => {
    const error = await call(intake, 'ListProblems', { filter: 'severity=SEVERITY_HIGH' })
      .then(() => assert.fail('a bad filter was accepted'), (e) => e);
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    const [bytes] = error.metadata.get('grpc-status-details-bin');
    const detail = RpcStatus.decode(bytes).details.find(
      (any) => any.type_url === 'type.googleapis.com/google.rpc.BadRequest');
    const fields = BadRequest.decode(detail.value).field_violations.map((v) => v.field);
    assert.deepEqual(fields, ['filter']);
    await assert.rejects(call(intake, 'GetProblem', { name: 'problems/01m845ftndck0dxx21bpyz3cmm' }),
      (e) => e.code === grpc.status.NOT_FOUND);
  });

  it('names the unknown problem of a LinkIssue in its field violations', async () => {
    const issue = await call(intake, 'SubmitIssue', { issue: newIssue(), request_id: `node-${runId}-link` });
    const error = await call(intake, 'LinkIssue',
      { name: issue.name, problem: 'problems/01m845ftndck0dxx21bpyz3cmm', actor: 'node-test' })
      .then(() => assert.fail('a link to an unknown problem was accepted'), (e) => e);
    assert.equal(error.code, grpc.status.NOT_FOUND);
    const [bytes] = error.metadata.get('grpc-status-details-bin');
    const detail = RpcStatus.decode(bytes).details.find(
      (any) => any.type_url === 'type.googleapis.com/google.rpc.BadRequest');
    const fields = BadRequest.decode(detail.value).field_violations.map((v) => v.field);
    assert.deepEqual(fields, ['problem']);
  });
});

// The BadRequest field names of a failed call.
function violatedFields(error) {
  const [bytes] = error.metadata.get('grpc-status-details-bin');
  const detail = RpcStatus.decode(bytes).details.find(
    (any) => any.type_url === 'type.googleapis.com/google.rpc.BadRequest');
  return BadRequest.decode(detail.value).field_violations.map((v) => v.field);
}

describe('IntakeService customer lifecycle', () => {
  it('waits on the customer, resolves, reopens and takes a rating', async () => {
    const created = await call(intake, 'SubmitIssue',
      { issue: newIssue({ title: 'Node: wait, reopen, rate' }), request_id: `node-${runId}-csat` });
    let issue = created;
    for (let i = 0; i < 200 && issue.state !== 'STATE_ROUTED'; i++) {
      await sleep(50);
      issue = await call(intake, 'GetIssue', { name: created.name });
    }
    assert.equal(issue.state, 'STATE_ROUTED');
    const act = (method, fields) =>
      call(intake, method, { name: created.name, actor: 'node-test', ...fields });

    issue = await act('WaitOnCustomer', { question: 'Which storage account?' });
    assert.equal(issue.state, 'STATE_WAITING_ON_CUSTOMER');
    assert.equal(issue.sla.question, 'Which storage account?');
    issue = await act('RespondToIssue', { response: 'contosoprod', request_id: `node-${runId}-answer` });
    assert.equal(issue.state, 'STATE_ROUTED');
    assert.ok(issue.sla.paused_duration);  // a google.protobuf.Duration

    // A rating before the resolution is refused.
    const early = await act('RateIssue', { rating: 5 }).then(
      () => assert.fail('an open issue was rated'), (e) => e);
    assert.equal(early.code, grpc.status.FAILED_PRECONDITION);

    issue = await act('ResolveIssue', { resolution: 'rebalanced the partition' });
    assert.equal(issue.state, 'STATE_RESOLVED');
    assert.ok(issue.resolve_time.seconds > 0);
    issue = await act('ReopenIssue', { reason: 'still failing', request_id: `node-${runId}-reopen` });
    assert.equal(issue.state, 'STATE_ROUTED');
    assert.equal(issue.sla.reopen_count, 1);
    assert.equal(issue.assignment.target.team, 'storage-oncall');
    // Retried with its request_id: the first outcome, not a second reopen.
    const retried = await act('ReopenIssue',
      { reason: 'still failing', request_id: `node-${runId}-reopen` });
    assert.equal(retried.etag, issue.etag);

    issue = await act('ResolveIssue', { resolution: 'fixed for good' });
    const bad = await act('RateIssue', { rating: 9 }).then(
      () => assert.fail('a rating of 9 was accepted'), (e) => e);
    assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(violatedFields(bad), ['rating']);
    issue = await act('RateIssue', { rating: 4, comment: 'quick once they knew the account' });
    assert.equal(issue.sla.rating, 4);
    assert.equal(issue.state, 'STATE_RESOLVED');
    const rated = await call(intake, 'ListIssues', { filter: 'rating=4 AND source=node-crm' });
    assert.ok(rated.issues.some((i) => i.name === created.name));
  });
});

describe('RoutingService', () => {
  it('explains a decision rule by rule', async () => {
    const decision = await call(routing, 'RouteIssue', { issue: newIssue(), explain: true });
    assert.equal(decision.rule, 'strategic-critical-storage');
    assert.equal(decision.target.team, 'storage-oncall');
    const matched = decision.trace.filter((t) => t.matched).map((t) => t.rule);
    assert.deepEqual(matched, ['strategic-critical-storage']);
    assert.ok(Number(decision.ack_within.seconds) > 0);  // a google.protobuf.Duration
  });

  it('returns the active ruleset', async () => {
    const ruleset = await call(routing, 'GetRuleset', {});
    assert.ok(Number(ruleset.revision) >= 1);
    assert.ok(ruleset.rules.length > 10);
  });
});

after(() => {
  intake.close();
  routing.close();
  notification.close();
});
