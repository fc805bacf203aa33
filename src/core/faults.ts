/**
 * Named fault points (in the spirit of TiKV's fail-rs): `faultPoint('commit.linked')` marks a
 * step whose interruption matters. They are compiled into the normal build and inert until
 * `configureFaults` arms them — the CLI does so from `LAKE_FAULTPOINT` — so crash tests can stop
 * a real process exactly there instead of hoping a random SIGKILL lands in the window.
 *
 * Spec: a comma-separated list of `<name>[@<n>][=<action>]`; the point fires on its n-th hit
 * (default the first); actions: `kill` (default: SIGKILL this process, like a power cut),
 * `enospc` (throw an ENOSPC error, like a full disk), `error` (throw a plain error),
 * `sleep(<ms>)` (block the whole process that long, then go on: a slow step, so another process
 * can meet this one mid-command, e.g. while it holds the lake lock).
 */
export type FaultAction = 'kill' | 'enospc' | 'error' | 'sleep';

interface ArmedFault {
  hit: number;
  action: FaultAction;
  sleepMs: number;
  seen: number;
}

const armed = new Map<string, ArmedFault>();

/** Every fault point the code passes, for tests that iterate over them and for `--help` texts. */
export const FAULT_POINTS = [
  'lock.taken',
  'write.data-files',
  'commit.temp-written',
  'commit.linked',
  'checkpoint.parquet-written',
  'checkpoint.last-written',
  'vacuum.midway',
  'restore.between-tables',
  'promote.between-tables',
  'gold.between-tables',
] as const;
export type FaultPointName = (typeof FAULT_POINTS)[number];

/** Arms the points named in `spec` (see the file header); an empty or undefined spec disarms all. */
export function configureFaults(spec: string | undefined): void {
  armed.clear();
  for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z0-9.-]+)(?:@(\d+))?(?:=(kill|enospc|error|sleep\((\d+)\)))?$/.exec(part);
    if (!m) throw new Error(`LAKE_FAULTPOINT: cannot read '${part}' (expected <name>[@<n>][=kill|enospc|error|sleep(<ms>)])`);
    const action = m[4] !== undefined ? 'sleep' : ((m[3] as FaultAction | undefined) ?? 'kill');
    armed.set(m[1]!, { hit: m[2] ? Number(m[2]) : 1, action, sleepMs: Number(m[4] ?? 0), seen: 0 });
  }
}

/** A fault point: does nothing unless armed; when armed and due, kills the process, throws, or sleeps. */
export function faultPoint(name: FaultPointName): void {
  if (armed.size === 0) return;
  const fault = armed.get(name);
  if (!fault || ++fault.seen !== fault.hit) return;
  if (fault.action === 'kill') {
    process.kill(process.pid, 'SIGKILL');
    // Never run on past the point while the signal is delivered.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  if (fault.action === 'sleep') {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, fault.sleepMs);
    return;
  }
  if (fault.action === 'enospc') throw Object.assign(new Error(`ENOSPC: no space left on device (fault point ${name})`), { code: 'ENOSPC' });
  throw new Error(`fault point ${name}`);
}
