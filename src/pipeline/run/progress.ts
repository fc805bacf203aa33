import type { Clock, Logger } from '../../core/index.js';

/**
 * Progress of a long run, for a person and for the run log. Pipeline code reports what it does to
 * a `ProgressReporter`: tasks (a dataset, a mart), items inside a task (a file, a group of
 * partitions, a mart's build) that move through steps (download, write, stage, commit) and carry
 * rows and bytes. The reporter measures elapsed time, rates and ETAs with the run's Clock and
 * hands `ProgressUpdate`s to sinks: starts, finishes and notes always, ticks (an item's bytes or
 * rows moved) at most every `sink.tickMs` per item. A sink may also pull the current
 * `ProgressView` (every task and item in flight) while the run is attached to it.
 * Nothing here knows about terminals: the CLI's renderers are sinks; `logSink` writes the numbers
 * to the run's JSONL log.
 *
 * ETA: an item's from its bytes (remaining bytes at the rate so far, when the total is known, as
 * for a download with Content-Length); a task's and the run's from units done over the total
 * units known (elapsed × remaining / done), null while nothing is done or the total is unknown.
 */
export type ProgressEventKind = 'start' | 'tick' | 'finish' | 'note';
export type ProgressScope = 'run' | 'task' | 'item';

export interface ProgressUpdate {
  event: ProgressEventKind;
  scope: ProgressScope;
  /** The run's label, e.g. `lake update`. */
  run: string;
  /** The task (dataset or mart); absent for the run. */
  task?: string;
  /** The item (file, group of partitions, build) inside the task; only for items. */
  item?: string;
  step?: string;
  /** Finish: the outcome (committed, unchanged, failed, …). */
  status?: string;
  /** Note: a message (a retry, …). */
  note?: string;
  rows: number;
  bytes: number;
  /** The bytes expected (an item whose size is known), else null. */
  bytesTotal: number | null;
  /** What units count: files, partitions, seasons (a task) or the run's unit. */
  unit: string;
  unitsDone: number;
  unitsTotal: number | null;
  elapsedMs: number;
  rowsPerSec: number | null;
  bytesPerSec: number | null;
  etaMs: number | null;
}

/** Everything in flight: the run's numbers, and each unfinished task with its unfinished items (oldest first). */
export interface ProgressView {
  run: ProgressUpdate;
  /** What the run's tasks are (`dataset`, `mart`). */
  taskKind: string;
  tasksDone: number;
  tasksTotal: number;
  tasks: { task: ProgressUpdate; items: ProgressUpdate[] }[];
}

export interface ProgressSink {
  /** Ticks of one item reach the sink at most this often (starts, finishes and notes always do). */
  readonly tickMs: number;
  update(update: ProgressUpdate): void;
  /** The run started (with a way to pull its current view) or finished (`undefined`). */
  attach?(view: (() => ProgressView) | undefined): void;
}

export interface ProgressOptions {
  clock: Clock;
  /** e.g. `lake update`. */
  run: string;
  /** What a task is, for renderers and the log (`dataset`, `mart`). */
  taskKind: string;
  /** What an item is, for the log (`file`, `group`, `build`). */
  itemKind: string;
  /** Tasks in the run. */
  tasks: number;
  /** Run-level units: a unit every task counts (with its total, e.g. files), else the run counts tasks. */
  units?: { unit: string; total: number };
  sinks: readonly (ProgressSink | undefined)[];
}

interface ItemState {
  id: number;
  name: string;
  step: string | undefined;
  startedAt: number;
  finishedAt: number | undefined;
  rows: number;
  bytes: number;
  bytesTotal: number | null;
  /** When the bytes started counting (null: none yet) and when they last moved; `bytesOpen` while they still may. */
  bytesFrom: number | null;
  bytesAt: number;
  bytesOpen: boolean;
}

interface TaskState {
  name: string;
  unit: string;
  unitsTotal: number | null;
  unitsDone: number;
  /** Of finished items. */
  rows: number;
  bytes: number;
  step: string | undefined;
  startedAt: number;
  finishedAt: number | undefined;
  items: Map<number, ItemState>;
}

export interface ItemProgress {
  /** The item enters a step (download, write, stage, commit). Bytes counted before stop growing. */
  step(name: string): void;
  /** Absolute numbers so far (bytes lower than before restart the byte count: a retried download). */
  update(numbers: { rows?: number; bytes?: number; bytesTotal?: number | null }): void;
  note(message: string): void;
  /** Final numbers; `units` (default 1) count towards the task's units done. Idempotent. */
  finish(outcome: { status: string; rows?: number; bytes?: number; units?: number }): void;
}

export interface TaskProgress {
  /** The units the task will do, once known (e.g. the partitions of a promote). */
  total(units: number): void;
  step(name: string): void;
  item(name: string, options?: { step?: string; bytesTotal?: number }): ItemProgress;
  /** Idempotent; finishes any item still open with the same status. */
  finish(status: string): void;
}

function perSecond(amount: number, ms: number): number | null {
  return ms > 0 ? (amount * 1000) / ms : null;
}

/** elapsed × remaining / done: null while nothing is done or the total is unknown; 0 when all is done. */
export function unitsEta(elapsedMs: number, done: number, total: number | null): number | null {
  if (total === null) return null;
  if (done >= total) return 0;
  if (done <= 0) return null;
  return (elapsedMs * (total - done)) / done;
}

/** Remaining bytes at `bytesPerSec`: null without a total or a rate. */
export function bytesEta(bytes: number, bytesTotal: number | null, bytesPerSec: number | null): number | null {
  if (bytesTotal === null) return null;
  if (bytes >= bytesTotal) return 0;
  if (!bytesPerSec) return null;
  return ((bytesTotal - bytes) * 1000) / bytesPerSec;
}

interface SinkEntry {
  sink: ProgressSink;
  /** Item id → when its last update reached this sink. */
  lastTick: Map<number, number>;
  /** It threw once: it gets nothing more. */
  dropped: boolean;
}

export class ProgressReporter {
  private readonly sinks: SinkEntry[];
  private readonly tasks: TaskState[] = [];
  private readonly startedAt: number;
  private finishedAt: number | undefined;
  private nextId = 0;

  constructor(private readonly options: ProgressOptions) {
    this.sinks = options.sinks.filter((s): s is ProgressSink => s !== undefined).map((sink) => ({ sink, lastTick: new Map(), dropped: false }));
    this.startedAt = options.clock.now();
    for (const entry of this.sinks) this.guard(entry, () => entry.sink.attach?.(() => this.view()));
    this.emit(this.runUpdate('start'));
  }

  task(name: string, options: { unit: string; units?: number }): TaskProgress {
    const state: TaskState = { name, unit: options.unit, unitsTotal: options.units ?? null, unitsDone: 0, rows: 0, bytes: 0, step: undefined, startedAt: this.now(), finishedAt: undefined, items: new Map() };
    this.tasks.push(state);
    this.emit(this.taskUpdate(state, 'start'));
    return {
      total: (units) => {
        state.unitsTotal = units;
      },
      step: (step) => {
        state.step = step;
      },
      item: (itemName, itemOptions = {}) => this.item(state, itemName, itemOptions),
      finish: (status) => {
        if (state.finishedAt !== undefined) return;
        for (const open of [...state.items.values()]) this.finishItem(state, open, { status, units: 0 });
        state.finishedAt = this.now();
        this.emit(this.taskUpdate(state, 'finish', { status }));
      },
    };
  }

  /** Ends the run (idempotent): a last run update, then sinks are detached. */
  finish(status: string): void {
    if (this.finishedAt !== undefined) return;
    this.finishedAt = this.now();
    this.emit({ ...this.runUpdate('finish'), status });
    for (const entry of this.sinks) this.guard(entry, () => entry.sink.attach?.(undefined));
  }

  /** The run as it is now. */
  view(): ProgressView {
    const open = this.tasks.filter((t) => t.finishedAt === undefined);
    return {
      run: this.runUpdate('tick'),
      taskKind: this.options.taskKind,
      tasksDone: this.tasks.length - open.length,
      tasksTotal: this.options.tasks,
      tasks: open.map((t) => ({ task: this.taskUpdate(t, 'tick'), items: [...t.items.values()].map((i) => this.itemUpdate(t, i, 'tick')) })),
    };
  }

  private item(task: TaskState, name: string, options: { step?: string; bytesTotal?: number }): ItemProgress {
    const now = this.now();
    const state: ItemState = { id: this.nextId++, name, step: options.step, startedAt: now, finishedAt: undefined, rows: 0, bytes: 0, bytesTotal: options.bytesTotal ?? null, bytesFrom: null, bytesAt: now, bytesOpen: false };
    task.items.set(state.id, state);
    this.emit(this.itemUpdate(task, state, 'start'), state.id);
    const open = (): boolean => state.finishedAt === undefined;
    return {
      step: (step) => {
        if (!open()) return;
        state.step = step;
        if (state.bytesOpen) {
          state.bytesOpen = false;
          state.bytesAt = this.now();
        }
        this.emit(this.itemUpdate(task, state, 'tick'), state.id, true);
      },
      update: (numbers) => {
        if (!open()) return;
        const at = this.now();
        if (numbers.bytesTotal !== undefined) state.bytesTotal = numbers.bytesTotal;
        if (numbers.bytes !== undefined) {
          if (state.bytesFrom === null || numbers.bytes < state.bytes) state.bytesFrom = at;
          state.bytes = numbers.bytes;
          state.bytesAt = at;
          state.bytesOpen = true;
        }
        if (numbers.rows !== undefined) state.rows = numbers.rows;
        this.emit(this.itemUpdate(task, state, 'tick'), state.id, true);
      },
      note: (message) => {
        if (open()) this.emit({ ...this.itemUpdate(task, state, 'note'), note: message }, state.id);
      },
      finish: (outcome) => {
        if (open()) this.finishItem(task, state, outcome);
      },
    };
  }

  private finishItem(task: TaskState, state: ItemState, outcome: { status: string; rows?: number; bytes?: number; units?: number }): void {
    const at = this.now();
    if (outcome.rows !== undefined) state.rows = outcome.rows;
    if (outcome.bytes !== undefined && outcome.bytes !== state.bytes) {
      state.bytes = outcome.bytes;
      if (state.bytesFrom === null) state.bytesFrom = state.startedAt;
      state.bytesAt = at;
    } else if (state.bytesOpen) {
      state.bytesAt = at;
    }
    state.bytesOpen = false;
    state.finishedAt = at;
    task.items.delete(state.id);
    task.rows += state.rows;
    task.bytes += state.bytes;
    task.unitsDone += outcome.units ?? 1;
    this.emit({ ...this.itemUpdate(task, state, 'finish'), status: outcome.status }, state.id);
    for (const entry of this.sinks) entry.lastTick.delete(state.id);
  }

  private now(): number {
    return this.options.clock.now();
  }

  private itemUpdate(task: TaskState, state: ItemState, event: ProgressEventKind): ProgressUpdate {
    const end = state.finishedAt ?? this.now();
    const elapsedMs = end - state.startedAt;
    const bytesEnd = state.bytesOpen ? end : state.bytesAt;
    const bytesPerSec = state.bytesFrom === null ? null : perSecond(state.bytes, bytesEnd - state.bytesFrom);
    return {
      event,
      scope: 'item',
      run: this.options.run,
      task: task.name,
      item: state.name,
      ...(state.step !== undefined ? { step: state.step } : {}),
      rows: state.rows,
      bytes: state.bytes,
      bytesTotal: state.bytesTotal,
      unit: task.unit,
      unitsDone: task.unitsDone,
      unitsTotal: task.unitsTotal,
      elapsedMs,
      rowsPerSec: state.rows > 0 ? perSecond(state.rows, elapsedMs) : null,
      bytesPerSec,
      etaMs: state.finishedAt !== undefined ? 0 : bytesEta(state.bytes, state.bytesTotal, bytesPerSec),
    };
  }

  private taskUpdate(task: TaskState, event: ProgressEventKind, extra: { status?: string } = {}): ProgressUpdate {
    const elapsedMs = (task.finishedAt ?? this.now()) - task.startedAt;
    let rows = task.rows;
    let bytes = task.bytes;
    for (const item of task.items.values()) {
      rows += item.rows;
      bytes += item.bytes;
    }
    return {
      event,
      scope: 'task',
      run: this.options.run,
      task: task.name,
      ...(task.step !== undefined ? { step: task.step } : {}),
      ...extra,
      rows,
      bytes,
      bytesTotal: null,
      unit: task.unit,
      unitsDone: task.unitsDone,
      unitsTotal: task.unitsTotal,
      elapsedMs,
      rowsPerSec: rows > 0 ? perSecond(rows, elapsedMs) : null,
      bytesPerSec: bytes > 0 ? perSecond(bytes, elapsedMs) : null,
      etaMs: task.finishedAt !== undefined ? 0 : unitsEta(elapsedMs, task.unitsDone, task.unitsTotal),
    };
  }

  private runUpdate(event: ProgressEventKind): ProgressUpdate {
    const elapsedMs = (this.finishedAt ?? this.now()) - this.startedAt;
    let rows = 0;
    let bytes = 0;
    let unitsDone = 0;
    for (const task of this.tasks) {
      const t = this.taskUpdate(task, 'tick');
      rows += t.rows;
      bytes += t.bytes;
      unitsDone += this.options.units ? task.unitsDone : task.finishedAt !== undefined ? 1 : 0;
    }
    const unitsTotal = this.options.units?.total ?? this.options.tasks;
    return {
      event,
      scope: 'run',
      run: this.options.run,
      rows,
      bytes,
      bytesTotal: null,
      unit: this.options.units?.unit ?? this.options.taskKind,
      unitsDone,
      unitsTotal,
      elapsedMs,
      rowsPerSec: rows > 0 ? perSecond(rows, elapsedMs) : null,
      bytesPerSec: bytes > 0 ? perSecond(bytes, elapsedMs) : null,
      etaMs: this.finishedAt !== undefined ? 0 : unitsEta(elapsedMs, unitsDone, unitsTotal),
    };
  }

  /** Sends `update` to every sink; a tick of item `id` only to sinks whose last delivery for it is `tickMs` old. */
  private emit(update: ProgressUpdate, id?: number, tick = false): void {
    const now = this.now();
    for (const entry of this.sinks) {
      if (id !== undefined) {
        if (tick && now - (entry.lastTick.get(id) ?? -Infinity) < entry.sink.tickMs) continue;
        entry.lastTick.set(id, now);
      }
      this.guard(entry, () => entry.sink.update(update));
    }
  }

  /** Progress never fails a run: a sink that throws is dropped. */
  private guard(entry: SinkEntry, fn: () => void): void {
    if (entry.dropped) return;
    try {
      fn();
    } catch {
      entry.dropped = true;
    }
  }
}

/** How often the run log gets an item's ticks. */
export const LOG_TICK_MS = 5_000;

/**
 * The run log's sink: one `progress` line per start, tick (every LOG_TICK_MS per item), note and
 * finish, with the task under `taskKind` (dataset, mart) and the item under `itemKind` (file, group).
 */
export function logSink(log: Logger | undefined, kinds: { taskKind: string; itemKind: string }): ProgressSink | undefined {
  if (!log) return undefined;
  const round = (n: number | null): number | null => (n === null ? null : Math.round(n));
  return {
    tickMs: LOG_TICK_MS,
    update(u) {
      log.info(
        {
          progress: u.event,
          scope: u.scope,
          ...(u.task !== undefined ? { [kinds.taskKind]: u.task } : {}),
          ...(u.item !== undefined ? { [kinds.itemKind]: u.item } : {}),
          ...(u.step !== undefined ? { step: u.step } : {}),
          ...(u.status !== undefined ? { status: u.status } : {}),
          ...(u.note !== undefined ? { note: u.note } : {}),
          rows: u.rows,
          bytes: u.bytes,
          ...(u.bytesTotal !== null ? { bytes_total: u.bytesTotal } : {}),
          unit: u.unit,
          units_done: u.unitsDone,
          units_total: u.unitsTotal,
          elapsed_ms: Math.round(u.elapsedMs),
          rows_per_s: round(u.rowsPerSec),
          bytes_per_s: round(u.bytesPerSec),
          eta_ms: round(u.etaMs),
        },
        'progress',
      );
    },
  };
}
