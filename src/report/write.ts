import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, errnoCode } from '../core/index.js';
import { collectReport, type CollectOptions } from './collect.js';
import { renderReportHtml } from './html.js';
import type { ReportData } from './model.js';

/**
 * `lake report`: collects the report data and writes `<out>/index.html` (the page) and
 * `<out>/report.json` (the same data, for other tools), each whole (temp file + rename).
 */
export const REPORT_FILE = 'index.html';
export const REPORT_JSON = 'report.json';

export interface WriteReportOptions extends CollectOptions {
  outDir: string;
}

export interface WriteReportResult {
  path: string;
  json: string;
  /** Size of the page in bytes. */
  bytes: number;
  tables: number;
  runs: number;
  /** Time to collect the data and render the page, in ms. */
  ms: number;
  data: ReportData;
}

async function writeWhole(file: string, text: string): Promise<void> {
  const temp = `${file}.${randomUUID()}.tmp`;
  await writeFile(temp, text);
  await rename(temp, file);
}

export async function writeReport(options: WriteReportOptions): Promise<WriteReportResult> {
  const started = performance.now();
  const data = await collectReport(options);
  const html = await renderReportHtml(data);
  const outDir = path.resolve(options.outDir);
  const file = path.join(outDir, REPORT_FILE);
  const json = path.join(outDir, REPORT_JSON);
  try {
    await mkdir(outDir, { recursive: true });
    await writeWhole(file, html);
    await writeWhole(json, `${JSON.stringify(data, null, 2)}\n`);
  } catch (cause) {
    throw new LakeError('USAGE', `--out ${options.outDir}: cannot write the report there (${errnoCode(cause) ?? String(cause)})`, {
      cause,
      hint: 'Give a folder that exists or can be created and is writable.',
    });
  }
  return { path: file, json, bytes: Buffer.byteLength(html), tables: data.tables.length, runs: data.runs.length, ms: Math.round(performance.now() - started), data };
}
