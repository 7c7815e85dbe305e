import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { FRAME_HEADER_BYTES } from '../../plugin-sdk/protocol/frame.ts';
import { RequiredLayerSchema } from '../layer-names.ts';
import { PluginRuntimeError } from '../errors.ts';
import { packagePath } from '../package-root.ts';
import { describeSchemaIssues, toSchemaIssues } from '../schema-issues.ts';

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

/** Schema of `deno-launch.json`, the one place the runtime's launch numbers live. */
export const LaunchConfigSchema = v.strictObject({
  deno: v.strictObject({
    minVersion: v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+$/, 'a version such as 2.1.0')),
    baseFlags: v.array(v.pipe(v.string(), v.minLength(1))),
  }),
  handshake: v.strictObject({ timeoutMs: positiveInt, protocol: positiveInt }),
  /** A deadline on `load` as a whole: manifest, grants and bundling. */
  load: v.strictObject({ timeoutMs: positiveInt }),
  channel: v.pipe(
    v.strictObject({
      maxFrameBytes: v.pipe(positiveInt, v.maxValue(64 * 1024 * 1024)),
      /** What may wait unread on a plugin's stdin besides calls; a plugin that lets it fill is killed. */
      maxQueuedBytes: positiveInt,
    }),
    v.check(
      (channel) => channel.maxQueuedBytes >= channel.maxFrameBytes + FRAME_HEADER_BYTES,
      'channel.maxQueuedBytes must hold at least one frame of maxFrameBytes (plus its 4-byte header)',
    ),
  ),
  heartbeat: v.strictObject({ intervalMs: positiveInt, missedLimit: positiveInt }),
  calls: v.strictObject({
    defaultTimeoutMs: positiveInt,
    maxTimeoutMs: positiveInt,
    cancelGraceMs: positiveInt,
    maxConcurrent: positiveInt,
    maxQueued: v.pipe(v.number(), v.integer(), v.minValue(0)),
    /** Scale-out: at most this many processes serve one tool. */
    maxProcesses: positiveInt,
    /** `progress` frames forwarded per call per second (the SDK is told, and sends no more); the rest are dropped and counted. */
    progressPerSecond: positiveInt,
  }),
  limits: v.strictObject({
    heapMb: positiveInt,
    rssMb: positiveInt,
    stderrLineBytes: positiveInt,
    stderrLinesPerSecond: positiveInt,
    stderrTailLines: positiveInt,
    /** CPU seconds per process, enforced by the OS (prlimit) where available. */
    cpuSeconds: positiveInt,
    /** Largest file a process may write, enforced by the OS (prlimit) where available. */
    fileSizeMb: positiveInt,
    rssCheckIntervalMs: positiveInt,
    /** Capability denials recorded one by one per launch; the rest are counted in its exit record. */
    auditDenialsPerLaunch: positiveInt,
    /** Secret-store reads one process may have waiting at once; past it `secret.get` is answered `overloaded`. */
    secretReadsInFlight: positiveInt,
  }),
  restart: v.strictObject({
    initialBackoffMs: positiveInt,
    maxBackoffMs: positiveInt,
    maxRestarts: positiveInt,
    windowMs: positiveInt,
    healthyUptimeMs: positiveInt,
  }),
  shutdown: v.strictObject({ graceMs: positiveInt }),
  /** Layers every tool process must run under: a host that cannot give one refuses to launch (`layer_unavailable`). */
  layers: v.optional(v.strictObject({ require: v.array(RequiredLayerSchema) }), { require: [] }),
  /** The egress gateway: what one tool process may do through it per call, and its own deadlines. */
  egress: v.strictObject({
    /** New connections (plain-HTTP requests count one each) per call; past it the call ends `resource_exhausted`. */
    connectionsPerCall: positiveInt,
    /** Bytes both ways per call over every connection. */
    bytesPerCall: positiveInt,
    /** Connections one process may have open at once. */
    concurrentConnections: positiveInt,
    /** How long the gateway's own name resolution may take before it refuses. */
    resolveTimeoutMs: positiveInt,
    /** How long dialling the vetted address may take. */
    connectTimeoutMs: positiveInt,
  }),
  toolProcess: v.strictObject({
    idleMs: positiveInt,
    /** How often a live process's writable trees are swept for set-uid/set-gid files. */
    setidSweepIntervalMs: positiveInt,
  }),
});

/** The launch numbers: `deno-launch.json` as validated (see {@link LaunchConfigSchema} for each field). */
export type LaunchConfig = v.InferOutput<typeof LaunchConfigSchema>;

/** Path of the `deno-launch.json` shipped at the package root. */
export const DEFAULT_LAUNCH_CONFIG_PATH = packagePath('deno-launch.json');

/** Validates a launch config object; errors name each bad field. */
export function parseLaunchConfig(input: unknown, source = 'deno-launch.json'): LaunchConfig {
  const result = v.safeParse(LaunchConfigSchema, input);
  if (!result.success) {
    const issues = toSchemaIssues(result.issues, LaunchConfigSchema);
    throw new PluginRuntimeError('config_invalid', describeSchemaIssues(source, issues), {
      details: { source, issues },
    });
  }
  return result.output;
}

/**
 * Reads and validates a `deno-launch.json` file: the launch numbers in force.
 *
 * @param path the file (default: the package's own `deno-launch.json`)
 * @returns the validated config, to adjust a copy of and pass as `launchConfig`
 * @throws PluginRuntimeError `config_invalid` naming each bad field
 * @example
 * const config = structuredClone(loadLaunchConfig());
 * config.calls.defaultTimeoutMs = 5_000;
 * createRuntime({ launchConfig: config });
 */
export function loadLaunchConfig(path = DEFAULT_LAUNCH_CONFIG_PATH): LaunchConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new PluginRuntimeError('config_invalid', `cannot read launch config ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseLaunchConfig(raw, path);
}
