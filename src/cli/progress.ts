import { Option } from './commander.js';
import type { ProgressSink, ProgressUpdate, ProgressView } from '../pipeline/index.js';

/**
 * Progress on stderr for the long commands (bootstrap, update, recache-pbp, promote, build-gold):
 * the sinks of src/pipeline/run/progress.ts. Never writes to stdout (results, --json).
 * - `tty`: a live display redrawn in place (one write per frame, at most every FRAME_MS, only the
 *   lines it drew, each clipped to the terminal's width so none wraps), erased when the run
 *   finishes; bold header unless NO_COLOR.
 * - `plain`: lines, no escape codes: the run's start and end, one per file (group, mart) and per
 *   dataset finished, notes (retries), and every PLAIN_EVERY_MS a line per item still running.
 * - `off`: nothing.
 * `--progress <mode>` (or LAKE_PROGRESS) picks it; `auto` is tty on a terminal (TERM not dumb),
 * else plain, except that `--json` without a terminal is off (stderr stays for errors).
 */
export const PROGRESS_MODES = ['auto', 'tty', 'plain', 'off'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export const FRAME_MS = 100;
/** The live display also redraws this often with no news (elapsed times move). */
export const REFRESH_MS = 1_000;
export const PLAIN_EVERY_MS = 10_000;

export function progressOption(): Option {
  return new Option('--progress <mode>', 'progress on stderr: live display on a terminal (tty), summary lines (plain), or off; auto: tty on a terminal, else plain (off with --json)')
    .choices(PROGRESS_MODES)
    .env('LAKE_PROGRESS')
    .default('auto');
}

/** Where progress goes: stderr, whether it is a terminal, its size, the environment (NO_COLOR, TERM). */
export interface ProgressTerminal {
  write(text: string): void;
  isTTY: boolean;
  columns?: number | undefined;
  rows?: number | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The process's stderr (`isTTY` and `write` overridable: tests, commands with their own io). */
export function stderrTerminal(options: { isTTY?: boolean | undefined; write?: ((text: string) => void) | undefined } = {}): ProgressTerminal {
  return {
    write: options.write ?? ((t) => process.stderr.write(t)),
    isTTY: options.isTTY ?? process.stderr.isTTY === true,
    get columns() {
      return process.stderr.columns;
    },
    get rows() {
      return process.stderr.rows;
    },
    env: process.env,
  };
}

export function resolveProgressMode(mode: ProgressMode | undefined, terminal: Pick<ProgressTerminal, 'isTTY' | 'env'>, json: boolean): Exclude<ProgressMode, 'auto'> {
  if (mode && mode !== 'auto') return mode;
  if (terminal.isTTY && terminal.env?.['TERM'] !== 'dumb') return 'tty';
  return json ? 'off' : 'plain';
}

/** A sink the command stops (erasing a live display, ending timers) before it prints results or errors. */
export interface ProgressDisplay extends ProgressSink {
  stop(): void;
}

/** The sink for `mode`, or undefined when progress is off. */
export function progressDisplay(mode: ProgressMode | undefined, terminal: ProgressTerminal, json = false): ProgressDisplay | undefined {
  const resolved = resolveProgressMode(mode, terminal, json);
  if (resolved === 'off') return undefined;
  return resolved === 'tty' ? new LiveDisplay(terminal) : new PlainLines(terminal);
}

// ---- numbers as text -------------------------------------------------------------------------

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

function formatCount(n: number): string {
  if (n < 10_000) return Math.round(n).toLocaleString('en-US');
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

function plural(n: number | null, unit: string): string {
  return n === 1 ? unit : `${unit}s`;
}

function units(u: ProgressUpdate): string {
  return `${u.unitsDone}/${u.unitsTotal ?? '?'} ${plural(u.unitsTotal ?? 2, u.unit)}`;
}

/** The rate of an item in flight: bytes while they count (a download), else rows. */
function rate(u: ProgressUpdate): string | undefined {
  if (u.bytesPerSec !== null && u.bytes > 0) return `${formatBytes(u.bytesPerSec)}/s`;
  if (u.rowsPerSec !== null && u.rows > 0) return `${formatCount(u.rowsPerSec)} rows/s`;
  return undefined;
}

function rates(u: ProgressUpdate): string[] {
  return [...(u.rowsPerSec !== null && u.rows > 0 ? [`${formatCount(u.rowsPerSec)} rows/s`] : []), ...(u.bytesPerSec !== null && u.bytes > 0 ? [`${formatBytes(u.bytesPerSec)}/s`] : [])];
}

function eta(u: ProgressUpdate): string | undefined {
  return u.etaMs !== null && u.etaMs > 0 ? `ETA ${formatDuration(u.etaMs)}` : undefined;
}

/** rows · bytes · elapsed · rates: what was done (`rows` also when 0 unless `quietZero`). */
function done(u: ProgressUpdate, quietZero = false): string[] {
  return [...(u.rows > 0 || !quietZero ? [`${u.rows.toLocaleString('en-US')} rows`] : []), ...(u.bytes > 0 ? [formatBytes(u.bytes)] : []), formatDuration(u.elapsedMs), ...rates(u)];
}

/** Bytes so far for an item in flight: `1.0 MB of 4.0 MB (25%)`, compact `25% ▕██░░░░░░░░▏ 1.0/4.0 MB` (bar when `bar`). */
function bytesSoFar(u: ProgressUpdate, style: 'long' | 'compact', bar = false): string | undefined {
  if (u.bytesTotal !== null && u.bytesTotal > 0) {
    const share = Math.min(1, u.bytes / u.bytesTotal);
    const percent = `${Math.floor(share * 100)}%`;
    if (style === 'long') return `${formatBytes(u.bytes)} of ${formatBytes(u.bytesTotal)} (${percent})`;
    const cells = Math.round(share * 10);
    const [done, total] = [formatBytes(u.bytes), formatBytes(u.bytesTotal)];
    const sameUnit = done.split(' ')[1] === total.split(' ')[1];
    return `${percent}${bar ? ` ▕${'█'.repeat(cells)}${'░'.repeat(10 - cells)}▏` : ''} ${sameUnit ? `${done.split(' ')[0]}/${total}` : `${done}/${total}`}`;
  }
  return u.bytes > 0 ? formatBytes(u.bytes) : undefined;
}

/** step · bytes · rows · rate · ETA · elapsed of an item in flight (compact: elapsed only without an ETA). */
function inFlight(u: ProgressUpdate, style: 'long' | 'compact', bar = false): string[] {
  const bytes = bytesSoFar(u, style, bar);
  const step = style === 'compact' && u.step && bytes ? [`${u.step} ${bytes}`] : [...(u.step ? [u.step] : []), ...(bytes ? [bytes] : [])];
  const time = eta(u) ? [eta(u)!, ...(style === 'long' ? [formatDuration(u.elapsedMs)] : [])] : [formatDuration(u.elapsedMs)];
  return [...step, ...(u.rows > 0 ? [`${u.rows.toLocaleString('en-US')} rows`] : []), ...(rate(u) ? [rate(u)!] : []), ...time];
}

/** A long name shortened from the left (`…/pbp/play_by_play_2020.parquet`): its end says the most. */
function shorten(name: string, max: number): string {
  const chars = [...name];
  return chars.length > max ? `…${chars.slice(chars.length - max + 1).join('')}` : name;
}

/**
 * The live display's lines for `view`, each at most `width - 1` characters, at most `maxLines`
 * lines: the run's totals, then a line per item in flight (numbers first, the item's name last).
 */
export function renderFrame(view: ProgressView, options: { width: number; maxLines: number; notes?: ReadonlyMap<string, string> }): string[] {
  const { run } = view;
  const head = [`${run.run}`, `${view.tasksDone}/${view.tasksTotal} ${plural(view.tasksTotal, view.taskKind)}`];
  if (run.unit !== view.taskKind) head.push(units(run));
  if (run.bytes > 0) head.push(formatBytes(run.bytes));
  if (run.rows > 0) head.push(`${run.rows.toLocaleString('en-US')} rows`);
  head.push(formatDuration(run.elapsedMs));
  if (eta(run)) head.push(eta(run)!);
  const body: string[] = [];
  for (const { task, items } of view.tasks) {
    const label = `  ${task.task} [${units(task)}]`;
    if (items.length === 0) body.push([label, ...(task.step ? [task.step] : []), formatDuration(task.elapsedMs)].join(' · '));
    for (const item of items) {
      const note = options.notes?.get(noteKey(item));
      const head = `${label} ${[...inFlight(item, 'compact', options.width >= 110), ...(note ? [note] : [])].join(' · ')}`;
      const room = options.width - 1 - [...head].length - 3;
      body.push(room >= 12 ? `${head} · ${shorten(item.item ?? '', room)}` : head);
    }
  }
  const room = Math.max(1, options.maxLines - 1);
  const shown = body.length > room ? [...body.slice(0, room - 1), `  … and ${body.length - room + 1} more`] : body;
  return [head.join(' · '), ...shown].map((line) => clip(line, options.width - 1));
}

function clip(line: string, width: number): string {
  const chars = [...line];
  return chars.length > width ? `${chars.slice(0, Math.max(0, width - 1)).join('')}…` : line;
}

function noteKey(u: ProgressUpdate): string {
  return `${u.task ?? ''}\u0000${u.item ?? ''}`;
}

/** The `tty` mode: a frame of lines redrawn in place. */
class LiveDisplay implements ProgressDisplay {
  readonly tickMs = FRAME_MS;
  private view: (() => ProgressView) | undefined;
  private drawn = 0;
  private lastDraw = -Infinity;
  private pending: NodeJS.Timeout | undefined;
  private refresh: NodeJS.Timeout | undefined;
  private readonly notes = new Map<string, string>();
  private readonly color: boolean;

  constructor(private readonly terminal: ProgressTerminal) {
    const noColor = terminal.env?.['NO_COLOR'];
    this.color = noColor === undefined || noColor === '';
  }

  attach(view: (() => ProgressView) | undefined): void {
    if (view) {
      this.view = view;
      this.refresh ??= setInterval(() => this.draw(), REFRESH_MS).unref();
      this.draw();
    } else {
      this.stop();
    }
  }

  update(u: ProgressUpdate): void {
    if (u.event === 'note' && u.note) this.notes.set(noteKey(u), u.note);
    if (u.event === 'finish' && u.scope === 'item') this.notes.delete(noteKey(u));
    if (u.event === 'finish' && u.scope === 'run') return;
    const wait = FRAME_MS - (Date.now() - this.lastDraw);
    if (wait <= 0) this.draw();
    else this.pending ??= setTimeout(() => this.draw(), wait).unref();
  }

  stop(): void {
    if (this.pending) clearTimeout(this.pending);
    if (this.refresh) clearInterval(this.refresh);
    this.pending = undefined;
    this.refresh = undefined;
    this.view = undefined;
    this.notes.clear();
    if (this.drawn > 0) this.terminal.write(`${up(this.drawn)}\r\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    if (!this.view) return;
    this.lastDraw = Date.now();
    // A terminal of unknown size (0 × 0: a pty nobody sized) draws as 100 × 24.
    const lines = renderFrame(this.view(), { width: this.terminal.columns || 100, maxLines: Math.min(12, Math.max(2, (this.terminal.rows || 24) - 2)), notes: this.notes });
    if (this.color) lines[0] = `\x1b[1m${lines[0]}\x1b[22m`;
    const frame = `${up(this.drawn)}${lines.map((l) => `\r\x1b[2K${l}\n`).join('')}${lines.length < this.drawn ? '\x1b[J' : ''}`;
    this.drawn = lines.length;
    this.terminal.write(frame);
  }
}

function up(lines: number): string {
  return lines > 0 ? `\x1b[${lines}A` : '';
}

/** The `plain` mode: one line per event worth keeping, no escape codes. */
class PlainLines implements ProgressDisplay {
  /** Ticks never come: the periodic lines are pulled from the view. */
  readonly tickMs = Number.POSITIVE_INFINITY;
  private view: (() => ProgressView) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly terminal: ProgressTerminal) {}

  attach(view: (() => ProgressView) | undefined): void {
    this.view = view;
    if (view) this.timer ??= setInterval(() => this.poll(), PLAIN_EVERY_MS).unref();
    else this.stop();
  }

  update(u: ProgressUpdate): void {
    const line = plainLine(u, this.view?.());
    if (line) this.terminal.write(`${line}\n`);
  }

  /** A line per item running for PLAIN_EVERY_MS or more. */
  poll(): void {
    const view = this.view?.();
    if (!view) return;
    for (const { items } of view.tasks) {
      for (const item of items) if (item.elapsedMs >= PLAIN_EVERY_MS) this.terminal.write(`${item.run}: ${item.task} ${item.item}: ${inFlight(item, 'long').join(' · ')}\n`);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.view = undefined;
  }
}

/** The plain line for an update (undefined: none), e.g. `lake update: teams nflverse/teams/….parquet: committed · 36 rows · 12.3 KB · 0.1 s · 120.0 KB/s · 1/1 file`. */
export function plainLine(u: ProgressUpdate, view?: ProgressView): string | undefined {
  if (u.scope === 'run') {
    if (u.event === 'start') return `${u.run}: ${view ? `${view.tasksTotal} ${plural(view.tasksTotal, view.taskKind)}` : 'started'}${view && u.unit !== view.taskKind ? `, ${u.unitsTotal} ${plural(u.unitsTotal, u.unit)}` : ''}`;
    if (u.event === 'finish') return `${u.run}: ${u.status ?? 'finished'} · ${units(u)} · ${done(u).join(' · ')}`;
    return undefined;
  }
  if (u.event === 'note') return `${u.run}: ${u.task}${u.item ? ` ${u.item}` : ''}: ${u.note}`;
  if (u.event !== 'finish') return undefined;
  if (u.scope === 'item') {
    const task = view?.tasks.find((t) => t.task.task === u.task)?.task;
    return `${u.run}: ${u.task} ${u.item}: ${u.status} · ${done(u, true).join(' · ')} · ${units(u)}${task && eta(task) ? `, ${eta(task)}` : ''}`;
  }
  const run = view?.run;
  const overall = run ? ` · run ${units(run)}${eta(run) ? `, ${eta(run)}` : ''}` : '';
  return `${u.run}: ${u.task}: ${u.status} · ${units(u)} · ${done(u).join(' · ')}${overall}`;
}
