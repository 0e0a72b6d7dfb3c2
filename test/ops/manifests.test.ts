import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { KUSTOMIZATIONS, renderKustomization } from '../support/manifests.js';
import { tool } from '../support/tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MANIFESTS = join(ROOT, 'manifests');

type Doc = Record<string, any>;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function loadYaml(path: string): Doc[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => {
    expect(doc.errors, `${relative(ROOT, path)}: ${doc.errors.join('; ')}`).toEqual([]);
    return doc.toJS() as Doc;
  });
}

const kubectl = tool('kubectl', 'kubectl (its built-in kustomize renders the manifests)', ['version', '--client']);
/** Kubernetes YAML (the Prometheus rule files under manifests/prometheus are not Kubernetes objects). */
const yamlFiles = walk(MANIFESTS).filter((p) => /\.ya?ml$/.test(p) && !p.startsWith(join(MANIFESTS, 'prometheus')));
/** What `kubectl apply -k` sends, per kustomization; the Prometheus overlay includes the base. */
const rendered = new Map(KUSTOMIZATIONS.map((k) => [k, kubectl.available ? renderKustomization(k) : []]));
const objects = [...rendered.get('manifests/overlays/prometheus')!].map((doc) => ({ path: join(ROOT, 'manifests/overlays/prometheus'), doc }));
const find = (kind: string, name?: string): Doc[] =>
  objects.filter(({ doc }) => doc.kind === kind && (name === undefined || doc.metadata?.name === name)).map((o) => o.doc);
const one = (kind: string, name?: string): Doc => {
  const found = find(kind, name);
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
};

/** Custom resources: no client-node model; their schema belongs to the Prometheus Operator's CRDs. */
const CUSTOM = new Set(['monitoring.coreos.com/v1 ServiceMonitor', 'monitoring.coreos.com/v1 PrometheusRule']);
const gvk = (doc: Doc) => `${doc.apiVersion} ${doc.kind}`;

/** Paths present in `before` and missing (or changed) in `after`: what the typed model did not know. */
function lostKeys(before: unknown, after: unknown, path = ''): string[] {
  if (Array.isArray(before)) {
    if (!Array.isArray(after)) return [path || '(root)'];
    return before.flatMap((v, i) => lostKeys(v, after[i], `${path}[${i}]`));
  }
  if (before && typeof before === 'object') {
    if (!after || typeof after !== 'object') return [path || '(root)'];
    return Object.entries(before).flatMap(([k, v]) =>
      k in (after as object) ? lostKeys(v, (after as Doc)[k], path ? `${path}.${k}` : k) : [path ? `${path}.${k}` : k],
    );
  }
  return String(before) === String(after) ? [] : [`${path} (${String(before)} -> ${String(after)})`];
}

/** Through client-node's typed models and back (ObjectSerializer for the object's apiVersion and kind). */
const roundTrip = (doc: Doc): Doc => parse(dumpYaml(loadAllYaml(stringify(doc))[0])) as Doc;

describe.skipIf(kubectl.skip)('rendered manifests through @kubernetes/client-node', () => {
  it.each(KUSTOMIZATIONS)('%s: every object round-trips through ObjectSerializer for its kind with no key lost', (dir) => {
    kubectl.require();
    const docs = rendered.get(dir)!;
    expect(docs.length).toBeGreaterThan(5);
    for (const doc of docs) {
      const where = `${dir}: ${gvk(doc)} ${doc.metadata?.name}`;
      if (CUSTOM.has(gvk(doc))) continue;
      expect(lostKeys(doc, roundTrip(doc)), where).toEqual([]);
      // The kind is really known to client-node: a key no Kubernetes type has is dropped on the way.
      expect(lostKeys({ ...doc, notAField: true }, roundTrip({ ...doc, notAField: true })), where).toEqual(['notAField']);
    }
    // Only the operator overlay carries custom resources; the base applies to any cluster.
    const custom = docs.filter((d) => CUSTOM.has(gvk(d))).map(gvk);
    expect(custom.sort()).toEqual(dir === 'manifests/base' ? [] : [...CUSTOM].sort());
  });

  it('the round trip catches a misspelt field', () => {
    const deployment = structuredClone(rendered.get('manifests/base')!.find((d) => d.kind === 'Deployment')!);
    deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
    expect(lostKeys(deployment, roundTrip(deployment))).toEqual(['spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem']);
  });
});

describe.skipIf(kubectl.skip)('kubernetes manifests', () => {
  it('parse, and every object has apiVersion, kind and a name', () => {
    expect(objects.length).toBeGreaterThan(5);
    for (const { path, doc } of objects) {
      const where = relative(ROOT, path);
      expect(doc.apiVersion, where).toEqual(expect.any(String));
      expect(doc.kind, where).toEqual(expect.any(String));
      expect(doc.metadata?.name, where).toEqual(expect.any(String));
    }
  });

  it('kustomizations list existing files, and the base lists every base manifest', () => {
    for (const path of yamlFiles.filter((p) => p.endsWith('kustomization.yaml'))) {
      const [k] = loadYaml(path);
      expect(k?.kind).toBe('Kustomization');
      const dir = join(path, '..');
      for (const r of k?.resources as string[]) expect(statSync(join(dir, r)), r).toBeTruthy();
    }
    const [base] = loadYaml(join(MANIFESTS, 'base', 'kustomization.yaml'));
    const listed = new Set(base?.resources as string[]);
    const files = readdirSync(join(MANIFESTS, 'base')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...listed].sort()).toEqual(files.sort());
    expect(base?.namespace).toBe('mc-controller');
  });

  it('keeps namespaced objects in the mc-controller namespace', () => {
    expect(one('Namespace').metadata.name).toBe('mc-controller');
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    for (const { doc } of objects.filter(({ doc }) => !clusterScoped.has(doc.kind))) {
      expect(doc.metadata.namespace, `${doc.kind}/${doc.metadata.name}`).toBe('mc-controller');
    }
  });

  describe('Deployment', () => {
    const deploy = one('Deployment', 'mc-controller');
    const pod = deploy.spec.template.spec;
    const container = pod.containers[0];
    const env = new Map<string, Doc>(container.env.map((e: Doc) => [e.name, e]));
    const settings = one('ConfigMap', 'mc-controller-settings').data as Record<string, string>;

    it('runs two replicas selected by its own labels', () => {
      expect(deploy.spec.replicas).toBe(2);
      for (const [k, v] of Object.entries(deploy.spec.selector.matchLabels)) {
        expect(deploy.spec.template.metadata.labels[k]).toBe(v);
      }
      expect(pod.serviceAccountName).toBe(one('ServiceAccount').metadata.name);
      expect(container.args).toEqual(['run']);
    });

    it('is locked down: non-root, read-only root fs, no privilege escalation, drop ALL, RuntimeDefault seccomp', () => {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.securityContext.capabilities.add ?? []).toEqual([]);
      expect(container.securityContext.privileged ?? false).toBe(false);
    });

    it('probes /healthz and /readyz on the 8081 port the probe server binds', () => {
      const ports = new Map<string, number>(container.ports.map((p: Doc) => [p.name, p.containerPort]));
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        const port = probe.httpGet.port;
        expect(typeof port === 'number' ? port : ports.get(port)).toBe(8081);
      }
      expect(env.get('MC_PROBE_ADDR')?.value).toMatch(/:8081$/);
      expect(env.get('MC_METRICS_ADDR')?.value).toMatch(/:8080$/);
      expect(ports.get('metrics')).toBe(8080);
    });

    it('sets resource requests and limits', () => {
      expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources.limits).toMatchObject({ memory: expect.any(String) });
    });

    it('gives the drain time to finish before SIGKILL', () => {
      const drain = Number(settings['MC_DRAIN_SECONDS'] ?? 20);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(drain);
    });

    it('takes tokens from the Secret, settings from the ConfigMap, identity and node from the downward API', () => {
      for (const name of ['MC_AUTH_TOKEN', 'MC_GATEWAY_TOKEN', 'DISCORD_BOT_TOKEN']) {
        expect(env.get(name)?.valueFrom?.secretKeyRef, name).toMatchObject({ name: 'mc-controller-secrets', key: name });
        expect(env.get(name)?.value, name).toBeUndefined();
      }
      expect(container.envFrom).toContainEqual({ configMapRef: { name: 'mc-controller-settings' } });
      expect(env.get('MC_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      expect(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    });

    it('writes only to emptyDir volumes (state and /tmp)', () => {
      const volumes = new Map<string, Doc>(pod.volumes.map((v: Doc) => [v.name, v]));
      const stateMount = container.volumeMounts.find((m: Doc) => m.mountPath === env.get('MC_STATE_DIR')?.value);
      expect(stateMount).toBeDefined();
      for (const mount of container.volumeMounts) expect(volumes.get(mount.name)?.emptyDir, mount.name).toBeDefined();
    });
  });

  it('grants leases and the scale subresource in a Role, and only get on nodes cluster-wide', () => {
    const role = one('Role', 'mc-controller');
    const allows = (group: string, resource: string, verb: string) =>
      role.rules.some(
        (r: Doc) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
      );
    for (const verb of ['get', 'create', 'update', 'patch']) expect(allows('coordination.k8s.io', 'leases', verb), verb).toBe(true);
    for (const res of ['deployments/scale', 'statefulsets/scale']) {
      for (const verb of ['get', 'update', 'patch']) expect(allows('apps', res, verb), `${res} ${verb}`).toBe(true);
    }
    for (const res of ['deployments', 'statefulsets']) {
      for (const verb of ['get', 'list', 'patch']) expect(allows('apps', res, verb), `${res} ${verb}`).toBe(true);
    }
    // Least privilege: no wildcards, no delete, no secrets.
    for (const rule of [...role.rules, ...one('ClusterRole').rules]) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.verbs).not.toContain('delete');
      expect(rule.resources).not.toContain('*');
      expect(rule.resources).not.toContain('secrets');
    }
    expect(one('ClusterRole').rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]);
    const sa = one('ServiceAccount').metadata.name;
    for (const binding of [one('RoleBinding'), one('ClusterRoleBinding')]) {
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: 'mc-controller' }]);
    }
  });

  it('exposes metrics through a Service the ServiceMonitor selects', () => {
    const service = one('Service');
    const deploy = one('Deployment');
    for (const [k, v] of Object.entries(service.spec.selector)) expect(deploy.spec.template.metadata.labels[k]).toBe(v);
    expect(service.spec.ports).toContainEqual(expect.objectContaining({ name: 'metrics', port: 8080 }));
    const monitor = one('ServiceMonitor');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata.labels[k]).toBe(v);
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
  });

  it('contains no secret values', () => {
    expect(find('Secret')).toEqual([]);
    const text = yamlFiles.map((p) => readFileSync(p, 'utf8')).join('\n');
    // Typical token shapes: long hex/base64 runs, Discord bot tokens, bearer values.
    expect(text).not.toMatch(/[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}/);
    expect(text).not.toMatch(/\b[a-f0-9]{32,}\b/i);
    expect(text).not.toMatch(/Bearer\s+\S/);
    for (const [key, value] of Object.entries(one('ConfigMap').data as Record<string, string>)) {
      if (/TOKEN|SECRET|PASSWORD/i.test(key)) expect.fail(`ConfigMap carries ${key}=${value}`);
    }
  });
});
