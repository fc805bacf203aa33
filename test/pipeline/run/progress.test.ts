import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/index.js';
import { ProgressReporter, bytesEta, logSink, unitsEta, type ProgressSink, type ProgressUpdate } from '../../../src/pipeline/run/index.js';

/** A clock that moves only when the test says so. */
function fakeClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance(ms) {
      now += ms;
    },
  };
}

function recorder(tickMs: number): ProgressSink & { updates: ProgressUpdate[] } {
  const updates: ProgressUpdate[] = [];
  return { tickMs, updates, update: (u) => updates.push(u) };
}

function reporter(clock: Clock, sinks: ProgressSink[], units?: { unit: string; total: number }): ProgressReporter {
  return new ProgressReporter({ clock, run: 'lake update', taskKind: 'dataset', itemKind: 'file', tasks: 2, ...(units ? { units } : {}), sinks });
}

describe('progress math', () => {
  it.each([
    [0, 0, 10, null],
    [10_000, 0, 10, null],
    [10_000, 2, 10, 40_000],
    [10_000, 10, 10, 0],
    [10_000, 3, null, null],
  ])('unitsEta(elapsed %d, done %d, total %s) = %s', (elapsed, done, total, eta) => {
    expect(unitsEta(elapsed, done, total)).toBe(eta);
  });

  it.each([
    [500, 2000, 250, 6000],
    [500, null, 250, null],
    [500, 2000, null, null],
    [2000, 2000, 250, 0],
  ])('bytesEta(%d of %s at %s/s) = %s', (bytes, total, rate, eta) => {
    expect(bytesEta(bytes, total, rate)).toBe(eta);
  });
});

describe('ProgressReporter', () => {
  it('measures a download: bytes rate over the time bytes moved, ETA from the announced size, then rows at the finish', () => {
    const clock = fakeClock();
    const sink = recorder(0);
    const progress = reporter(clock, [sink], { unit: 'file', total: 4 });
    const task = progress.task('pbp', { unit: 'file', units: 2 });
    const file = task.item('pbp_2020.parquet', { step: 'queued' });
    clock.advance(1000); // waiting for a connection does not count towards the byte rate
    file.step('download');
    file.update({ bytes: 0, bytesTotal: 4_000_000 });
    clock.advance(2000);
    file.update({ bytes: 1_000_000 });
    const mid = sink.updates.at(-1)!;
    expect(mid).toMatchObject({ event: 'tick', scope: 'item', task: 'pbp', item: 'pbp_2020.parquet', step: 'download', bytes: 1_000_000, bytesTotal: 4_000_000, elapsedMs: 3000, bytesPerSec: 500_000, etaMs: 6000, rowsPerSec: null });
    clock.advance(6000);
    file.update({ bytes: 4_000_000 });
    file.step('write');
    clock.advance(2000); // writing: the byte rate stays the download's
    file.finish({ status: 'committed', rows: 50_000, bytes: 4_000_000 });
    const finished = sink.updates.at(-1)!;
    expect(finished).toMatchObject({ event: 'finish', status: 'committed', rows: 50_000, bytes: 4_000_000, elapsedMs: 11_000, bytesPerSec: 500_000, etaMs: 0, unitsDone: 1, unitsTotal: 2 });
    expect(finished.rowsPerSec).toBeCloseTo(50_000 / 11, 6);

    // The task's ETA: one file of two done after 11 s → 11 s more; the run's: 1 of 4 files → 33 s.
    const view = progress.view();
    expect(view.tasks[0]!.task).toMatchObject({ unitsDone: 1, unitsTotal: 2, rows: 50_000, bytes: 4_000_000, elapsedMs: 11_000, etaMs: 11_000 });
    expect(view.run).toMatchObject({ unit: 'file', unitsDone: 1, unitsTotal: 4, etaMs: 33_000 });
    expect(view).toMatchObject({ taskKind: 'dataset', tasksDone: 0, tasksTotal: 2 });
  });

  it('counts the bytes of an item in flight in its task and run, and restarts the byte rate when a retried download starts over', () => {
    const clock = fakeClock();
    const sink = recorder(0);
    const progress = reporter(clock, [sink]);
    const task = progress.task('teams', { unit: 'file', units: 1 });
    const file = task.item('teams.parquet');
    file.update({ bytes: 0, bytesTotal: 1000 });
    clock.advance(1000);
    file.update({ bytes: 600 });
    expect(progress.view().run).toMatchObject({ bytes: 600, unit: 'dataset', unitsDone: 0, unitsTotal: 2 });
    clock.advance(5000);
    file.note('timed out, retrying in 1.0 s (attempt 2)');
    expect(sink.updates.at(-1)).toMatchObject({ event: 'note', note: 'timed out, retrying in 1.0 s (attempt 2)', item: 'teams.parquet' });
    file.update({ bytes: 0 }); // the retry starts again
    clock.advance(1000);
    file.update({ bytes: 1000 });
    expect(sink.updates.at(-1)).toMatchObject({ bytes: 1000, bytesPerSec: 1000, etaMs: 0 });
  });

  it('throttles ticks per sink and per item, never starts, notes and finishes', () => {
    const clock = fakeClock();
    const fast = recorder(100);
    const slow = recorder(5000);
    const progress = reporter(clock, [fast, slow]);
    const task = progress.task('pbp', { unit: 'file', units: 2 });
    const a = task.item('a');
    const b = task.item('b');
    for (let i = 1; i <= 60; i++) {
      clock.advance(50); // a chunk every 50 ms for 3 s, on both items
      a.update({ bytes: i * 100 });
      b.update({ bytes: i * 100 });
    }
    const ticks = (s: { updates: ProgressUpdate[] }, item: string): number => s.updates.filter((u) => u.event === 'tick' && u.item === item).length;
    expect(ticks(fast, 'a')).toBe(30); // every other chunk: 100 ms apart
    expect(ticks(fast, 'b')).toBe(30);
    expect(ticks(slow, 'a')).toBe(0); // 3 s < 5 s since its start
    clock.advance(2000);
    a.update({ bytes: 7000 });
    expect(ticks(slow, 'a')).toBe(1);
    a.note('slow upstream');
    a.finish({ status: 'committed', rows: 10 });
    a.finish({ status: 'failed' }); // idempotent
    b.update({ bytes: 6100 });
    for (const sink of [fast, slow]) {
      expect(sink.updates.filter((u) => u.item === 'a').map((u) => u.event).filter((e) => e !== 'tick')).toEqual(['start', 'note', 'finish']);
    }
    expect(ticks(slow, 'b')).toBe(1);
  });

  it('finishes a task with its open items, counts finished tasks for a run without units, and detaches sinks once', () => {
    const clock = fakeClock();
    const attached: boolean[] = [];
    const sink: ProgressSink & { updates: ProgressUpdate[] } = { ...recorder(0), attach: (view) => attached.push(view !== undefined) };
    const progress = reporter(clock, [sink]);
    const task = progress.task('pbp', { unit: 'partition' });
    task.total(3);
    const group = task.item('season=2020');
    clock.advance(4000);
    group.finish({ status: 'staged', rows: 900, bytes: 4096, units: 2 });
    expect(progress.view().tasks[0]!.task).toMatchObject({ unitsDone: 2, unitsTotal: 3, etaMs: 2000 });
    task.item('commit', { step: 'commit' });
    task.finish('failed');
    expect(sink.updates.filter((u) => u.scope === 'item' && u.event === 'finish').map((u) => [u.item, u.status])).toEqual([
      ['season=2020', 'staged'],
      ['commit', 'failed'],
    ]);
    expect(progress.view()).toMatchObject({ tasksDone: 1, tasks: [], run: { unit: 'dataset', unitsDone: 1, unitsTotal: 2, rows: 900, bytes: 4096 } });
    progress.finish('failed');
    progress.finish('ok');
    expect(sink.updates.filter((u) => u.scope === 'run').map((u) => [u.event, u.status])).toEqual([
      ['start', undefined],
      ['finish', 'failed'],
    ]);
    expect(attached).toEqual([true, false]);
  });

  it('drops a sink that throws and goes on', () => {
    const clock = fakeClock();
    const good = recorder(0);
    const bad: ProgressSink = {
      tickMs: 0,
      update: () => {
        throw new Error('broken renderer');
      },
    };
    const progress = reporter(clock, [bad, good]);
    progress.task('teams', { unit: 'file', units: 1 }).item('x').finish({ status: 'committed', rows: 1 });
    expect(good.updates.map((u) => `${u.scope}:${u.event}`)).toEqual(['run:start', 'task:start', 'item:start', 'item:finish']);
  });

  it('logSink writes one `progress` line with the task and item under their kinds and rounded rates', () => {
    const lines: Record<string, unknown>[] = [];
    const log = { info: (fields: Record<string, unknown>, msg: string) => lines.push({ ...fields, msg }) } as unknown as Parameters<typeof logSink>[0];
    const clock = fakeClock();
    const progress = reporter(clock, [logSink(log, { taskKind: 'dataset', itemKind: 'file' })!]);
    const file = progress.task('teams', { unit: 'file', units: 1 }).item('teams.parquet');
    file.update({ bytes: 0, bytesTotal: 3000 });
    clock.advance(3000);
    file.finish({ status: 'committed', rows: 36, bytes: 3000 });
    expect(lines.at(-1)).toEqual({
      msg: 'progress',
      progress: 'finish',
      scope: 'item',
      dataset: 'teams',
      file: 'teams.parquet',
      status: 'committed',
      rows: 36,
      bytes: 3000,
      bytes_total: 3000,
      unit: 'file',
      units_done: 1,
      units_total: 1,
      elapsed_ms: 3000,
      rows_per_s: 12,
      bytes_per_s: 1000,
      eta_ms: 0,
    });
    expect(logSink(undefined, { taskKind: 'dataset', itemKind: 'file' })).toBeUndefined();
  });
});
