import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { LakeError, errnoCode } from '../../core/index.js';

/**
 * `data/raw/manifest.json`: what was last downloaded for each upstream file and whether it was
 * committed to bronze. An entry whose `committed.sequence` is below `sequence` is landed but not
 * committed yet (the next run ingests it). Written whole to a temp file then renamed (this file is
 * a local cache, not a Delta log entry); writes inside one process are serialized.
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

export class ManifestStore {
  private assets: Record<string, ManifestEntry> = {};
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly rawDir: string) {}

  get file(): string {
    return path.join(this.rawDir, MANIFEST_FILE);
  }

  static async open(rawDir: string): Promise<ManifestStore> {
    const store = new ManifestStore(rawDir);
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

  /** Sets one entry and writes the manifest; resolves once this write is on disk. */
  async put(entry: ManifestEntry): Promise<void> {
    this.assets[entry.key] = entry;
    const next = this.writing.then(() => this.flush());
    this.writing = next.catch(() => undefined);
    await next;
  }

  private async flush(): Promise<void> {
    await mkdir(this.rawDir, { recursive: true });
    const sorted = Object.fromEntries(Object.keys(this.assets).sort().map((k) => [k, this.assets[k]]));
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify({ version: 1, assets: sorted }, null, 2)}\n`);
    await rename(temp, this.file);
  }
}
