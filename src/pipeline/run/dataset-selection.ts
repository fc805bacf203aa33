import { LakeError } from '../../core/index.js';
import type { Catalog, DatasetDef } from '../catalog/index.js';

/**
 * The datasets a run works on: the ones named (in that order; naming a disabled dataset runs
 * it), else every enabled dataset that `byDefault` keeps. An unknown name is USAGE.
 */
export function selectDatasets(catalog: Catalog, names: string[] | undefined, byDefault: (def: DatasetDef) => boolean = () => true): DatasetDef[] {
  if (!names || names.length === 0) return catalog.datasets.filter((d) => d.enabled && byDefault(d));
  const unknown = names.filter((n) => !catalog.datasets.some((d) => d.name === n));
  if (unknown.length > 0) {
    throw new LakeError('USAGE', `unknown dataset${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (catalog ${catalog.file})`, {
      hint: `Known datasets: ${catalog.datasets.map((d) => d.name).join(', ')}`,
    });
  }
  return names.map((n) => catalog.datasets.find((d) => d.name === n)!);
}
