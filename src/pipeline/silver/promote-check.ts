import { LakeError } from '../../core/index.js';
import { checkTable, firstFailure, partitionLabel, reportPath, type CheckContext } from '../quality/index.js';
import { displayPath, toRunError, type RunError } from '../run/index.js';
import type { DatasetPromoteOutcome, PromoteContext, PromotePlan } from './promote-plan.js';
import { loadTeamCodes } from './silver-rule.js';

/**
 * The quality gate of a promote: the partition checks run while staging (promote-stage.ts); the
 * table checks run here over the whole outcome, and the first failing check stops the commit.
 */
export async function checkContext(ctx: PromoteContext, plan: PromotePlan): Promise<CheckContext> {
  return {
    engine: ctx.lake.engine,
    spec: plan.spec,
    dataset: plan.def.name,
    key: plan.rule.key,
    partitionColumns: plan.def.partitions,
    canonicalTeams: await loadTeamCodes(ctx.lake.engine, ctx.sqlDir),
    now: ctx.clock.now(),
  };
}

/** Adds the table checks to `outcome.checks`; the QUALITY_GATE_FAILED error when any check failed. */
export function gateFailure(ctx: PromoteContext, plan: PromotePlan, checkCtx: CheckContext, outcome: DatasetPromoteOutcome): RunError | undefined {
  const newestIngest = outcome.partitions.map((p) => p.maxIngestedAt).filter((v): v is string => v !== null).sort().pop();
  outcome.checks.push(...checkTable(checkCtx, newestIngest === undefined ? undefined : Date.parse(newestIngest)));
  const failure = firstFailure(outcome.checks);
  if (!failure) return undefined;
  const silver = plan.silver.name;
  const failed = outcome.checks.filter((c) => c.status === 'fail');
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failing check${failed.length > 2 ? 's' : ''})` : '';
  const stays = outcome.versionBefore === null ? 'no version' : `version ${outcome.versionBefore}`;
  const report = ctx.options.dryRun ? '' : `: ${displayPath(reportPath(ctx.reportDir, plan.def.name, ctx.runId), ctx.options.cwd)}`;
  return toRunError(
    new LakeError('QUALITY_GATE_FAILED', `${silver}: quality gate ${failure.check}${failure.column ? ` (${failure.column})` : ''} failed on ${partitionLabel(failure.partition)}: ${failure.message}${more}; nothing was committed, ${silver} stays at ${stays}`, {
      hint: `The report lists every check with example rows${report}. Fix the upstream data (or roll back the bronze run with lake rollback --run <run_id>), then promote again.`,
    }),
  );
}
