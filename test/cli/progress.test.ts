import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FRAME_MS, PLAIN_EVERY_MS, REFRESH_MS, formatDuration, plainLine, progressDisplay, renderFrame, resolveProgressMode, type ProgressTerminal } from '../../src/cli/progress.js';
import { ProgressReporter, type ProgressSink } from '../../src/pipeline/index.js';

/** The renderers of src/cli/progress.ts, driven by a real reporter; fake timers move Date.now and the redraw timers together. */
const ESC = '\x1b';

/** A line as the terminal shows it: without its escape sequences and carriage returns. */
function visible(line: string): string {
  return line
    .split(ESC)
    .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*[A-Za-z]/, '')))
    .join('')
    .replace(/\r/g, '');
}

function terminal(isTTY: boolean, env: NodeJS.ProcessEnv = {}): ProgressTerminal & { out: string[] } {
  const out: string[] = [];
  return { out, isTTY, columns: 80, rows: 24, env, write: (t) => out.push(t) };
}

function run(sink: ProgressSink | undefined, tasks = 2): ProgressReporter {
  const clock = { now: () => Date.now(), sleep: async () => undefined };
  return new ProgressReporter({ clock, run: 'lake update', taskKind: 'dataset', itemKind: 'file', tasks, units: { unit: 'file', total: 3 }, sinks: [sink] });
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('progress mode', () => {
  it.each([
    ['auto', true, false, {}, 'tty'],
    ['auto', true, true, {}, 'tty'],
    ['auto', true, false, { TERM: 'dumb' }, 'plain'],
    ['auto', false, false, {}, 'plain'],
    ['auto', false, true, {}, 'off'],
    [undefined, false, false, {}, 'plain'],
    ['tty', false, true, {}, 'tty'],
    ['plain', true, false, {}, 'plain'],
    ['off', true, false, {}, 'off'],
  ] as const)('%s with a terminal %s and --json %s (%o) is %s', (mode, isTTY, json, env, expected) => {
    expect(resolveProgressMode(mode, { isTTY, env }, json)).toBe(expected);
  });

  it('off gives no sink', () => {
    expect(progressDisplay('off', terminal(true))).toBeUndefined();
  });
});

describe('live display (tty)', () => {
  it('draws a frame in place, at most one per FRAME_MS, refreshes elapsed times, and erases itself when the run finishes', () => {
    const term = { ...terminal(true), columns: 100 };
    const display = progressDisplay('tty', term)!;
    const progress = run(display);
    expect(term.out).toHaveLength(1); // attach draws at once
    expect(term.out[0]).toBe(`\r${ESC}[2K${ESC}[1mlake update · 0/2 datasets · 0/3 files · 0.0 s${ESC}[22m\n`);
    const task = progress.task('pbp', { unit: 'file', units: 2 });
    const file = task.item('nflverse/pbp/play_by_play_2020.parquet', { step: 'download' });
    file.update({ bytes: 0, bytesTotal: 30 * 1024 * 1024 });
    for (let i = 1; i <= 20; i++) {
      vi.advanceTimersByTime(10);
      file.update({ bytes: i * 512 * 1024 });
    }
    // 200 ms of chunks: the first update drew (the frame was old), then one frame per FRAME_MS.
    const frames = term.out.slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames.length).toBeLessThanOrEqual(1 + Math.ceil(200 / FRAME_MS));
    const last = term.out.at(-1)!;
    expect(last.startsWith(`${ESC}[2A`)).toBe(true); // back over the two lines it drew
    expect(last.replaceAll(ESC, '<ESC>')).toMatch(/\n\r<ESC>\[2K {2}pbp \[0\/2 files\] download \d+% [\d.]+\/30\.0 MB · [\d.]+ MB\/s · ETA [\d.]+ s · …pbp\/play_by_play_2020\.parquet\n$/);
    for (const frame of frames) expect(frame.split('\n').every((l) => [...visible(l)].length < 100)).toBe(true);

    const before = term.out.length;
    vi.advanceTimersByTime(REFRESH_MS + 1); // no news: the refresh redraws (elapsed moves)
    expect(term.out.length).toBeGreaterThan(before);

    file.finish({ status: 'committed', rows: 10, bytes: 30 * 1024 * 1024 });
    task.finish('ok');
    vi.advanceTimersByTime(FRAME_MS);
    progress.finish('ok');
    expect(term.out.at(-1)).toMatch(new RegExp(`^${ESC.replace('[', '\\[')}\\[\\dA\\r${ESC.replace('[', '\\[')}\\[J$`));
    const settled = term.out.length;
    vi.advanceTimersByTime(10 * REFRESH_MS);
    expect(term.out.length).toBe(settled); // no timer left drawing
  });

  it('shows a retry note on its item, keeps NO_COLOR, and stop() erases it when the command ends early', () => {
    const term = { ...terminal(true, { NO_COLOR: '1' }), columns: 120 };
    const display = progressDisplay('tty', term)!;
    const progress = run(display);
    const file = progress.task('teams', { unit: 'file', units: 1 }).item('teams.parquet', { step: 'download' });
    vi.advanceTimersByTime(FRAME_MS);
    file.note('HTTP 503, retrying in 1.0 s (attempt 2)');
    vi.advanceTimersByTime(FRAME_MS);
    expect(term.out.at(-1)).toContain('  teams [0/1 file] download · 0.2 s · HTTP 503, retrying in 1.0 s (attempt 2) · teams.parquet\n');
    expect(term.out.join('')).not.toContain(`${ESC}[1m`);
    display.stop();
    expect(term.out.at(-1)).toBe(`${ESC}[2A\r${ESC}[J`);
    display.stop();
    expect(term.out.at(-1)).toBe(`${ESC}[2A\r${ESC}[J`);
  });

  it('renderFrame clips lines to the width and folds what does not fit', () => {
    const progress = run(undefined, 8);
    for (let i = 0; i < 8; i++) progress.task(`dataset_${i}`, { unit: 'file', units: 1 }).item(`a/very/long/path/to/an/upstream/file/number_${i}_with_a_long_name.parquet`, { step: 'download' });
    const lines = renderFrame(progress.view(), { width: 60, maxLines: 5 });
    expect(lines).toHaveLength(5);
    expect(lines.at(-1)).toBe('  … and 5 more');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(59);
    expect(lines[1]).toBe('  dataset_0 [0/1 file] download · 0.0 s · …ong_name.parquet');
    expect(renderFrame(progress.view(), { width: 40, maxLines: 5 })[1]).toBe('  dataset_0 [0/1 file] download · 0.0 s');
  });
});

describe('plain lines (piped)', () => {
  it('one line per file and dataset finished, with rows, bytes, rates and units, and no escape codes', () => {
    const term = terminal(false);
    const display = progressDisplay('plain', term)!;
    const progress = run(display);
    const task = progress.task('teams', { unit: 'file', units: 1 });
    const file = task.item('nflverse/teams/teams_colors_logos.parquet', { step: 'download' });
    file.update({ bytes: 0, bytesTotal: 7596 });
    vi.advanceTimersByTime(500);
    file.update({ bytes: 7596 });
    file.step('write');
    vi.advanceTimersByTime(500);
    file.finish({ status: 'committed', rows: 36, bytes: 7596 });
    task.finish('ok');
    progress.finish('ok');
    expect(term.out.join('')).toBe(
      [
        'lake update: 2 datasets, 3 files',
        'lake update: teams nflverse/teams/teams_colors_logos.parquet: committed · 36 rows · 7.4 KB · 1.0 s · 36 rows/s · 14.8 KB/s · 1/1 file',
        'lake update: teams: ok · 1/1 file · 36 rows · 7.4 KB · 1.0 s · 36 rows/s · 7.4 KB/s · run 1/3 files, ETA 2.0 s',
        'lake update: ok · 1/3 files · 36 rows · 7.4 KB · 1.0 s · 36 rows/s · 7.4 KB/s',
        '',
      ].join('\n'),
    );
  });

  it('every PLAIN_EVERY_MS, a line per item running that long; notes as they come', () => {
    const term = terminal(false);
    const display = progressDisplay('plain', term)!;
    const progress = run(display);
    const file = progress.task('pbp', { unit: 'file', units: 1 }).item('pbp_2020.parquet', { step: 'download' });
    file.update({ bytes: 0, bytesTotal: 4 * 1024 * 1024 });
    vi.advanceTimersByTime(PLAIN_EVERY_MS / 2);
    file.update({ bytes: 1024 * 1024 });
    file.note('HTTP 429, retrying in 2.0 s (attempt 2)');
    vi.advanceTimersByTime(PLAIN_EVERY_MS / 2);
    const text = term.out.join('');
    expect(text).toContain('lake update: pbp pbp_2020.parquet: HTTP 429, retrying in 2.0 s (attempt 2)\n');
    // Stalled since 5 s: the rate falls with the time waited (1 MB in 10 s), and the ETA grows.
    expect(text).toContain('lake update: pbp pbp_2020.parquet: download · 1.0 MB of 4.0 MB (25%) · 102.4 KB/s · ETA 30 s · 10 s\n');
    expect(text).not.toContain(ESC);
    display.stop();
    const settled = term.out.length;
    vi.advanceTimersByTime(3 * PLAIN_EVERY_MS);
    expect(term.out.length).toBe(settled);
  });

  it('plainLine skips starts and ticks of items', () => {
    const base = { run: 'lake promote', task: 'pbp', item: 'season=2020', rows: 0, bytes: 0, bytesTotal: null, unit: 'partition', unitsDone: 0, unitsTotal: 3, elapsedMs: 0, rowsPerSec: null, bytesPerSec: null, etaMs: null } as const;
    expect(plainLine({ ...base, event: 'start', scope: 'item' })).toBeUndefined();
    expect(plainLine({ ...base, event: 'tick', scope: 'item' })).toBeUndefined();
  });

  it.each([
    [400, '0.4 s'],
    [42_000, '42 s'],
    [185_000, '3m05s'],
    [3_720_000, '1h02m'],
  ])('formatDuration(%d) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
