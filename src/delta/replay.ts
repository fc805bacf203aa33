/**
 * Log replay (PROTOCOL.md "Action Reconciliation"), pure: feed it the checkpoint's actions, then
 * each commit's actions in version order. A logical file is identified by its decoded path plus
 * its deletion vector's unique id.
 */
import { LakeError } from '../core/index.js';
import type { Action, AddAction, DeletionVectorDescriptor, MetadataAction, ProtocolAction, RemoveAction } from './actions.js';
import { decodeAddPath } from './partition.js';

export interface ReplayState {
  version: number;
  protocol: ProtocolAction | undefined;
  metadata: MetadataAction | undefined;
  files: Map<string, AddAction>;
  tombstones: Map<string, RemoveAction>;
  txns: Map<string, number>;
  domains: Map<string, string>;
}

export function emptyReplayState(): ReplayState {
  return { version: -1, protocol: undefined, metadata: undefined, files: new Map(), tombstones: new Map(), txns: new Map(), domains: new Map() };
}

export function dvUniqueId(dv: DeletionVectorDescriptor | null | undefined): string {
  if (!dv) return '';
  return dv.offset === undefined || dv.offset === null ? `${dv.storageType}${dv.pathOrInlineDv}` : `${dv.storageType}${dv.pathOrInlineDv}@${dv.offset}`;
}

export function fileKey(file: { path: string; deletionVector?: DeletionVectorDescriptor | null }): string {
  const dv = dvUniqueId(file.deletionVector);
  return dv === '' ? decodeAddPath(file.path) : `${decodeAddPath(file.path)}\u0000${dv}`;
}

/** Applies the actions of one version (a checkpoint or a commit) to the state, in place. */
export function applyActions(state: ReplayState, actions: readonly Action[], version: number): ReplayState {
  // Removes before adds: a commit that replaces a file's deletion vector removes the old
  // (path, dv) and adds the new one; ordering inside a commit carries no meaning.
  for (const action of actions) {
    if (action.kind !== 'remove') continue;
    const key = fileKey(action.remove);
    state.files.delete(key);
    state.tombstones.set(key, action.remove);
  }
  for (const action of actions) {
    switch (action.kind) {
      case 'add': {
        const key = fileKey(action.add);
        state.files.set(key, action.add);
        state.tombstones.delete(key);
        break;
      }
      case 'protocol':
        state.protocol = action.protocol;
        break;
      case 'metaData':
        state.metadata = action.metaData;
        break;
      case 'txn':
        state.txns.set(action.txn.appId, action.txn.version);
        break;
      case 'domainMetadata':
        if (action.domainMetadata.removed) state.domains.delete(action.domainMetadata.domain);
        else state.domains.set(action.domainMetadata.domain, action.domainMetadata.configuration);
        break;
      default:
        break;
    }
  }
  state.version = version;
  return state;
}

export function replay(versions: Iterable<{ version: number; actions: readonly Action[] }>, initial = emptyReplayState()): ReplayState {
  for (const { version, actions } of versions) applyActions(initial, actions, version);
  return initial;
}

/** Protocol and metaData must be known once replay is done (PROTOCOL.md: required in every snapshot). */
export function requireTableState(state: ReplayState, where: string): { protocol: ProtocolAction; metadata: MetadataAction } {
  if (!state.protocol || !state.metadata) {
    throw new LakeError('DELTA_LOG_CORRUPT', `${where}: no ${state.protocol ? 'metaData' : 'protocol'} action found up to version ${state.version}`, {
      hint: 'Every Delta table version needs a protocol and a metaData action; the log is incomplete or damaged.',
    });
  }
  return { protocol: state.protocol, metadata: state.metadata };
}
