// Run by tests/observability_test.cc against a real Prometheus scraping a
// running stack: SWITCHBOARD_PROMETHEUS_URL is Prometheus, and
// SWITCHBOARD_EXPORTED_METRICS a file with every metric name the three
// services exported after a realistic run, one per line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';

import {
  alertQueries, dashboardQueries, metricNames, readAlerts, readDashboard,
} from './operations.mjs';

const prometheus = process.env.SWITCHBOARD_PROMETHEUS_URL;
const exportedFile = process.env.SWITCHBOARD_EXPORTED_METRICS;
assert.ok(prometheus && exportedFile, 'run by tests/observability_test.cc');
const exported = new Set(fs.readFileSync(exportedFile, 'utf8').split('\n').filter(Boolean));

const dashboard = dashboardQueries(readDashboard());
const alerts = alertQueries(readAlerts());

async function query(expr) {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = await response.json();
  assert.equal(body.status, 'success', `${expr}: ${body.error}`);
  return body.data.result;
}

// Polls `check` once a second until it passes (bounded).
async function eventually(check, seconds = 30) {
  for (let attempt = 1; ; ++attempt) {
    try {
      return await check();
    } catch (error) {
      if (attempt >= seconds) throw error;
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
    }
  }
}

describe('a real Prometheus scraping the stack', () => {
  it('scrapes all three services', async () => {
    await eventually(async () => {
      const up = await query('up');
      const jobs = up.filter((series) => series.value[1] === '1').map((series) => series.metric.job).sort();
      assert.deepEqual(jobs, ['switchboard-intake', 'switchboard-notification', 'switchboard-routing']);
    });
  });

  it('receives each service\'s own metrics, with the values the run produced', async () => {
    await eventually(async () => {
      const perJob = await query('count by (job) ({__name__=~"switchboard_.+"})');
      assert.equal(perJob.length, 3, JSON.stringify(perJob));
      for (const series of perJob) assert.ok(Number(series.value[1]) > 10, JSON.stringify(series));
      const [submitted] = await query('sum(switchboard_intake_issues_submitted_total)');
      assert.equal(submitted?.value[1], '5');
      const [defaults] = await query('sum(switchboard_routing_default_decisions_total)');
      assert.equal(defaults?.value[1], '2');
      const [deadLetters] = await query('sum(switchboard_notification_dead_letters)');
      assert.ok(Number(deadLetters?.value[1]) >= 1);
    });
  });

  it('loads every alerting rule and evaluates it without error', async () => {
    await eventually(async () => {
      const response = await fetch(`${prometheus}/api/v1/rules?type=alert`);
      const body = await response.json();
      const rules = body.data.groups.flatMap((group) => group.rules);
      assert.equal(rules.length, alerts.length);
      for (const rule of rules) {
        assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
        assert.ok(rule.lastEvaluation && !rule.lastEvaluation.startsWith('0001'), `${rule.name} never evaluated`);
      }
      // Dead letters are present: the alert is at least pending.
      const deadLetters = rules.find((rule) => rule.name === 'SwitchboardDeadLetters');
      assert.ok(['pending', 'firing'].includes(deadLetters.state), deadLetters.state);
      const down = rules.find((rule) => rule.name === 'SwitchboardServiceDown');
      assert.equal(down.state, 'inactive');
    });
  });
});

describe('the dashboard and the alerts against what the services export', () => {
  for (const [what, queries] of [['dashboard', dashboard], ['alerts', alerts]]) {
    it(`every metric the ${what} names is exported`, () => {
      const missing = new Set();
      for (const { expr } of queries) {
        for (const name of metricNames(expr)) if (!exported.has(name)) missing.add(name);
      }
      assert.deepEqual([...missing], []);
    });

    it(`every ${what} expression evaluates in Prometheus`, async () => {
      for (const { expr } of queries) await query(expr);
    });
  }

  it('the dashboard\'s queries return data for the customer-experience panels', async () => {
    await eventually(async () => {
      for (const { panel, expr } of dashboard) {
        if (!['Time to route', 'Issues submitted', 'Open issues', 'Dead letters', 'Default-route share'].includes(panel)) continue;
        const result = await query(expr);
        assert.ok(result.length > 0, `${panel}: ${expr} returned nothing`);
      }
    });
  });
});
