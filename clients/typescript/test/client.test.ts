// The wrapper's mapping, against a real supabase-js client talking to a local
// HTTP server that answers as PostgREST does (status + JSON body).
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest'
import {
  ERROR_CODES,
  FUNCTION_NAMES,
  MatchingClient,
  describeError,
  isHighlyRecommended,
  isMatchingError,
  type GetTalentMatchesRow,
  type MatchingError,
  type Result,
} from '../src/index.js'
import { matchingClient, startFakePostgrest, type FakePostgrest } from './support.js'

const TALENT = '0b7d9a52-3f7e-4c39-9d8f-6a1f3c2b9e10'
const JOB = '5c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'

let server: FakePostgrest
let client: MatchingClient

beforeAll(async () => {
  server = await startFakePostgrest()
  client = matchingClient(server.url)
})

afterAll(async () => {
  await server.close()
})

beforeEach(() => {
  server.requests.length = 0
})

function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
}

const SERVER_WORDS = 'the server said this'

/** A MatchingError with a code and nothing else to go by (400, no details or hint). */
function errorWith(code: string): MatchingError {
  return {
    code: code as MatchingError['code'],
    message: SERVER_WORDS,
    details: null,
    hint: null,
    status: 400,
    retryAfterSeconds: null,
  }
}

async function failing<T>(result: Promise<Result<T>>): Promise<MatchingError> {
  const { data, error } = await result
  expect(data).toBeNull()
  expect(error).not.toBeNull()
  return error as MatchingError
}

const row: GetTalentMatchesRow = {
  job_id: JOB,
  title: 'Engineer',
  company_id: '7f000000-0000-4000-8000-000000000001',
  company_name: 'Xylo',
  company_industry: 'software',
  company_size: 'small',
  experience_level: 'mid',
  remote_policy: 'remote',
  city: null,
  country_code: null,
  timezone: null,
  salary_min: 60000,
  salary_max: 90000,
  salary_currency: 'EUR',
  skills: ['Python', 'Go'],
  score: 85.5,
  source: 'ml',
  model_version: 'v1',
  sub_scores: { skills: 90, location: 70, semantic: 50 },
  top_reasons: [{ feature: 'required_coverage', contribution: 6.1, sentence: '+6.1 points: a' }],
  highly_recommended: true,
  computed_at: '2026-12-03T12:00:00+00:00',
  stale: false,
  feedback: ['applied'],
}

describe('MatchingClient', () => {
  it('has exactly one method per API function, named in camelCase', () => {
    const methods = Object.getOwnPropertyNames(MatchingClient.prototype).filter(
      (name) => name !== 'constructor' && name !== 'call',
    )
    expect(methods.sort()).toEqual(FUNCTION_NAMES.map(camelCase).sort())
  })

  it('POSTs the named arguments as the JSON body and returns the rows', async () => {
    server.reply({ status: 200, body: [row] })
    const { data, error } = await client.getTalentMatches({ p_talent_id: TALENT, p_limit: 5 })
    expect(error).toBeNull()
    expect(data).toEqual([row])
    expect(server.requests).toHaveLength(1)
    const [request] = server.requests
    expect(request?.method).toBe('POST')
    expect(request?.path).toBe('/rest/v1/rpc/get_talent_matches')
    expect(request?.body).toEqual({ p_talent_id: TALENT, p_limit: 5 })
    expect(request?.headers['content-type']).toMatch(/application\/json/)
  })

  it('leaves out undefined arguments so the SQL default applies', async () => {
    server.reply({ status: 200, body: [] })
    await client.getJobMatches({ p_job_id: JOB, p_sort: 'skills', p_limit: undefined })
    expect(server.requests[0]?.body).toEqual({ p_job_id: JOB, p_sort: 'skills' })
  })

  it('sends jsonb arguments as JSON objects', async () => {
    server.reply({ status: 200, body: [] })
    await client.getJobMatches({ p_job_id: JOB, p_min_sub_scores: { skills: 70, location: 50 } })
    expect(server.requests[0]?.body).toEqual({
      p_job_id: JOB,
      p_min_sub_scores: { skills: 70, location: 50 },
    })
  })

  it('POSTs an empty object to functions without arguments', async () => {
    server.reply({ status: 200, body: 'model-2' })
    const { data } = await client.rollbackModel()
    expect(data).toBe('model-2')
    expect(server.requests[0]?.method).toBe('POST')
    expect(server.requests[0]?.path).toBe('/rest/v1/rpc/rollback_model')
    expect(server.requests[0]?.body).toEqual({})
  })

  it('calls every function by its SQL name with POST', async () => {
    server.reply({ status: 200, body: [] })
    await client.getMyContext()
    await client.matchingHealth()
    await client.requestRetrain()
    await client.requestRetrain({ p_force: true })
    await client.activateModel({ p_version: 'model-1' })
    await client.recordMatchFeedback({
      p_talent_id: TALENT,
      p_job_id: JOB,
      p_feedback_type: 'applied',
    })
    await client.call('get_talent_matches', { p_talent_id: TALENT })
    expect(server.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/rest/v1/rpc/get_my_context', {}],
      ['POST', '/rest/v1/rpc/matching_health', {}],
      ['POST', '/rest/v1/rpc/request_retrain', {}],
      ['POST', '/rest/v1/rpc/request_retrain', { p_force: true }],
      ['POST', '/rest/v1/rpc/activate_model', { p_version: 'model-1' }],
      [
        'POST',
        '/rest/v1/rpc/record_match_feedback',
        { p_talent_id: TALENT, p_job_id: JOB, p_feedback_type: 'applied' },
      ],
      ['POST', '/rest/v1/rpc/get_talent_matches', { p_talent_id: TALENT }],
    ])
  })

  it('types arguments and results from the generated Functions', () => {
    expectTypeOf(client.getTalentMatches).returns.resolves.toEqualTypeOf<
      Result<GetTalentMatchesRow[]>
    >()
    expectTypeOf(client.activateModel).returns.resolves.toEqualTypeOf<Result<string>>()
    // compile-time only: wrong arguments do not type check
    const never = (): void => {
      // @ts-expect-error culture is not a sort key companies may use (MT011)
      void client.getJobMatches({ p_job_id: JOB, p_sort: 'culture' })
      // @ts-expect-error not a feedback type (MT013)
      void client.recordMatchFeedback({ p_talent_id: TALENT, p_job_id: JOB, p_feedback_type: 'x' })
      // @ts-expect-error null is refused (MT001): leave the argument out instead
      void client.getTalentMatches({ p_talent_id: TALENT, p_limit: null })
      // @ts-expect-error unknown argument
      void client.call('get_my_context', { p_talent_id: TALENT })
    }
    expect(typeof never).toBe('function')
  })
})

describe('errors', () => {
  it('maps a PostgREST error to a MatchingError with the HTTP status', async () => {
    server.reply({
      status: 403,
      body: {
        code: '42501',
        message: 'you may only read your own matches',
        details: null,
        hint: null,
      },
    })
    const error = await failing(client.getTalentMatches({ p_talent_id: TALENT }))
    expect(error).toEqual({
      code: '42501',
      message: 'you may only read your own matches',
      details: null,
      hint: null,
      status: 403,
      retryAfterSeconds: null,
    })
    expect(isMatchingError(error)).toBe(true)
    expect(describeError(error)).toBe('You are not allowed to see this')
  })

  it('asks anonymous callers (401) to sign in', async () => {
    server.reply({ status: 401, body: { code: '42501', message: 'permission denied for function' } })
    const error = await failing(client.getMyContext())
    expect(error.status).toBe(401)
    expect(describeError(error)).toBe('Please sign in to continue')
  })

  it('reads the retry delay of PT429 from its hint', async () => {
    server.reply({
      status: 429,
      body: {
        code: 'PT429',
        message: 'rate limit exceeded: at most 100 requests per 60 seconds',
        details: 'subject: user',
        hint: 'retry in 17 seconds',
      },
    })
    const error = await failing(client.getJobMatches({ p_job_id: JOB }))
    expect(error.code).toBe('PT429')
    expect(error.status).toBe(429)
    expect(error.retryAfterSeconds).toBe(17)
    expect(error.details).toBe('subject: user')
    expect(describeError(error)).toBe('Too many requests; retry in 17 seconds')
  })

  it('names the field of a validation error', async () => {
    server.reply({
      status: 400,
      body: { code: 'MT020', message: 'headline is too long', details: 'field: headline' },
    })
    const error = await failing(client.getMyContext())
    expect(error.code).toBe('MT020')
    expect(error.hint).toBeNull()
    expect(describeError(error)).toBe('Please check the headline field')
  })

  it('keeps PostgREST codes', async () => {
    server.reply({
      status: 401,
      body: { code: 'PGRST301', message: 'JWT expired', details: null, hint: null },
    })
    const error = await failing(client.getMyContext())
    expect(error.code).toBe('PGRST301')
    expect(describeError(error)).toBe('Your session has expired; please sign in again')
  })

  it('maps an undocumented code to unexpected and keeps it in the message', async () => {
    server.reply({
      status: 500,
      body: { code: '57014', message: 'canceling statement due to statement timeout' },
    })
    const error = await failing(client.getMyContext())
    expect(error.code).toBe('unexpected')
    expect(error.status).toBe(500)
    expect(error.message).toBe('canceling statement due to statement timeout (code 57014)')
    expect(describeError(error)).toBe('Something went wrong; please try again')
  })

  it("maps a gateway's error page to network", async () => {
    server.reply({ status: 502, raw: '<html>Bad Gateway</html>' })
    const error = await failing(client.getMyContext())
    expect(error.code).toBe('network')
    expect(error.status).toBe(502)
  })

  it('maps a failed request to network with status 0', async () => {
    const closed = await startFakePostgrest()
    await closed.close()
    const { data, error } = await matchingClient(closed.url).getTalentMatches({
      p_talent_id: TALENT,
    })
    expect(data).toBeNull()
    expect(error?.code).toBe('network')
    expect(error?.status).toBe(0)
    expect(error?.retryAfterSeconds).toBeNull()
    expect(describeError(error as MatchingError)).toBe('Cannot reach the server')
  })

  it('asks to sign in again only for PGRST301-303, not for the server\'s JWT settings', () => {
    const sentence = (code: string) =>
      describeError({ ...errorWith(code), status: code === 'PGRST300' ? 500 : 401 })
    for (const code of ['PGRST301', 'PGRST302', 'PGRST303']) {
      expect(sentence(code), code).toBe('Your session has expired; please sign in again')
    }
    for (const code of ['PGRST300', 'PGRST304', 'PGRST399']) {
      expect(sentence(code), code).toBe(
        "The server's sign-in settings are misconfigured; please tell its administrators",
      )
    }
    expect(sentence('PGRST202')).toBe('The server could not handle this request')
  })

  it('describes every documented code with a sentence for users, never a generic fallback', () => {
    // what describeError says when it knows nothing better: an unknown server
    // code, an unknown PostgREST code, no server
    const fallbacks = new Set(
      ['unexpected', 'PGRST000', 'network'].map((code) => describeError(errorWith(code))),
    )
    expect(fallbacks.size).toBe(3)
    for (const code of ERROR_CODES) {
      const sentence = describeError(errorWith(code))
      expect(sentence, code).toMatch(/^[A-Z].*\w$/)
      expect(fallbacks.has(sentence), `${code}: ${sentence}`).toBe(false)
      // a sentence for users, not the server's words
      expect(sentence, code).not.toContain(SERVER_WORDS)
    }
  })

  it('recognises MatchingErrors only', () => {
    expect(isMatchingError(null)).toBe(false)
    expect(isMatchingError('PT429')).toBe(false)
    // a supabase-js PostgrestError has no status or retryAfterSeconds
    expect(isMatchingError({ code: '42501', message: 'x', details: null, hint: null })).toBe(false)
    expect(
      isMatchingError({
        code: 'bogus',
        message: 'x',
        details: null,
        hint: null,
        status: 400,
        retryAfterSeconds: null,
      }),
    ).toBe(false)
    expect(
      isMatchingError({
        code: 'network',
        message: 'x',
        details: null,
        hint: null,
        status: 0,
        retryAfterSeconds: null,
      }),
    ).toBe(true)
  })
})

describe('isHighlyRecommended', () => {
  it('is the SQL rule score > 80', () => {
    expect(isHighlyRecommended({ score: 80 })).toBe(false)
    expect(isHighlyRecommended({ score: 80.01 })).toBe(true)
    expect(isHighlyRecommended(row)).toBe(row.highly_recommended)
  })
})
