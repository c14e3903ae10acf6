// Turns rendered Kubernetes manifests (stdin) into what Debian 12's podman
// (4.3) `kube play` can run (stdout), for scripts/kube-play-smoke.sh, and
// says on stderr what it left out. docs/containers.md has the whole list.
//
//   node kube-play-pods.mjs EXTRA_SECRETS.json SUBNET_PREFIX ADDRESSES_OUT VOLUMES_OUT < rendered.yaml
//
// - StatefulSet: a Pod per replica, named as Kubernetes names the
//   StatefulSet's pods (switchboard-intake-0 ...); its volumeClaimTemplates
//   become PersistentVolumeClaims (podman volumes) of the same names; the
//   POD_INDEX fieldRef (a label podman does not set) becomes the replica's
//   number.
// - Deployment, ConfigMap, PersistentVolumeClaim: kept (podman makes one pod
//   of a Deployment).
// - Secret: a ConfigMap of its decoded data. Podman 4.3 mounts a Secret's
//   files still base64-encoded, ignores stringData, and crashes on a Secret
//   volume without `optional` (containers/podman#16636). These are test
//   certificates and token hashes; nothing here needs secrecy.
// - Everything else (Namespace, Service, NetworkPolicy, PodDisruptionBudget,
//   ServiceAccount) has no podman meaning and is left out. Services' names
//   are given to the pods instead, as host aliases: every pod gets a fixed
//   address SUBNET_PREFIX.(10+i), written one per line to ADDRESSES_OUT in
//   the order kube play creates the pods (pass them as --ip), and every pod's
//   /etc/hosts names all pods by their StatefulSet DNS names
//   (switchboard-intake-0.switchboard-intake-pods) and each Service by its
//   first pod.
// - In every pod: $(VAR) in args expanded from the container's env (podman
//   passes it on verbatim); containerPorts dropped (podman publishes each on
//   the host's same port, so a second pod of a kind could not start); each
//   emptyDir renamed after its pod (podman makes it a named volume, shared by
//   every pod that names one alike).
//
// EXTRA_SECRETS.json holds Secrets the manifests expect from elsewhere, e.g.
// cert-manager's TLS Secrets. VOLUMES_OUT gets the names of the podman
// volumes kube play will make (ConfigMaps, claims, emptyDirs), for cleaning
// up after it: `kube down` leaves them.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tools/node/package.json'));
const yaml = require('js-yaml');

const [extraFile, subnetPrefix, addressesFile, volumesFile] = process.argv.slice(2);
if (!extraFile || !subnetPrefix || !addressesFile || !volumesFile) {
  console.error('usage: kube-play-pods.mjs EXTRA_SECRETS.json SUBNET_PREFIX ADDRESSES_OUT VOLUMES_OUT');
  process.exit(2);
}

// Secrets become ConfigMaps of their decoded data (see above).
function configMapOf(secret) {
  const data = { ...secret.stringData };
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    data[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: secret.metadata.name }, data };
}

function withoutNamespace(object) {
  const copy = structuredClone(object);
  delete copy.metadata.namespace;
  return copy;
}

// $(NAME) in a container's command and args, from its env's literal values.
function expandVariables(container) {
  const values = new Map();
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) values.set(variable.name, variable.value);
  }
  const expand = (text) => text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
    (whole, name) => (values.has(name) ? values.get(name) : whole));
  if (container.command) container.command = container.command.map(expand);
  if (container.args) container.args = container.args.map(expand);
}

function adaptPodSpec(spec, podName) {
  for (const volume of spec.volumes ?? []) {
    if (volume.secret) {
      volume.configMap = { name: volume.secret.secretName };
      delete volume.secret;
    }
    if (volume.emptyDir) {
      const own = `${podName}-${volume.name}`;
      for (const container of spec.containers) {
        for (const mount of container.volumeMounts ?? []) {
          if (mount.name === volume.name) mount.name = own;
        }
      }
      volume.name = own;
    }
  }
  for (const container of spec.containers) {
    delete container.ports;
    expandVariables(container);
  }
}

const documents = yaml.loadAll(readFileSync(0, 'utf8')).filter(Boolean);
const out = JSON.parse(readFileSync(extraFile, 'utf8')).map(configMapOf);
// Each pod as kube play will create it: its name, labels, spec, and the
// DNS names it answers to.
const pods = [];
const skipped = new Map();

for (const document of documents) {
  switch (document.kind) {
    case 'StatefulSet': {
      const set = document;
      for (let index = 0; index < (set.spec.replicas ?? 1); index++) {
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
        adaptPodSpec(spec, name);
        for (const template of set.spec.volumeClaimTemplates ?? []) {
          const claim = `${template.metadata.name}-${name}`;
          out.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim }, spec: template.spec });
          spec.volumes = [...(spec.volumes ?? []),
            { name: template.metadata.name, persistentVolumeClaim: { claimName: claim } }];
        }
        const labels = { ...set.spec.template.metadata.labels, 'apps.kubernetes.io/pod-index': String(index) };
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels, annotations: set.spec.template.metadata.annotations },
          spec,
        };
        out.push(pod);
        pods.push({ spec, labels, names: [name, `${name}.${set.spec.serviceName}`] });
      }
      break;
    }
    case 'Deployment': {
      const deployment = withoutNamespace(document);
      deployment.spec.replicas = 1;  // podman makes one pod regardless
      const spec = deployment.spec.template.spec;
      adaptPodSpec(spec, deployment.metadata.name);
      out.push(deployment);
      pods.push({ spec, labels: deployment.spec.template.metadata.labels, names: [] });
      break;
    }
    case 'Secret':
      out.push(configMapOf(document));
      break;
    case 'ConfigMap':
    case 'PersistentVolumeClaim':
      out.push(withoutNamespace(document));
      break;
    default:
      skipped.set(document.kind, (skipped.get(document.kind) ?? 0) + 1);
  }
}

// Addresses in creation order; each Service's name goes to its first pod.
pods.forEach((pod, i) => { pod.address = `${subnetPrefix}.${10 + i}`; });
for (const service of documents.filter((document) => document.kind === 'Service')) {
  const selector = Object.entries(service.spec.selector ?? {});
  const first = pods.find((pod) => selector.every(([key, value]) => pod.labels?.[key] === value));
  if (first) first.names.push(service.metadata.name);
}
const hostAliases = pods.filter((pod) => pod.names.length)
  .map((pod) => ({ ip: pod.address, hostnames: pod.names }));
for (const pod of pods) pod.spec.hostAliases = hostAliases;

writeFileSync(addressesFile, pods.map((pod) => pod.address).join('\n') + '\n');
const volumes = new Set(out.filter((document) => ['ConfigMap', 'PersistentVolumeClaim'].includes(document.kind))
  .map((document) => document.metadata.name));
for (const pod of pods) {
  for (const volume of pod.spec.volumes ?? []) if (volume.emptyDir) volumes.add(volume.name);
}
writeFileSync(volumesFile, [...volumes].join('\n') + '\n');
for (const [kind, count] of skipped) console.error(`    left out: ${count} ${kind}`);
process.stdout.write(out.map((document) => yaml.dump(document, { lineWidth: -1 })).join('---\n'));
