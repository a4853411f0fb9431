// The one place the example imports the client library from (../../src, the
// package's source), so the rest of the example does not care where it lives.
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
  MatchingError,
  ScoreCategory,
  SubScoreMinimums,
  SubScores,
  TopReason,
} from '../../src/index'
