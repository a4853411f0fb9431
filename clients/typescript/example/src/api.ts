// The one place the example imports the client library from (../../src, the
// package's source), so the rest of the example does not care where it lives.
import type { GetMyContextRow } from '../../src/index'

export {
  COMPANY_SCORE_CATEGORY_VALUES,
  JOB_SORT_KEY_VALUES,
  MatchingClient,
  SCORE_CATEGORY_VALUES,
  describeError,
} from '../../src/index'
export type {
  CompanyScoreCategory,
  FeedbackType,
  GetJobMatchesArgs,
  GetJobMatchesRow,
  GetMyContextRow,
  GetTalentMatchesRow,
  JobSortKey,
  JobStatus,
  MatchingError,
  ScoreCategory,
  SubScoreMinimums,
  SubScores,
  TopReason,
} from '../../src/index'

/** get_my_context's row of the caller's talent profile: no company, role or status. */
export type TalentContextRow = Extract<GetMyContextRow, { kind: 'talent' }>
/** get_my_context's row of a job of one of the caller's companies. */
export type JobContextRow = Extract<GetMyContextRow, { kind: 'job' }>
