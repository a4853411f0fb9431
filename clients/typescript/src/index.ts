// @talent-matching/client: typed access to the matching API (RPC functions in
// Postgres, through Supabase's PostgREST). The types in ./generated/api.ts are
// generated from the database by `matching client generate`.
export * from './generated/api.js'
export {
  describeError,
  isMatchingError,
  toMatchingError,
  type MatchingError,
  type PostgrestErrorLike,
  type Result,
} from './errors.js'
export {
  HIGHLY_RECOMMENDED_ABOVE,
  MatchingClient,
  isHighlyRecommended,
  type CamelCase,
  type FunctionMethods,
} from './client.js'
