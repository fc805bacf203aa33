import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../../src/engine/index.js';
import { admission, memoryLimitBytes, onLakeWorkers, openLake } from '../../src/table/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const dirs = tempDirs('fork');
afterAll(() => dirs.cleanup());

async function setting(engine: Engine, name: string): Promise<string> {
  const [row] = await engine.rows<{ v: unknown }>(`SELECT current_setting('${name}') AS v`);
  return String(row!.v);
}

describe('Engine.fork: another connection to the same database', () => {
  it('shares the catalog, the budget and the time zone, not temp objects; closing it leaves the engine open', async () => {
    const engine = await openEngine({ tempRoot: await dirs.make('share'), memoryLimit: '300MiB' });
    try {
      await engine.run('CREATE TABLE shared AS SELECT 42 AS x');
      await engine.run('CREATE TEMP TABLE mine AS SELECT 1 AS y');
      const fork = await engine.fork();
      expect(fork.database).toBe(engine.database);
      expect(fork.tempDir).toBe(engine.tempDir);
      expect(await fork.rows('SELECT x FROM shared')).toEqual([{ x: 42 }]);
      await expect(fork.rows('SELECT y FROM mine')).rejects.toMatchObject({ code: 'SQL_ERROR' });
      expect(await setting(fork, 'TimeZone')).toBe('UTC');
      expect(await setting(fork, 'memory_limit')).toBe(await setting(engine, 'memory_limit'));
      fork.close();
      expect(await engine.rows('SELECT y FROM mine')).toEqual([{ y: 1 }]);
      engine.scratch();
    } finally {
      engine.close();
    }
    // The database and its spill folder go with the engine that opened it.
    expect(existsSync(engine.tempDir)).toBe(false);
  });

  it("runs a fork's statement while the engine's is still running (one connection would queue it)", async () => {
    const engine = await openEngine({ tempRoot: await dirs.make('side'), threads: 1 });
    const fork = await engine.fork();
    try {
      const order: string[] = [];
      const slow = engine.rows('SELECT sum(hash(i)) AS s FROM range(150000000) AS t(i)').then(() => order.push('slow'));
      // Let the slow statement start before the quick one is sent.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const quick = fork.rows('SELECT 1 AS one').then(() => order.push('quick'));
      await Promise.all([slow, quick]);
      expect(order).toEqual(['quick', 'slow']);
    } finally {
      fork.close();
      engine.close();
    }
  });

  it('inInsertionOrder keeps preserve_insertion_order on until the last overlapping work ends, over forks', async () => {
    const engine = await openEngine({ tempRoot: await dirs.make('order') });
    const fork = await engine.fork();
    try {
      expect(await setting(engine, 'preserve_insertion_order')).toBe('false');
      let releaseFirst!: () => void;
      const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
      const seen: string[] = [];
      const first = engine.inInsertionOrder(async () => {
        seen.push(`first:${await setting(engine, 'preserve_insertion_order')}`);
        await firstHeld;
      });
      const second = fork.inInsertionOrder(async () => {
        seen.push(`second:${await setting(fork, 'preserve_insertion_order')}`);
      });
      await second;
      // The second work ended while the first still runs: the setting stays on for it.
      expect(await setting(fork, 'preserve_insertion_order')).toBe('true');
      releaseFirst();
      await first;
      expect(seen.sort()).toEqual(['first:true', 'second:true']);
      expect(await setting(engine, 'preserve_insertion_order')).toBe('false');
      // A failing work switches it off too.
      await expect(fork.inInsertionOrder(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await setting(engine, 'preserve_insertion_order')).toBe('false');
    } finally {
      fork.close();
      engine.close();
    }
  });
});

describe('onLakeWorkers', () => {
  it('gives each concurrent worker its own connection, closes the forks, keeps item order, and fails only after every item ended', async () => {
    const lake = await openLake({ root: await dirs.make('workers'), create: true });
    try {
      const used = new Set<object>();
      const results = await onLakeWorkers(lake, 3, [1, 2, 3, 4, 5, 6], async (on, n) => {
        used.add(on.engine.connection);
        expect(on.engine.database).toBe(lake.engine.database);
        await new Promise((resolve) => setTimeout(resolve, 5 * (7 - n)));
        const [row] = await on.engine.rows<{ v: number }>(`SELECT ${n} * 10 AS v`);
        return row!.v;
      });
      expect(results).toEqual([10, 20, 30, 40, 50, 60]);
      // At most three connections: the lake's own and two forks.
      expect(used.size).toBeGreaterThan(1);
      expect(used.size).toBeLessThanOrEqual(3);
      expect(used.has(lake.engine.connection)).toBe(true);
      // The lake's own connection still works after the forks closed.
      expect(await lake.engine.rows('SELECT 7 AS v')).toEqual([{ v: 7 }]);

      const ended: number[] = [];
      await expect(
        onLakeWorkers(lake, 2, [1, 2, 3], async (on, n) => {
          if (n === 1) throw new Error('first fails');
          await new Promise((resolve) => setTimeout(resolve, 30));
          await on.engine.rows('SELECT 1');
          ended.push(n);
        }),
      ).rejects.toThrow('first fails');
      expect(ended.sort()).toEqual([2, 3]);
    } finally {
      lake.close();
    }
  });
});

describe('admission by input size', () => {
  it('admits steps while their bytes fit, runs a step larger than the capacity alone, and keeps the order asked', async () => {
    const admit = admission(100);
    const running = new Set<string>();
    const overlaps: string[][] = [];
    const gates = new Map<string, () => void>();
    const step = (name: string, bytes: number): Promise<void> =>
      admit(bytes, async () => {
        running.add(name);
        overlaps.push([...running].sort());
        await new Promise<void>((resolve) => gates.set(name, resolve));
        running.delete(name);
      });
    const until = async (name: string): Promise<void> => {
      while (!gates.has(name)) await new Promise((resolve) => setTimeout(resolve, 1));
    };
    const done = [step('a', 40), step('b', 50), step('big', 500), step('c', 10)];
    await until('b');
    // a and b fit together (90 of 100); big waits for both, and c, asked after big, waits for big.
    expect([...running].sort()).toEqual(['a', 'b']);
    gates.get('a')!();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect([...running]).toEqual(['b']);
    gates.get('b')!();
    await until('big');
    expect([...running]).toEqual(['big']);
    gates.get('big')!();
    await until('c');
    gates.get('c')!();
    await Promise.all(done);
    expect(overlaps).toEqual([['a'], ['a', 'b'], ['big'], ['c']]);
    // A failing step gives its room back.
    await expect(admit(100, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await admit(100, () => Promise.resolve('after'))).toBe('after');
  });

  it('reads the memory limit as DuckDB does', () => {
    expect(memoryLimitBytes('1GiB')).toBe(1024 ** 3);
    expect(memoryLimitBytes('512MB')).toBe(512e6);
    expect(memoryLimitBytes('2.5 GB')).toBe(2.5e9);
    expect(memoryLimitBytes('300MiB')).toBe(300 * 1024 ** 2);
    expect(memoryLimitBytes('50%')).toBeGreaterThan(0);
  });
});
