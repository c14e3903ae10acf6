// Turns rendered Kubernetes manifests (stdin) into what `podman kube play`
// can run (stdout), for scripts/kube-play-smoke.sh, and says on stderr what
// it left out and why. Podman runs Pods, Deployments, ConfigMaps, Secrets
// and PersistentVolumeClaims; of ours:
//
//   StatefulSet      each replica becomes a Pod named like the StatefulSet's
//                    pod (switchboard-intake-0 ...), its volumeClaimTemplates
//                    PersistentVolumeClaims of the StatefulSet's names, and
//                    POD_INDEX (a label fieldRef podman cannot resolve) the
//                    replica's number
//   Deployment       kept; podman makes one pod of it
//   ConfigMap, Secret, PersistentVolumeClaim   kept
//   everything else  left out (Namespace, Service, NetworkPolicy,
//                    PodDisruptionBudget, ServiceAccount: no podman meaning)
//
// The namespace is dropped (podman has none). `extraSecrets` (a JSON file
// named by argv[2], optional) adds Secrets that the manifests expect from
// elsewhere, e.g. cert-manager's TLS Secrets.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tools/node/package.json'));
const yaml = require('js-yaml');

const input = readFileSync(0, 'utf8');
const extra = process.argv[2] ? JSON.parse(readFileSync(process.argv[2], 'utf8')) : [];
// The extra Secrets first: podman resolves a volume's Secret when it makes the pod.
const out = [...extra];
const skipped = new Map();

function strip(object) {
  const copy = structuredClone(object);
  delete copy.metadata.namespace;
  return copy;
}

function statefulSetPods(set) {
  const pods = [];
  const replicas = set.spec.replicas ?? 1;
  for (let index = 0; index < replicas; index++) {
    const name = `${set.metadata.name}-${index}`;
    const spec = structuredClone(set.spec.template.spec);
    spec.hostname = name;
    for (const container of spec.containers) {
      for (const variable of container.env ?? []) {
        if (variable.valueFrom?.fieldRef?.fieldPath?.includes('pod-index')) {
          delete variable.valueFrom;
          variable.value = String(index);
        }
      }
    }
    for (const template of set.spec.volumeClaimTemplates ?? []) {
      const claim = `${template.metadata.name}-${name}`;
      out.push({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: claim },
        spec: template.spec,
      });
      spec.volumes = [...(spec.volumes ?? []), {
        name: template.metadata.name,
        persistentVolumeClaim: { claimName: claim },
      }];
    }
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        labels: { ...set.spec.template.metadata.labels, 'apps.kubernetes.io/pod-index': String(index) },
        annotations: set.spec.template.metadata.annotations,
      },
      spec,
    });
  }
  return pods;
}

for (const document of yaml.loadAll(input)) {
  if (!document) continue;
  switch (document.kind) {
    case 'StatefulSet':
      out.push(...statefulSetPods(document));
      break;
    case 'Deployment':
    case 'ConfigMap':
    case 'Secret':
    case 'PersistentVolumeClaim':
      out.push(strip(document));
      break;
    default:
      skipped.set(document.kind, (skipped.get(document.kind) ?? 0) + 1);
  }
}
for (const [kind, count] of skipped) console.error(`left out: ${count} ${kind}`);
process.stdout.write(out.map((document) => yaml.dump(document, { lineWidth: -1 })).join('---\n'));
