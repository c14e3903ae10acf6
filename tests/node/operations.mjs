// Shared by the operations tests: the dashboard's and the alerts'
// PromQL, and the metric names an expression reads.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const require = createRequire(path.join(root, 'tools/node/package.json'));
export const YAML = require('yaml');

export function readDashboard() {
  return JSON.parse(fs.readFileSync(path.join(root, 'deploy/grafana/switchboard.json'), 'utf8'));
}

export function readAlerts() {
  return YAML.parse(fs.readFileSync(path.join(root, 'deploy/prometheus/alerts.yaml'), 'utf8'));
}

// Every panel of the dashboard, rows' nested panels included.
export function allPanels(dashboard) {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

// The dashboard's queries as {panel, refId, expr}, with Grafana's variables
// replaced by what Prometheus itself accepts.
export function dashboardQueries(dashboard) {
  const queries = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      queries.push({ panel: panel.title, refId: target.refId, expr: substituteVariables(target.expr) });
    }
  }
  return queries;
}

export function substituteVariables(expr) {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$business_group', '.*');
}

// The alerting rules as {alert, expr}.
export function alertQueries(alerts) {
  return alerts.groups.flatMap((group) => group.rules.map((rule) => ({ alert: rule.alert, expr: rule.expr })));
}

const keywords = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless',
  'offset', 'inf', 'nan', 'atan2',
]);

// The metric names an expression reads: identifiers left once strings,
// label matchers, ranges, grouping clauses, numbers and durations are taken
// out, and that are neither functions (followed by "(") nor keywords.
export function metricNames(expr) {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?(ms|s|m|h|d|w|y)?\b/gi, ' ');
  const names = new Set();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    const [whole] = match;
    if (match[1] !== undefined) continue;  // a function or an aggregation
    if (keywords.has(whole.toLowerCase())) continue;
    names.add(whole);
  }
  return [...names];
}
