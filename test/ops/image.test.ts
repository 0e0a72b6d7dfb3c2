import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../integration/harness/child.js';
import { eventually } from '../support/eventually.js';
import { IMAGE, imagePresent, podman, podmanOk } from '../support/podman.js';
import { renderKustomization, REPO, type Doc } from '../support/manifests.js';
import { CONTAINER_TOOLS_HINT, tool } from '../support/tools.js';

/**
 * The built image (`npm run image:build`) run the way the base Deployment runs it: its user, read-only root
 * filesystem, dropped capabilities, emptyDir volumes as size-limited tmpfs mounts, its env (ConfigMap, Secret
 * and downward-API values filled in), its ports and probe paths. The sandbox runs as a second container of
 * the same image sharing the controller's network namespace, as a sidecar in a pod would.
 */

const podmanTool = tool('podman', CONTAINER_TOOLS_HINT);
const kubectl = tool('kubectl', 'kubectl (its built-in kustomize renders the manifests)', ['version', '--client']);
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

const objects = kubectl.available ? renderKustomization('manifests/base') : [];
const deployment = objects.find((o) => o.kind === 'Deployment') as Doc;
const settings = objects.find((o) => o.kind === 'ConfigMap')?.data as Record<string, string>;
const pod = deployment?.spec.template.spec;
const container = pod?.containers[0];

const SANDBOX_PORTS = { mc: 18000, discord: 18001, control: 18002, gateway: 18003 };
const DOWNWARD: Record<string, string> = { 'metadata.name': 'mc-controller-0', 'metadata.namespace': 'mc-controller', 'spec.nodeName': 'node-a' };

/** `podman run` flags for what the pod spec says about the controller container. */
function deploymentRunFlags(): string[] {
  const sc = { ...pod.securityContext, ...container.securityContext };
  const flags = ['--user', `${sc.runAsUser}:${sc.runAsGroup}`, '--stop-timeout', String(pod.terminationGracePeriodSeconds)];
  // --read-only-tmpfs=false: podman would otherwise add writable /tmp, /run and /var/tmp the pod does not have.
  if (sc.readOnlyRootFilesystem) flags.push('--read-only', '--read-only-tmpfs=false');
  for (const cap of sc.capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  if (sc.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  const volumes = new Map<string, Doc>(pod.volumes.map((v: Doc) => [v.name, v]));
  for (const mount of container.volumeMounts) {
    const volume = volumes.get(mount.name)!;
    expect(volume.emptyDir, `volume ${mount.name} is an emptyDir`).toBeDefined();
    const size = /^(\d+)Mi$/.exec(volume.emptyDir.sizeLimit ?? '')?.[1];
    // U=true: owned by the container's user, as fsGroup makes an emptyDir writable for the pod's group.
    flags.push('--mount', `type=tmpfs,destination=${mount.mountPath},U=true${size ? `,tmpfs-size=${size}m` : ''}`);
  }
  return flags;
}

/** The container's environment as the kubelet would build it, with the sandbox as Mission Control and peers. */
function deploymentEnv(info: Record<string, string>): string {
  const secrets: Record<string, string> = {
    MC_AUTH_TOKEN: info.mcAuthToken!,
    MC_GATEWAY_TOKEN: info.gatewayToken!,
    DISCORD_BOT_TOKEN: info.discordBotToken!,
  };
  const env: Record<string, string> = {
    ...settings,
    // What an operator sets in the ConfigMap for their board; DISCORD_API_URL points Discord at the fake.
    MC_API_URL: info.mcApiUrl!,
    MC_BOARD_ID: info.boardId!,
    MC_GATEWAY_URL: info.gatewayUrl!,
    MC_DISCORD_CHANNEL: info.discordChannelId!,
    DISCORD_API_URL: info.discordApiUrl!,
    MC_GATEWAY_SCOPES: 'operator.read,operator.admin',
  };
  for (const e of container.env as Doc[]) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = DOWNWARD[e.valueFrom.fieldRef.fieldPath]!;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = secrets[e.valueFrom.secretKeyRef.key]!;
  }
  return Object.entries(env)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

describe.skipIf(podmanTool.skip || kubectl.skip)(`the image ${IMAGE}, run as the base Deployment runs it`, () => {
  const name = `mc-image-test-${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'mc-image-'));
  const ports = new Map<string, number>();
  const host = new Map<number, number>();
  let info: Record<string, string>;

  beforeAll(async () => {
    podmanTool.require();
    kubectl.require();
    if (!(await imagePresent())) throw new Error(`image ${IMAGE} is missing: run \`npm run image:build\` first`);
    for (const p of container.ports as Doc[]) {
      ports.set(p.name, p.containerPort);
      host.set(p.containerPort, await freePort());
    }
    const publish = [...host].flatMap(([inner, outer]) => ['-p', `127.0.0.1:${outer}:${inner}`]);
    await podmanOk(['run', '-d', '--name', `${name}-sandbox`, ...publish, '--read-only', IMAGE, 'sandbox', '--seed', 'demo',
      '--mc-port', String(SANDBOX_PORTS.mc), '--discord-port', String(SANDBOX_PORTS.discord),
      '--control-port', String(SANDBOX_PORTS.control), '--gateway-port', String(SANDBOX_PORTS.gateway)]);
    info = await eventually('the sandbox ready line', 90_000, async () => {
      const logs = await podmanOk(['logs', `${name}-sandbox`]);
      const line = logs.split('\n').find((l) => l.startsWith('{') && l.includes('mcApiUrl'));
      return line ? (JSON.parse(line) as Record<string, string>) : undefined;
    }, 250);
    // Tokens reach the container through a 0600 env file, never podman's argv.
    const envFile = join(work, 'controller.env');
    writeFileSync(envFile, deploymentEnv(info), { mode: 0o600 });
    await podmanOk(['run', '-d', '--name', name, '--network', `container:${name}-sandbox`, '--env-file', envFile,
      ...deploymentRunFlags(), IMAGE, ...container.args]);
  }, 180_000);

  afterAll(async () => {
    // The controller first: the sandbox's network namespace cannot go while a container still joins it.
    if (podmanTool.available) for (const c of [name, `${name}-sandbox`]) await podman(['rm', '-f', '-t', '0', c]);
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  const url = (portName: string, path: string) => `http://127.0.0.1:${host.get(ports.get(portName) ?? Number(portName))}${path}`;
  const probeUrl = (probe: Doc) => url(String(probe.httpGet.port), probe.httpGet.path);

  it('serves the liveness and readiness probes the Deployment names, on the ports it names', async () => {
    const live = await eventually('liveness', 90_000, async () => ((await fetch(probeUrl(container.livenessProbe))).ok ? true : undefined), 250);
    expect(live).toBe(true);
    // Ready = synced with the board and the gateway, through the Secret's tokens and the ConfigMap's settings.
    const body = await eventually('readiness', 90_000, async () => {
      const r = await fetch(probeUrl(container.readinessProbe));
      return r.ok ? ((await r.json()) as Doc) : undefined;
    }, 250);
    expect(body.role).toBe('leader');
  }, 120_000);

  it('serves /metrics on the port the Service and ServiceMonitor scrape', async () => {
    const service = objects.find((o) => o.kind === 'Service')!;
    const metricsPort = service.spec.ports.find((p: Doc) => p.name === 'metrics');
    expect(ports.get(String(metricsPort.targetPort ?? 'metrics')) ?? metricsPort.targetPort).toBe(ports.get('metrics'));
    const text = await eventually('metrics', 90_000, async () => {
      const r = await fetch(url('metrics', '/metrics'));
      return r.ok ? r.text() : undefined;
    }, 250);
    expect(text).toMatch(/^mc_leader(\{[^}]*\})? 1$/m);
    expect(text).toMatch(/^mc_last_sync_timestamp_seconds\{source="mission-control"\} \d/m);
  }, 120_000);

  it('passes its own HEALTHCHECK (podman healthcheck run)', async () => {
    await eventually('healthy', 60_000, async () => ((await podman(['healthcheck', 'run', name])).code === 0 ? true : undefined), 250);
  }, 90_000);

  it('runs as uid 1000 and writes only its state dir: the root filesystem is read-only', async () => {
    expect((await podmanOk(['exec', name, 'id', '-u'])).trim()).toBe(String(pod.securityContext.runAsUser));
    const state = (container.env as Doc[]).find((e) => e.name === 'MC_STATE_DIR')!.value as string;
    const tryWrite = async (dir: string) =>
      (await podman(['exec', name, 'node', '-e', `require('fs').writeFileSync(${JSON.stringify(`${dir}/probe`)}, 'x')`])).code;
    expect(await tryWrite(state)).toBe(0);
    for (const dir of ['/app', '/app/dist', '/home/node', '/var/tmp', '/run', '/etc']) expect(await tryWrite(dir), dir).not.toBe(0);
    // And the controller itself keeps its lock there.
    expect(await podmanOk(['exec', name, 'ls', state])).toMatch(/controller\.lock/);
  }, 60_000);

  it('drains and exits 0 on SIGTERM, within the drain budget', async () => {
    const drainSeconds = Number(settings['MC_DRAIN_SECONDS']);
    const started = performance.now();
    await podmanOk(['stop', '--time', String(pod.terminationGracePeriodSeconds), name], 90_000);
    const seconds = (performance.now() - started) / 1000;
    const code = (await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name])).trim();
    console.log(`[image] SIGTERM to exit: ${seconds.toFixed(1)} s (drain budget ${drainSeconds} s)`);
    expect(code).toBe('0');
    expect(seconds).toBeLessThan(drainSeconds);
    // The sandbox shares the network namespace and has the same HEALTHCHECK: with the controller gone nothing
    // serves the probe port, so the check must now fail (it can fail, it is not a constant).
    expect((await podman(['healthcheck', 'run', `${name}-sandbox`])).code).not.toBe(0);
  }, 120_000);
});

describe.skipIf(podmanTool.skip)(`the image ${IMAGE} as built`, () => {
  beforeAll(async () => {
    podmanTool.require();
    if (!(await imagePresent())) throw new Error(`image ${IMAGE} is missing: run \`npm run image:build\` first`);
  });

  it('runs as uid 1000 by default and `--version` prints package.json\'s version', async () => {
    expect((await podmanOk(['image', 'inspect', '--format', '{{.Config.User}}', IMAGE])).trim()).toBe('1000:1000');
    expect((await podmanOk(['run', '--rm', '--entrypoint', 'id', IMAGE, '-u'])).trim()).toBe('1000');
    expect((await podmanOk(['run', '--rm', IMAGE, '--version'])).trim()).toBe(pkg.version);
    const size = Number((await podmanOk(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim());
    console.log(`[image] ${IMAGE}: ${(size / 1e6).toFixed(0)} MB`);
  }, 60_000);
});
