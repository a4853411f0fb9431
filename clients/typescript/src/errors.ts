// Errors of the matching API as one plain object: the stable code, what the
// server said, the HTTP status, and for PT429 when to retry.
import { ERROR_CODES, type ErrorCode, type PostgrestErrorCode } from './generated/api.js'

/**
 * What a call answers instead of data.
 *
 * - `code`: one of `ERROR_CODES` (the SQLSTATEs the API documents, see docs/api.md),
 *   a PostgREST code (`PGRST...`: bad or expired JWT, unknown function, ...),
 *   `'network'` when the server could not be reached (the request failed, or a proxy
 *   answered 5xx without a PostgREST body) or `'unexpected'` for anything else (the
 *   server's code, if any, is then appended to `message`).
 * - `message`, `details`, `hint`: as the server sent them (`details` names the field of a
 *   validation error: `field: headline`; `hint` of PT429 says `retry in N seconds`).
 * - `status`: the HTTP status (0 when no response arrived).
 * - `retryAfterSeconds`: for PT429, the seconds from the hint; otherwise null.
 */
export interface MatchingError {
  code: ErrorCode | PostgrestErrorCode | 'network' | 'unexpected'
  message: string
  details: string | null
  hint: string | null
  status: number
  retryAfterSeconds: number | null
}

/** What every call resolves to: never rejects, never both data and error. */
export type Result<T> = { data: T; error: null } | { data: null; error: MatchingError }

/** The fields of supabase-js' PostgrestError (or the object it builds for a failed fetch). */
export interface PostgrestErrorLike {
  code?: string | null
  message?: string | null
  details?: string | null
  hint?: string | null
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES)
const RETRY_HINT = /retry in (\d+) seconds?/i

function text(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value
}

/** The MatchingError for a supabase-js error and the response's HTTP status. */
export function toMatchingError(error: PostgrestErrorLike, status: number): MatchingError {
  const raw = error.code ?? ''
  const message = text(error.message) ?? 'request failed'
  let code: MatchingError['code']
  let shown = message
  if (status === 0) {
    code = 'network' // fetch threw: offline, DNS, refused, aborted
  } else if (KNOWN_CODES.has(raw)) {
    code = raw as ErrorCode
  } else if (raw.startsWith('PGRST')) {
    code = raw as PostgrestErrorCode
  } else if (raw === '' && status >= 500) {
    code = 'network' // a gateway's 502/503/504 page: the API was not reached
  } else {
    code = 'unexpected'
    if (raw !== '') shown = `${message} (code ${raw})`
  }
  const hint = text(error.hint)
  let retryAfterSeconds: number | null = null
  if (code === 'PT429' && hint !== null) {
    const match = RETRY_HINT.exec(hint)
    if (match?.[1] !== undefined) retryAfterSeconds = Number.parseInt(match[1], 10)
  }
  return {
    code,
    message: shown,
    details: text(error.details),
    hint,
    status,
    retryAfterSeconds,
  }
}

/** A MatchingError for a request that threw before any response. */
export function networkError(cause: unknown): MatchingError {
  const message = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
  return { code: 'network', message, details: null, hint: null, status: 0, retryAfterSeconds: null }
}

/** Whether a value is a MatchingError (e.g. one rethrown and caught elsewhere). */
export function isMatchingError(e: unknown): e is MatchingError {
  if (typeof e !== 'object' || e === null) return false
  const o = e as Record<string, unknown>
  const nullableString = (v: unknown) => v === null || typeof v === 'string'
  return (
    typeof o.code === 'string' &&
    (KNOWN_CODES.has(o.code) ||
      o.code.startsWith('PGRST') ||
      o.code === 'network' ||
      o.code === 'unexpected') &&
    typeof o.message === 'string' &&
    nullableString(o.details) &&
    nullableString(o.hint) &&
    typeof o.status === 'number' &&
    (o.retryAfterSeconds === null || typeof o.retryAfterSeconds === 'number')
  )
}

function seconds(n: number): string {
  return n === 1 ? '1 second' : `${n} seconds`
}

/** The field a validation error names (`details: "field: headline"`), if any. */
function field(e: MatchingError): string | null {
  const match = /^field: (\S+)/.exec(e.details ?? '')
  return match?.[1]?.replaceAll('_', ' ') ?? null
}

function invalid(e: MatchingError): string {
  const name = field(e)
  return name === null ? 'Some of the values are not valid' : `Please check the ${name} field`
}

const requestInvalid = () => 'The request was not valid'

// One sentence per documented code: a code added to the API (ERROR_CODES is
// generated from the database) fails to type check here until it is described.
const SENTENCES: Record<ErrorCode, (e: MatchingError) => string> = {
  '22003': requestInvalid,
  '22P02': requestInvalid,
  '23505': () => 'This already exists',
  '25006': () => 'This request must be sent with POST',
  '42501': (e) =>
    e.status === 401 ? 'Please sign in to continue' : 'You are not allowed to see this',
  MT001: requestInvalid,
  MT005: () => 'Ask for between 1 and 100 results',
  MT010: () => 'The minimum score must be between 0 and 100',
  MT011: () => 'Matches cannot be sorted that way',
  MT012: () => 'Matches cannot be filtered that way',
  MT013: () => 'That kind of feedback is not known',
  MT020: invalid,
  MT021: invalid,
  MT022: (e) => (field(e) === null ? 'Some values contradict each other' : invalid(e)),
  MT023: () => 'Industry, size and work styles can change once a day; try again tomorrow',
  MT030: () => "You have reached today's feedback limit; try again tomorrow",
  MT404: () => 'This no longer exists or is not available to you',
  MT503: () => 'Retraining is not available: the job queue is not installed',
  PT429: (e) =>
    e.retryAfterSeconds === null
      ? 'Too many requests; try again in a minute'
      : `Too many requests; retry in ${seconds(e.retryAfterSeconds)}`,
}

/**
 * PostgREST's codes for a JWT the user can fix by signing in again: 301 (invalid or
 * expired), 302 (none sent where anonymous access is disabled), 303 (claims refused).
 */
const SESSION_CODES: ReadonlySet<string> = new Set(['PGRST301', 'PGRST302', 'PGRST303'])

/** A sentence a user can read, e.g. "Too many requests; retry in 17 seconds". */
export function describeError(e: MatchingError): string {
  if (e.code === 'network') return 'Cannot reach the server'
  if (e.code === 'unexpected') return 'Something went wrong; please try again'
  if (e.code.startsWith('PGRST')) {
    if (SESSION_CODES.has(e.code)) return 'Your session has expired; please sign in again'
    // the other PGRST3xx (e.g. PGRST300: no JWT secret configured) are the server's
    // sign-in settings, which no user can fix
    if (e.code.startsWith('PGRST3')) {
      return "The server's sign-in settings are misconfigured; please tell its administrators"
    }
    return 'The server could not handle this request'
  }
  return SENTENCES[e.code as ErrorCode](e)
}
