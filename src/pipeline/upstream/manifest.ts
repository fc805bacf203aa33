import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { LakeError, errnoCode } from '../../core/index.js';

/**
 * `data/raw/manifest.json`: what was last downloaded for each upstream file and whether it was
 * committed to bronze. An entry whose `committed.sequence` is below `sequence` is landed but not
 * committed yet (the next run ingests it). Written whole to a temp file then renamed (this file is
 * a local cache, not a Delta log entry); writes inside one process are serialized.
 *
 * Writes are coalesced (write-behind): `put` updates the entry in memory and schedules one write
 * of the whole manifest, at most one every `FLUSH_INTERVAL_MS`; `close` writes what is pending.
 * A bootstrap of hundreds of files so writes the ~300 kB file a few dozen times instead of twice
 * per file (which was quadratic). Every write is a snapshot taken between two `put`s, so the file
 * on disk is always one of the states the run passed through, only older: it may lag the tables
 * (after a crash: a file bronze holds that the manifest does not name, or names as landed only),
 * never lead them — an entry is marked committed only after its commit is in the table's log.
 * Ingest treats the table as the truth (ingest-asset.ts `planEntry`): a lagging entry costs a
 * re-download of that file, never a second commit.
 */
const entrySchema = z.object({
  key: z.string(),
  dataset: z.string(),
  url: z.string(),
  file: z.string(),
  size: z.number(),
  sha256: z.string(),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  contentType: z.string().optional(),
  nflverseTimestamp: z.string().optional(),
  nflverseType: z.string().optional(),
  fetchedAt: z.string(),
  sequence: z.number().int().nonnegative(),
  committed: z
    .object({ sequence: z.number().int().nonnegative(), sha256: z.string(), tableVersion: z.number().int(), committedAt: z.string(), runId: z.string() })
    .optional(),
  columns: z.record(z.string(), z.string()).optional(),
});

const manifestSchema = z.object({ version: z.literal(1), assets: z.record(z.string(), entrySchema) });

export type ManifestEntry = z.infer<typeof entrySchema>;

export const MANIFEST_FILE = 'manifest.json';

/** The least time between two writes of the manifest file (write-behind; see the file header). */
export const FLUSH_INTERVAL_MS = 1000;

export class ManifestStore {
  private assets: Record<string, ManifestEntry> = {};
  /** The write in flight or scheduled (resolves when it is on disk; never rejects). */
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private lastWrite = 0;
  /** A failed background write: thrown by the next `put` or by `close`. */
  private failure: unknown;

  private constructor(
    readonly rawDir: string,
    private readonly intervalMs: number,
  ) {}

  get file(): string {
    return path.join(this.rawDir, MANIFEST_FILE);
  }

  /** `intervalMs`: the least time between two writes (0: every `put` is written at once). */
  static async open(rawDir: string, options: { intervalMs?: number } = {}): Promise<ManifestStore> {
    const store = new ManifestStore(rawDir, options.intervalMs ?? FLUSH_INTERVAL_MS);
    let text: string;
    try {
      text = await readFile(store.file, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return store;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new LakeError('DATA_INVALID', `${store.file} is not valid JSON`, { cause, hint: 'Delete it: the next run re-downloads and re-checks every file (the tables stay idempotent through their txn ids).' });
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new LakeError('DATA_INVALID', `${store.file}: ${issue.path.join('.')}: ${issue.message}`, { hint: 'Delete it: the next run re-downloads and re-checks every file.' });
    }
    store.assets = parsed.data.assets;
    return store;
  }

  get(key: string): ManifestEntry | undefined {
    return this.assets[key];
  }

  entries(): ManifestEntry[] {
    return Object.values(this.assets);
  }

  /**
   * Sets one entry; the manifest file is written within `intervalMs` (write-behind, see the file
   * header). Throws the error of an earlier background write that failed (e.g. a full disk).
   */
  async put(entry: ManifestEntry): Promise<void> {
    this.rethrow();
    this.assets[entry.key] = entry;
    this.dirty = true;
    if (this.timer !== undefined) return;
    const wait = this.lastWrite + this.intervalMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => void this.enqueue(), wait);
      return;
    }
    await this.enqueue();
    this.rethrow();
  }

  /** Writes what is pending and waits for it; throws when that (or an earlier background) write failed. */
  async close(): Promise<void> {
    if (this.dirty || this.timer !== undefined) await this.enqueue();
    await this.writing;
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure === undefined) return;
    const failure = this.failure;
    this.failure = undefined;
    throw failure;
  }

  /** Queues one write of the entries as they are then (after the write in flight); never rejects (a failure is kept for `rethrow`). */
  private enqueue(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      this.lastWrite = Date.now();
      try {
        await this.flush();
      } catch (error) {
        this.dirty = true;
        this.failure = error;
      }
    });
    return this.writing;
  }

  private async flush(): Promise<void> {
    await mkdir(this.rawDir, { recursive: true });
    const sorted = Object.fromEntries(Object.keys(this.assets).sort().map((k) => [k, this.assets[k]]));
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify({ version: 1, assets: sorted }, null, 2)}\n`);
    await rename(temp, this.file);
  }
}
