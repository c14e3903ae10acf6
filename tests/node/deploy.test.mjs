// What operators deploy, checked without a cluster: the Grafana dashboard,
// the alerting rules, the Kubernetes manifests of every overlay and the
// container images' Dockerfile. Run by CTest (deploy_test) after the build;
// SWITCHBOARD_BIN_DIR points at the built binaries.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import {
  YAML, alertQueries, allPanels, dashboardQueries, readAlerts, readDashboard, root,
} from './operations.mjs';

const binDir = process.env.SWITCHBOARD_BIN_DIR ?? path.join(root, 'build/bin');
const nodeModules = path.join(root, 'tools/node/node_modules');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (result.error) throw result.error;
  return result;
}

function assertRuns(command, args, options) {
  const result = run(command, args, options);
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function tempFile(name, content) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-test-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

// promtool parses expressions only inside rule files: each becomes a
// recording rule.
function checkPromql(queries) {
  const rules = {
    groups: [{
      name: 'parse-check',
      rules: queries.map((query, i) => ({ record: `parse_check:query_${i}`, expr: query.expr })),
    }],
  };
  return run('promtool', ['check', 'rules', tempFile('rules.yaml', YAML.stringify(rules))]);
}

describe('Grafana dashboard', () => {
  const dashboard = readDashboard();
  const panels = allPanels(dashboard);

  it('is an importable dashboard with a data source variable and unique panel ids', () => {
    assert.equal(dashboard.uid, 'switchboard-overview');
    assert.ok(dashboard.schemaVersion >= 36);
    const variables = dashboard.templating.list.map((variable) => variable.name);
    assert.deepEqual(variables, ['datasource', 'business_group']);
    const ids = panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids repeat');
    for (const panel of panels) {
      const { x, y, w, h } = panel.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, `${panel.title}: gridPos ${JSON.stringify(panel.gridPos)}`);
      if (panel.type === 'row') continue;
      assert.equal(panel.datasource.uid, '${datasource}', `${panel.title}: fixed data source`);
      assert.ok(panel.description, `${panel.title}: no description`);
      assert.ok(panel.targets.length > 0, `${panel.title}: no query`);
      for (const target of panel.targets) assert.ok(target.expr && target.refId, `${panel.title}: empty target`);
    }
  });

  it('has no two panels on the same cells', () => {
    const taken = new Map();
    for (const panel of panels) {
      const { x, y, w, h } = panel.gridPos;
      for (let row = y; row < y + h; ++row) {
        for (let column = x; column < x + w; ++column) {
          const key = `${row}:${column}`;
          assert.ok(!taken.has(key), `${panel.title} overlaps ${taken.get(key)}`);
          taken.set(key, panel.title);
        }
      }
    }
  });

  it('has the customer-experience row and rate, errors and duration for every service', () => {
    const rows = [];
    for (const panel of dashboard.panels) {
      if (panel.type === 'row') rows.push({ title: panel.title, panels: [] });
      else rows.at(-1).panels.push(panel);
    }
    assert.deepEqual(rows.map((row) => row.title),
      ['Customer experience', 'Intake service', 'Routing service', 'Notification service',
        'Broad issues', 'Customers kept happy']);
    const experience = rows[0].panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n');
    for (const metric of ['time_to_route_seconds', 'time_to_acknowledge_seconds', 'time_to_resolve_seconds']) {
      assert.match(experience, new RegExp(`histogram_quantile\\(0\\.\\d+, sum by \\(le, business_group\\) \\(rate\\(switchboard_intake_${metric}_bucket`));
    }
    for (const metric of ['sla_breaches_total', 'intake_backlog', 'notification_backlog', 'dead_letters', 'open_issues', 'default_decisions_total']) {
      assert.ok(experience.includes(metric), `customer-experience row lacks ${metric}`);
    }
    for (const [index, job] of [[1, 'switchboard-intake'], [2, 'switchboard-routing'], [3, 'switchboard-notification']]) {
      const titles = rows[index].panels.map((panel) => panel.title);
      for (const title of ['Up', 'Requests', 'Errors', 'Duration']) assert.ok(titles.includes(title), `${job}: no ${title}`);
      for (const panel of rows[index].panels.filter((p) => ['Requests', 'Errors', 'Duration'].includes(p.title))) {
        for (const target of panel.targets) assert.ok(target.expr.includes(`job="${job}"`), `${job} ${panel.title}: ${target.expr}`);
      }
    }
    // Broad issues: open problems, the customers they affect, and how fast
    // the fastest grows.
    const broad = rows[4].panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n');
    for (const metric of ['open_problems', 'open_problem_customers', 'open_problem_max_growth', 'problem_links_total']) {
      assert.ok(broad.includes(`switchboard_intake_${metric}`), `broad-issues row lacks ${metric}`);
    }
    // Customers kept happy: CSAT, the ratings, SLA attainment, pauses and
    // reopens.
    assert.equal(rows[5].title, 'Customers kept happy');
    const happy = rows[5].panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n');
    for (const metric of ['csat_ratings_total', 'csat_ratings_replaced_total', 'sla_outcomes_total', 'sla_paused_seconds_total', 'issues_reopened_total']) {
      assert.ok(happy.includes(`switchboard_intake_${metric}`), `customers-kept-happy row lacks ${metric}`);
    }
  });

  it('every query parses (promtool)', () => {
    const result = checkPromql(dashboardQueries(dashboard));
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('the parse check itself refuses a broken query', () => {
    const result = checkPromql([{ expr: 'sum(rate(switchboard_intake_issues_submitted_total[5m])' }]);
    assert.notEqual(result.status, 0);
  });
});

describe('alerting rules', () => {
  const alerts = readAlerts();
  const names = alertQueries(alerts).map((rule) => rule.alert);

  it('promtool check rules passes', () => {
    assertRuns('promtool', ['check', 'rules', 'deploy/prometheus/alerts.yaml']);
  });

  it('promtool test rules passes', () => {
    assertRuns('promtool', ['test', 'rules', 'deploy/prometheus/tests/alerts_test.yaml']);
  });

  it('cover what the operators asked for', () => {
    for (const name of [
      'SwitchboardServiceDown', 'SwitchboardHighErrorRatio', 'SwitchboardIntakeBacklogTooOld',
      'SwitchboardIntakeBacklogGrowing', 'SwitchboardSlaBreachRateHigh', 'SwitchboardDeadLetters',
      'SwitchboardDefaultRouteShareHigh', 'SwitchboardProblemGrowingFast',
    ]) {
      assert.ok(names.includes(name), `no alert ${name}`);
    }
    for (const group of alerts.groups) {
      for (const rule of group.rules) {
        assert.match(rule.labels.severity, /^(critical|warning)$/, rule.alert);
        assert.ok(rule.annotations.summary && rule.annotations.description, `${rule.alert}: annotations`);
      }
    }
  });

  it('every alert has a unit test where it fires and one where it stays quiet', () => {
    const tests = YAML.parse(fs.readFileSync(path.join(root, 'deploy/prometheus/tests/alerts_test.yaml'), 'utf8'));
    const fires = new Set();
    const quiet = new Set();
    for (const test of tests.tests) {
      for (const check of test.alert_rule_test ?? []) {
        (check.exp_alerts?.length ? fires : quiet).add(check.alertname);
      }
    }
    for (const name of names) {
      assert.ok(fires.has(name), `${name} never fires in alerts_test.yaml`);
      assert.ok(quiet.has(name), `${name} is never checked quiet in alerts_test.yaml`);
    }
  });
});

// kubernetes-models classes by apiVersion and kind, for validation against
// the Kubernetes (and Prometheus Operator) schemas.
async function modelFor(apiVersion, kind) {
  const module = apiVersion === 'monitoring.coreos.com/v1'
    ? '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/index.js'
    : `kubernetes-models/${apiVersion}/index.js`;
  const file = path.join(nodeModules, module);
  assert.ok(fs.existsSync(file), `no schema for ${apiVersion} (${file})`);
  const models = await import(pathToFileURL(file));
  assert.ok(models[kind], `no schema for ${apiVersion} ${kind}`);
  return models[kind];
}

function render(dir) {
  const output = assertRuns('kubectl', ['kustomize', dir]);
  return { output, objects: YAML.parseAllDocuments(output).map((document) => document.toJS()) };
}

const overlays = ['deploy/k8s/overlays/dev', 'deploy/k8s/overlays/production'];

// Whether a label selector (matchLabels, or a Service's selector) picks a pod
// with these labels.
function selects(matchLabels, labels) {
  return Object.entries(matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

// NetworkPolicy semantics, for pods of one namespace (the peers our
// policies name with a namespaceSelector are in it too): traffic from one
// pod to another's port passes when the policies that select the sender
// for egress, if any, allow it, and so do those that select the receiver
// for ingress. Named ports are our containers' names.
const portNumbers = { grpc: 50051, metrics: 9090, health: 8086 };
function permits(policies, from, to, port) {
  const portMatches = (ports) => !ports || ports.some((entry) => entry.port === undefined
    || entry.port === port || portNumbers[entry.port] === port);
  const peerMatches = (peers, labels) => !peers || peers.some((peer) => peer.ipBlock !== undefined
    || (peer.podSelector !== undefined && selects(peer.podSelector.matchLabels, labels)));
  const direction = (labels, type, rules, peerKey, other) => {
    const applying = policies.filter((policy) => selects(policy.spec.podSelector.matchLabels, labels)
      && policy.spec.policyTypes.includes(type));
    return applying.length === 0 || applying.some((policy) => (policy.spec[rules] ?? [])
      .some((rule) => peerMatches(rule[peerKey], other) && portMatches(rule.ports)));
  };
  return direction(from, 'Egress', 'egress', 'to', to) && direction(to, 'Ingress', 'ingress', 'from', from);
}

describe('Kubernetes manifests', () => {
  it('the copies of the ruleset, the alerts and the dashboard are up to date', () => {
    assertRuns('scripts/generate-deploy.sh', ['--check']);
  });

  it('the validator refuses a broken object', async () => {
    const StatefulSet = await modelFor('apps/v1', 'StatefulSet');
    const broken = new StatefulSet({ metadata: { name: 'x' }, spec: { replicas: 'one', selector: {}, serviceName: 'x', template: {} } });
    assert.throws(() => broken.validate(), /replicas/);
  });

  it('yamllint passes on the sources', () => {
    assertRuns('yamllint', ['--strict', '-c', '.yamllint.yaml', 'deploy', 'config', '.yamllint.yaml']);
  });

  for (const overlay of overlays) {
    describe(overlay, () => {
      const { output, objects } = render(overlay);
      const find = (kind, name) => objects.find((object) => object.kind === kind && object.metadata.name === name);
      const statefulSets = objects.filter((object) => object.kind === 'StatefulSet');
      const deployments = objects.filter((object) => object.kind === 'Deployment');
      const argOf = (container, name) => container.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);

      it('renders objects that validate against the Kubernetes schemas', async () => {
        assert.ok(objects.length > 10);
        for (const object of objects) {
          const Model = await modelFor(object.apiVersion, object.kind);
          assert.doesNotThrow(() => new Model(object).validate(), `${object.kind} ${object.metadata.name}`);
        }
      });

      it('passes yamllint', () => {
        assertRuns('yamllint', ['--strict', '-d', '{extends: default, rules: {line-length: disable, document-start: disable, indentation: {indent-sequences: whatever}}}',
          tempFile('rendered.yaml', output)]);
      });

      it('runs each service as hardened StatefulSets with their own volumes, and routing replicas without', () => {
        assert.deepEqual(statefulSets.map((set) => set.metadata.name).sort(),
          ['switchboard-intake', 'switchboard-notification', 'switchboard-routing']);
        assert.deepEqual(deployments.map((deployment) => deployment.metadata.name), ['switchboard-routing-replica']);
        for (const set of [...statefulSets, ...deployments]) {
          const name = set.metadata.name;
          const pod = set.spec.template.spec;
          const [container] = pod.containers;
          if (set.kind === 'StatefulSet') {
            assert.equal(find('Service', set.spec.serviceName)?.spec.clusterIP, 'None', `${name}: no headless governing Service`);
            assert.equal(set.spec.volumeClaimTemplates[0].metadata.name, 'data');
            assert.ok(container.volumeMounts.some((mount) => mount.name === 'data' && mount.mountPath === '/var/lib/switchboard'));
            assert.ok(container.args.includes('--data_dir=/var/lib/switchboard'), name);
          } else {
            assert.ok(!container.args.some((arg) => arg.startsWith('--data_dir')), `${name}: a replica keeps no store`);
          }
          // Probes use the plaintext health port: the gRPC port requires a
          // client certificate the kubelet does not have.
          assert.ok(container.args.includes('--health_listen=0.0.0.0:8086'), name);
          assert.ok(container.ports.some((port) => port.containerPort === 8086), name);
          for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
            assert.equal(container[probe]?.grpc?.port, 8086, `${name}: ${probe} is not a gRPC probe of the health port`);
          }
          // Secure: mutual TLS and the access policy, never --allow_insecure.
          assert.ok(!container.args.includes('--allow_insecure'), `${name} serves insecurely`);
          const flag = (prefix) => container.args.find((arg) => arg.startsWith(`--${prefix}=`))?.split('=')[1];
          for (const file of ['tls_cert_file', 'tls_key_file', 'tls_client_ca_file', 'access_policy_file', 'token_file']) {
            const value = flag(file);
            assert.ok(value, `${name}: no --${file}`);
            assert.ok(container.volumeMounts.some((mount) => value.startsWith(`${mount.mountPath}/`)),
              `${name}: --${file}=${value} is on no mounted volume`);
          }
          const tls = pod.volumes.find((volume) => volume.name === 'tls');
          assert.equal(tls?.secret?.secretName, `${name.replace(/-replica$/, '')}-tls`, `${name}: the TLS Secret`);
          const policy = pod.volumes.find((volume) => volume.name === 'access');
          assert.ok(find('ConfigMap', policy.configMap.name), `${name}: the access policy ConfigMap is not rendered under the name the pod mounts`);
          const tokens = pod.volumes.find((volume) => volume.name === 'tokens');
          assert.ok(find('Secret', tokens.secret.secretName), `${name}: the token Secret is not rendered under the name the pod mounts`);
          for (const kind of ['requests', 'limits']) {
            assert.ok(container.resources[kind].cpu && container.resources[kind].memory, `${name}: ${kind}`);
          }
          assert.equal(pod.securityContext.runAsNonRoot, true);
          assert.ok(pod.securityContext.runAsUser > 0);
          assert.equal(pod.automountServiceAccountToken, false);
          assert.equal(container.securityContext.readOnlyRootFilesystem, true);
          assert.equal(container.securityContext.allowPrivilegeEscalation, false);
          assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
          // Termination grace outlasts the drain the flags ask for.
          const seconds = (flag) => Number((container.args.find((arg) => arg.startsWith(`--${flag}=`)) ?? '=0s').split('=')[1].replace(/s$/, ''));
          assert.ok(pod.terminationGracePeriodSeconds > seconds('shutdown_delay') + seconds('drain_grace'), name);
          assert.equal(set.spec.template.metadata.annotations['prometheus.io/scrape'], 'true');
          const budgets = objects.filter((object) => object.kind === 'PodDisruptionBudget'
            && selects(object.spec.selector.matchLabels, set.spec.template.metadata.labels));
          assert.equal(budgets.length, 1, `${name}: ${budgets.length} PodDisruptionBudgets`);
        }
      });

      it('runs intake and notification as partitions: pod N is partition N, and every list names every pod in order', () => {
        const addresses = {};
        for (const name of ['switchboard-intake', 'switchboard-notification']) {
          const set = find('StatefulSet', name);
          const container = set.spec.template.spec.containers[0];
          assert.ok(set.spec.replicas >= 2, `${name}: ${set.spec.replicas} partition(s)`);
          assert.equal(set.spec.podManagementPolicy, 'Parallel', `${name}: partitions start together`);
          const index = container.env.find((variable) => variable.name === 'POD_INDEX');
          assert.equal(index?.valueFrom?.fieldRef?.fieldPath, "metadata.labels['apps.kubernetes.io/pod-index']");
          assert.equal(argOf(container, 'partition'), '$(POD_INDEX)');
          const expected = Array.from({ length: set.spec.replicas }, (_, i) => `${name}-${i}.${set.spec.serviceName}:50051`);
          assert.deepEqual(argOf(container, 'partition_addresses').split(','), expected, name);
          addresses[name] = expected.join(',');
          const spread = set.spec.template.spec.topologySpreadConstraints.find((c) => c.topologyKey === 'kubernetes.io/hostname');
          assert.ok(spread, `${name}: partitions spread over nodes`);
          assert.equal(spread.labelSelector.matchLabels['app.kubernetes.io/name'], name);
          const budget = objects.find((object) => object.kind === 'PodDisruptionBudget'
            && object.spec.selector.matchLabels['app.kubernetes.io/name'] === name);
          assert.equal(budget.spec.maxUnavailable, 1, `${name}: one partition away at a time`);
        }
        const intake = find('StatefulSet', 'switchboard-intake').spec.template.spec.containers[0];
        assert.equal(argOf(intake, 'notification_target'), addresses['switchboard-notification'],
          'intake names the notification partitions in their order');
      });

      it('balances intake over the routing writer and its replicas, which follow the writer', () => {
        const intake = find('StatefulSet', 'switchboard-intake').spec.template.spec.containers[0];
        const target = argOf(intake, 'routing_target').match(/^dns:\/\/\/([\w-]+):50051$/);
        assert.ok(target, `--routing_target=${argOf(intake, 'routing_target')} is not a DNS name to balance over`);
        const headless = find('Service', target[1]);
        assert.equal(headless?.spec.clusterIP, 'None', 'intake must resolve every routing pod, not one virtual IP');
        const writer = find('StatefulSet', 'switchboard-routing');
        const replica = find('Deployment', 'switchboard-routing-replica');
        assert.equal(writer.spec.replicas, 1, 'one writer');
        assert.ok(replica.spec.replicas >= 1);
        for (const service of [headless, find('Service', 'switchboard-routing')]) {
          for (const workload of [writer, replica]) {
            assert.ok(selects(service.spec.selector, workload.spec.template.metadata.labels),
              `${service.metadata.name} does not select ${workload.metadata.name}'s pods`);
          }
        }
        // Neither controller claims the other's pods.
        assert.ok(!selects(writer.spec.selector.matchLabels, replica.spec.template.metadata.labels));
        assert.ok(!selects(replica.spec.selector.matchLabels, writer.spec.template.metadata.labels));
        const follower = replica.spec.template.spec.containers[0];
        assert.equal(argOf(follower, 'ruleset_source'), `${writer.metadata.name}-0.${writer.spec.serviceName}:50051`);
        assert.ok(!follower.args.some((arg) => arg.startsWith('--ruleset_file')), 'a replica takes its rulesets from the writer');
        const budget = objects.filter((object) => object.kind === 'PodDisruptionBudget'
          && selects(object.spec.selector.matchLabels, writer.spec.template.metadata.labels)
          && selects(object.spec.selector.matchLabels, replica.spec.template.metadata.labels));
        assert.equal(budget.length, 1, 'one budget over every routing pod, so a drain leaves one deciding');
        for (const workload of [writer, replica]) {
          assert.ok(workload.spec.template.spec.containers[0].args.some((arg) => /^--max_connection_age=\d+m$/.test(arg)),
            `${workload.metadata.name}: clients balancing over DNS never see new replicas`);
        }
      });

      it('gives routing\'s writer the ruleset ConfigMap', () => {
        assert.ok(find('Service', 'switchboard-routing') && find('Service', 'switchboard-notification'));
        const routing = find('StatefulSet', 'switchboard-routing').spec.template.spec;
        assert.ok(routing.containers[0].args.includes('--ruleset_file=/etc/switchboard/ruleset.yaml'));
        const volume = routing.volumes.find((v) => v.name === 'ruleset');
        const configMap = find('ConfigMap', volume.configMap.name);
        assert.ok(configMap, 'the ruleset ConfigMap is not rendered under the name the pod mounts');
        assert.equal(configMap.data['ruleset.yaml'], fs.readFileSync(path.join(root, 'config/sample-ruleset.yaml'), 'utf8'));
      });

      it('denies all traffic but the intended', () => {
        const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
        const deny = policies.find((policy) => policy.metadata.name === 'switchboard-default-deny');
        assert.deepEqual(deny.spec.policyTypes, ['Ingress', 'Egress']);
        assert.equal(deny.spec.ingress, undefined);
        assert.equal(deny.spec.egress, undefined);
        const pods = {
          intake: find('StatefulSet', 'switchboard-intake'),
          notification: find('StatefulSet', 'switchboard-notification'),
          writer: find('StatefulSet', 'switchboard-routing'),
          replica: find('Deployment', 'switchboard-routing-replica'),
        };
        for (const key of Object.keys(pods)) pods[key] = pods[key].spec.template.metadata.labels;
        pods.client = { 'switchboard.io/client': 'true' };
        pods.prometheus = { 'app.kubernetes.io/name': 'prometheus' };
        pods.stranger = { app: 'something-else' };
        const allowed = [
          ['intake', 'intake', 50051], ['intake', 'writer', 50051], ['intake', 'replica', 50051],
          ['intake', 'notification', 50051], ['notification', 'notification', 50051], ['replica', 'writer', 50051],
          ['client', 'intake', 50051], ['client', 'notification', 50051], ['client', 'writer', 50051],
          ['client', 'replica', 50051], ['prometheus', 'intake', 9090], ['prometheus', 'replica', 9090],
        ];
        const denied = [
          ['writer', 'intake', 50051], ['writer', 'replica', 50051], ['replica', 'intake', 50051],
          ['replica', 'notification', 50051], ['notification', 'intake', 50051], ['notification', 'writer', 50051],
          ['stranger', 'intake', 50051], ['stranger', 'writer', 50051], ['client', 'intake', 9090],
          ['intake', 'notification', 9090],
        ];
        for (const [from, to, port] of allowed) {
          assert.ok(permits(policies, pods[from], pods[to], port), `${from} → ${to}:${port} is denied`);
        }
        for (const [from, to, port] of denied) {
          assert.ok(!permits(policies, pods[from], pods[to], port), `${from} → ${to}:${port} is allowed`);
        }
      });

      it('puts everything in the overlay namespace and sets the images', () => {
        const namespace = objects.find((object) => object.kind === 'Namespace').metadata.name;
        for (const object of objects) {
          if (['Namespace', 'PriorityClass'].includes(object.kind)) continue;
          assert.equal(object.metadata.namespace, namespace, `${object.kind} ${object.metadata.name}`);
        }
        for (const set of [...statefulSets, ...deployments]) {
          const image = set.spec.template.spec.containers[0].image;
          assert.match(image, new RegExp(`${set.metadata.name.replace(/-replica$/, '')}:[\\w.]+$`));
        }
      });
    });
  }

  it('production adds the monitoring component, in step with the alerts and the dashboard', () => {
    const { objects } = render('deploy/k8s/overlays/production');
    const rule = objects.find((object) => object.kind === 'PrometheusRule');
    assert.deepEqual(rule.spec.groups, readAlerts().groups);
    const monitor = objects.find((object) => object.kind === 'ServiceMonitor');
    assert.equal(monitor.spec.jobLabel, 'app.kubernetes.io/name');
    const scraped = objects.filter((object) => object.kind === 'Service'
      && object.metadata.labels?.['switchboard.io/metrics'] === monitor.spec.selector.matchLabels['switchboard.io/metrics']);
    assert.deepEqual(scraped.map((service) => service.metadata.labels['app.kubernetes.io/name']).sort(),
      ['switchboard-intake', 'switchboard-notification', 'switchboard-routing']);
    for (const service of scraped) assert.ok(service.spec.ports.some((port) => port.name === monitor.spec.endpoints[0].port));
    const dashboard = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.labels?.grafana_dashboard === '1');
    assert.deepEqual(JSON.parse(dashboard.data['switchboard.json']), readDashboard());

    const dev = render('deploy/k8s/overlays/dev').objects;
    assert.ok(!dev.some((object) => object.kind === 'ServiceMonitor'), 'dev assumes no Prometheus Operator');
  });
});

describe('container images', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8');
  const lint = path.join(nodeModules, '.bin/dockerfilelint');

  it('dockerfilelint passes', () => {
    assertRuns(lint, ['Dockerfile'], { cwd: path.join(root, 'docker') });
  });

  it('dockerfilelint refuses a bad Dockerfile', () => {
    const result = run(lint, [tempFile('Dockerfile', 'FROM debian\nRUN apt-get install curl\nADD . /\n')]);
    assert.notEqual(result.status, 0, result.stdout);
  });

  it('builds on Debian 12, tags every base image, and runs each binary as a non-root entrypoint', () => {
    const stages = [];
    for (const [, image, stage] of dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)) {
      assert.ok(stages.includes(image) || /^(debian:12(-slim)?|scratch)$/.test(image), `FROM ${image}`);
      stages.push(stage);
    }
    assert.deepEqual(stages, ['build', 'libraries', 'runtime', 'intake', 'routing', 'notification', 'cli']);
    // The runtime image is only what the libraries stage collected.
    assert.match(dockerfile, /^FROM scratch AS runtime\nCOPY --from=libraries \/rootfs\/ \/$/m);
    assert.match(dockerfile, /^USER 10001:10001$/m);
    for (const binary of ['switchboard-intake', 'switchboard-routing', 'switchboard-notification', 'switchboard']) {
      assert.ok(dockerfile.includes(`ENTRYPOINT ["/usr/local/bin/${binary}"]`), binary);
    }
  });

  it('the libraries stage installs every shared library the built binaries load', () => {
    const runtime = dockerfile.split(/^FROM /m).find((stage) => stage.startsWith('debian:12-slim AS libraries'));
    const installed = new Set(runtime.match(/install -y --no-install-recommends([^&]*)&&/s)[1].split(/[\s\\]+/).filter(Boolean));
    const needed = new Set();
    for (const binary of ['switchboard-intake', 'switchboard-routing', 'switchboard-notification', 'switchboard']) {
      const libraries = assertRuns('ldd', [path.join(binDir, binary)]).matchAll(/=> (\/\S+)/g);
      for (const [, library] of libraries) {
        const owner = run('dpkg', ['-S', fs.realpathSync(library)]);
        const fallback = owner.status === 0 ? owner : run('dpkg', ['-S', library]);
        assert.equal(fallback.status, 0, `no Debian package owns ${library}`);
        needed.add(fallback.stdout.split(':')[0]);
      }
    }
    const missing = [...needed].filter((name) => !installed.has(name));
    assert.deepEqual(missing, [], 'add these to the libraries stage');
  });
});
