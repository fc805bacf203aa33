import { type DatasetDef, type SourceFormat, type YearSpan, currentSeason } from '../catalog/index.js';

/** One upstream file of a dataset: a season and/or a variant of the source path. */
export interface Asset {
  /** `<upstream>/<path>`: the file's identity in the raw manifest. */
  key: string;
  dataset: string;
  upstream: string;
  /** Path below the upstream's base URL, with the format extension. */
  path: string;
  format: SourceFormat;
  url: string;
  season: number | undefined;
  variant: string | undefined;
  /** Delta `txn` appId of the bronze writes of this file. */
  appId: string;
}

/** Seasons a run asks for: a closed range (bootstrap --years, update --season). */
export interface SeasonRequest {
  from: number;
  to: number;
}

export interface DatasetPlan {
  dataset: DatasetDef;
  assets: Asset[];
  /** Seasons asked for but not requested upstream, with the reason (plan-time notices). */
  skipped: { season: number; reason: string }[];
}

export function assetPath(def: DatasetDef, season: number | undefined, variant: string | undefined): string {
  const base = def.source.path.replace('{season}', season === undefined ? '' : String(season)).replace('{variant}', variant ?? '');
  return `${base}.${def.source.format}`;
}

export function assetFor(def: DatasetDef, baseUrl: string, season: number | undefined, variant: string | undefined): Asset {
  const path = assetPath(def, season, variant);
  const key = `${def.source.upstream}/${path}`;
  return {
    key,
    dataset: def.name,
    upstream: def.source.upstream,
    path,
    format: def.source.format,
    url: `${baseUrl}/${path}`,
    season,
    variant,
    appId: `nfl-lakehouse/bronze.${def.name}/${key}`,
  };
}

/** The seasons a dataset covers, with an open range ending at the dataset's current season. */
export function datasetSeasons(def: DatasetDef, today: Date): { from: number; to: number } | undefined {
  if (def.years.kind === 'all') return undefined;
  return { from: def.years.from, to: def.years.to ?? currentSeason(def.seasonRule, today) };
}

function overlaps(span: YearSpan, request: SeasonRequest, current: number): boolean {
  if (span.kind === 'all') return true;
  return request.from <= (span.to ?? current) && request.to >= span.from;
}

/**
 * The files to fetch for one dataset. Per-season datasets get one file per requested season
 * inside the dataset's years; seasons after the current one (rule S or R) are never requested
 * (they do not exist upstream yet). Single-file datasets are fetched whole when their years
 * overlap the request: their rows are not filtered by season.
 */
export function planDataset(def: DatasetDef, baseUrl: string, request: SeasonRequest, today: Date): DatasetPlan {
  const variants = def.variants.length > 0 ? def.variants : [undefined];
  const current = currentSeason(def.seasonRule, today);
  if (!def.perSeason) {
    return { dataset: def, assets: overlaps(def.years, request, current) ? variants.map((v) => assetFor(def, baseUrl, undefined, v)) : [], skipped: [] };
  }
  const span = datasetSeasons(def, today)!;
  const assets: Asset[] = [];
  const skipped: DatasetPlan['skipped'] = [];
  for (let season = request.from; season <= request.to; season++) {
    if (season > current) {
      skipped.push({ season, reason: `season ${season} is not published yet (current ${def.name} season is ${current})` });
      continue;
    }
    if (season < span.from || season > span.to) continue;
    for (const v of variants) assets.push(assetFor(def, baseUrl, season, v));
  }
  return { dataset: def, assets, skipped };
}
