// The typed client: one method per API function, over supabase-js' rpc().
import type { SupabaseClient } from '@supabase/supabase-js'
import type {
  ActivateModelArgs,
  FunctionName,
  Functions,
  GetJobMatchesArgs,
  GetJobMatchesRow,
  GetMyContextRow,
  GetTalentMatchesArgs,
  GetTalentMatchesRow,
  MatchingHealthRow,
  RecordMatchFeedbackArgs,
  RecordMatchFeedbackRow,
  RequestRetrainArgs,
  RequestRetrainRow,
} from './generated/api.js'
import { networkError, toMatchingError, type PostgrestErrorLike, type Result } from './errors.js'

/** `get_talent_matches` -> `getTalentMatches`. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S

/**
 * One method per API function, named in camelCase. `MatchingClient` implements it, so
 * a function added to the database (and to the generated `Functions`) fails to type
 * check until it has its method.
 */
export type FunctionMethods = {
  [F in FunctionName as CamelCase<F>]: (
    args: Functions[F]['Args'],
  ) => Promise<Result<Functions[F]['Returns']>>
}

/** What the client needs of supabase-js: `rpc` and what it resolves to. */
interface RpcCaller {
  rpc(
    fn: string,
    args: object,
    options: { head: boolean; get: boolean },
  ): PromiseLike<{ data: unknown; error: PostgrestErrorLike | null; status: number }>
}

/**
 * The matching API over a Supabase client (signed in as the user whose data it reads).
 * Every method resolves to `{ data, error }` and never rejects: `error` is a
 * `MatchingError` (see `describeError`).
 */
export class MatchingClient implements FunctionMethods {
  private readonly rpc: RpcCaller

  constructor(supabase: SupabaseClient<any, any, any>) {
    this.rpc = supabase as unknown as RpcCaller
  }

  /**
   * Calls an API function by name with its named arguments. Always POST: the read
   * functions record what they served and the rate limiter counts requests, so they are
   * VOLATILE and a GET would be refused (25006). Leave an argument out (or undefined) for
   * its default; null is refused (MT001).
   */
  async call<F extends FunctionName>(
    fn: F,
    args: Functions[F]['Args'],
  ): Promise<Result<Functions[F]['Returns']>> {
    let response: Awaited<ReturnType<RpcCaller['rpc']>>
    try {
      response = await this.rpc.rpc(fn, args, { head: false, get: false })
    } catch (cause) {
      return { data: null, error: networkError(cause) }
    }
    if (response.error !== null) {
      return { data: null, error: toMatchingError(response.error, response.status) }
    }
    return { data: response.data as Functions[F]['Returns'], error: null }
  }

  /** Job matches of the caller's talent profile, best first (`get_talent_matches`). */
  getTalentMatches(args: GetTalentMatchesArgs): Promise<Result<GetTalentMatchesRow[]>> {
    return this.call('get_talent_matches', args)
  }

  /** Talent matches of a job of the caller's company, coarsened (`get_job_matches`). */
  getJobMatches(args: GetJobMatchesArgs): Promise<Result<GetJobMatchesRow[]>> {
    return this.call('get_job_matches', args)
  }

  /** Records feedback on a pair, idempotently (`record_match_feedback`). */
  recordMatchFeedback(args: RecordMatchFeedbackArgs): Promise<Result<RecordMatchFeedbackRow[]>> {
    return this.call('record_match_feedback', args)
  }

  /**
   * The caller's talent profile (at most one) and their companies' jobs (`get_my_context`);
   * narrow a row by its `kind` ('talent' rows have no company, role or status).
   */
  getMyContext(): Promise<Result<GetMyContextRow[]>> {
    return this.call('get_my_context', {})
  }

  /** Admins: enqueue one model retrain; at most one is pending (`request_retrain`). */
  requestRetrain(args: RequestRetrainArgs = {}): Promise<Result<RequestRetrainRow[]>> {
    return this.call('request_retrain', args)
  }

  /** Admins: make a registered model version the active one; returns it (`activate_model`). */
  activateModel(args: ActivateModelArgs): Promise<Result<string>> {
    return this.call('activate_model', args)
  }

  /** Admins: re-activate the previous model version; returns it (`rollback_model`). */
  rollbackModel(): Promise<Result<string>> {
    return this.call('rollback_model', {})
  }

  /** Admins: model, worker, queue and serving figures, one row (`matching_health`). */
  matchingHealth(): Promise<Result<MatchingHealthRow[]>> {
    return this.call('matching_health', {})
  }
}

/** Scores above this are "highly recommended" (the SQL column's rule: `score > 80`). */
export const HIGHLY_RECOMMENDED_ABOVE = 80

/**
 * Whether a score counts as highly recommended: `score > 80`, the rule of the SQL column
 * `highly_recommended`. The column is the source of truth; use this to filter or
 * highlight rows client-side (e.g. rows kept from an earlier call). On get_job_matches'
 * whole-number scores it can differ from the column right at the threshold (a stored
 * 80.4 is shown as 80 but is highly recommended).
 */
export function isHighlyRecommended(row: { score: number }): boolean {
  return row.score > HIGHLY_RECOMMENDED_ABOVE
}
