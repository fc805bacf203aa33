/**
 * A checkpoint's `add` actions held column-wise (one array per field, partition values and tags
 * as dictionaries). A 100,000-file checkpoint then costs a handful of arrays instead of 100,000
 * action objects and a 100,000-entry map during replay: snapshots replay the commits after the
 * checkpoint on their own, and build an object only for each checkpoint file still active.
 */
import type { Action, AddAction } from './actions.js';
import { fileKey } from './replay.js';

export interface AddColumns {
  length: number;
  path: string[];
  /** Index into `values`. */
  partitionValues: ArrayLike<number>;
  /** Frozen: shared by every add built from these columns. */
  values: Readonly<Record<string, string | null>>[];
  size: ArrayLike<number>;
  modificationTime: ArrayLike<number>;
  /** 1 or 0. */
  dataChange: ArrayLike<number>;
  /** Index into `tagSets`, -1 for none. */
  tags: ArrayLike<number>;
  /** Frozen, like `values`. */
  tagSets: Readonly<Record<string, string>>[];
  /** Absent when stats were not loaded; null entries for files without stats. */
  stats?: (string | null)[];
  /** Any other field of an add (deletion vector, row ids, clustering), by row; absent when no row has one. */
  rest?: (Record<string, unknown> | null)[];
}

/** A checkpoint read column-wise: its adds, and every other action as objects. */
export interface ColumnarCheckpoint {
  adds: AddColumns;
  other: Action[];
}

const ADD_FIELDS = new Set(['path', 'partitionValues', 'size', 'modificationTime', 'dataChange', 'tags', 'stats']);

/** One add's fields for `AddColumnsBuilder`: partition values and tags as JSON text (interned). */
export interface AddRow {
  path: string;
  partitionValues: string;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  tags: string | undefined;
  stats: string | null;
  rest: Record<string, unknown> | null;
}

/** Builds `AddColumns` row by row; the dictionaries are parsed (and frozen) once at the end. */
export class AddColumnsBuilder {
  private readonly valueIds = new Map<string, number>();
  private readonly tagIds = new Map<string, number>();
  private readonly path: string[] = [];
  private readonly partitionValues: number[] = [];
  private readonly size: number[] = [];
  private readonly modificationTime: number[] = [];
  private readonly dataChange: number[] = [];
  private readonly tags: number[] = [];
  private readonly stats: (string | null)[] = [];
  private readonly rest: (Record<string, unknown> | null)[] = [];
  private anyStats = false;
  private anyRest = false;

  push(row: AddRow): void {
    this.path.push(row.path);
    this.partitionValues.push(intern(this.valueIds, row.partitionValues));
    this.size.push(row.size);
    this.modificationTime.push(row.modificationTime);
    this.dataChange.push(row.dataChange ? 1 : 0);
    this.tags.push(row.tags === undefined ? -1 : intern(this.tagIds, row.tags));
    this.anyStats ||= row.stats !== null;
    this.stats.push(row.stats);
    this.anyRest ||= row.rest !== null;
    this.rest.push(row.rest);
  }

  /**
   * Rows that share partition values and tags (looked up once), their other fields by row
   * (`dataChange` 1 or 0; `stats` and `rest` absent when no row has one).
   */
  pushGroup(
    partitionValues: string,
    tags: string | undefined,
    rows: {
      path: readonly string[];
      size: ArrayLike<number>;
      modificationTime: ArrayLike<number>;
      dataChange: ArrayLike<number>;
      stats?: readonly (string | null)[];
      rest?: readonly (Record<string, unknown> | null)[];
    },
  ): void {
    const values = intern(this.valueIds, partitionValues);
    const tagSet = tags === undefined ? -1 : intern(this.tagIds, tags);
    const { path, size, modificationTime, dataChange, stats, rest } = rows;
    for (let i = 0; i < path.length; i++) {
      this.path.push(path[i]!);
      this.partitionValues.push(values);
      this.size.push(size[i]!);
      this.modificationTime.push(modificationTime[i]!);
      this.dataChange.push(dataChange[i] === 1 ? 1 : 0);
      this.tags.push(tagSet);
      const s = stats ? stats[i]! : null;
      this.anyStats ||= s !== null;
      this.stats.push(s);
      const r = rest ? rest[i]! : null;
      this.anyRest ||= r !== null;
      this.rest.push(r);
    }
  }

  finish(): AddColumns {
    const parsed = <T>(ids: Map<string, number>): Readonly<T>[] => [...ids.keys()].map((t) => Object.freeze(JSON.parse(t) as T));
    const adds: AddColumns = {
      length: this.path.length,
      path: this.path,
      partitionValues: this.partitionValues,
      values: parsed<Record<string, string | null>>(this.valueIds),
      size: this.size,
      modificationTime: this.modificationTime,
      dataChange: this.dataChange,
      tags: this.tags,
      tagSets: parsed<Record<string, string>>(this.tagIds),
    };
    if (this.anyStats) adds.stats = this.stats;
    if (this.anyRest) adds.rest = this.rest;
    return adds;
  }
}

function intern(map: Map<string, number>, text: string): number {
  let index = map.get(text);
  if (index === undefined) map.set(text, (index = map.size));
  return index;
}

/** Splits actions into columns for the adds and the other actions as they are. */
export function toColumnarCheckpoint(actions: readonly Action[]): ColumnarCheckpoint {
  const builder = new AddColumnsBuilder();
  const other: Action[] = [];
  for (const action of actions) {
    if (action.kind !== 'add') {
      other.push(action);
      continue;
    }
    const add = action.add;
    let rest: Record<string, unknown> | null = null;
    for (const [k, v] of Object.entries(add)) {
      if (ADD_FIELDS.has(k) || v === undefined) continue;
      (rest ??= {})[k] = v;
    }
    builder.push({
      path: add.path,
      partitionValues: JSON.stringify(add.partitionValues),
      size: add.size,
      modificationTime: add.modificationTime,
      dataChange: add.dataChange,
      tags: add.tags ? JSON.stringify(add.tags) : undefined,
      stats: typeof add.stats === 'string' ? add.stats : null,
      rest,
    });
  }
  return { adds: builder.finish(), other };
}

/**
 * The add at row `i`, as a fresh object. Its `partitionValues` and `tags` are the frozen
 * dictionary entries, shared with every other file of the same partition (copying them was a
 * third of the cost of a 100,000-file snapshot); nothing mutates them, and a mutation would throw.
 */
export function addAt(columns: AddColumns, i: number): AddAction {
  const add: AddAction = {
    path: columns.path[i]!,
    partitionValues: columns.values[columns.partitionValues[i]!]! as Record<string, string | null>,
    size: columns.size[i]!,
    modificationTime: columns.modificationTime[i]!,
    dataChange: columns.dataChange[i] === 1,
  };
  const tags = columns.tags[i]!;
  if (tags >= 0) add.tags = columns.tagSets[tags]! as Record<string, string>;
  const stats = columns.stats?.[i];
  if (stats !== null && stats !== undefined) add.stats = stats;
  const rest = columns.rest?.[i];
  if (rest) Object.assign(add, rest);
  return add;
}

/** The replay key (`fileKey`) of row `i`. */
export function addKeyAt(columns: AddColumns, i: number): string {
  const rest = columns.rest?.[i];
  return fileKey({ path: columns.path[i]!, deletionVector: (rest?.['deletionVector'] as AddAction['deletionVector']) ?? null });
}

/**
 * The active files of a snapshot that starts from a columnar checkpoint: every checkpoint add
 * whose key no later commit touched (removed, or added again: the later add is in `later`), then
 * the files added after the checkpoint. Equal to replaying the checkpoint's adds as actions.
 */
export function activeFiles(checkpoint: readonly AddColumns[], touched: ReadonlySet<string>, later: Iterable<AddAction>): AddAction[] {
  const files: AddAction[] = [];
  for (const columns of checkpoint) {
    for (let i = 0; i < columns.length; i++) {
      if (touched.size > 0 && touched.has(addKeyAt(columns, i))) continue;
      files.push(addAt(columns, i));
    }
  }
  for (const add of later) files.push(add);
  return files;
}
