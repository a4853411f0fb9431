import { createClient, type SupabaseClient } from '@supabase/supabase-js'

export interface SupabaseConfig {
  url: string
  key: string
  /** where the settings came from */
  origin: 'env' | 'query'
}

export type ConfigResult =
  | { ok: true; config: SupabaseConfig }
  | {
      ok: false
      problem: string
      /** the page was built with a project (so the address cannot give one) */
      builtWithEnv: boolean
    }

/** The build-time settings (`VITE_SUPABASE_URL`, `VITE_SUPABASE_ANON_KEY`). */
export interface EnvSettings {
  url?: string | undefined
  key?: string | undefined
}

const BUILD_ENV: EnvSettings = {
  url: import.meta.env.VITE_SUPABASE_URL,
  key: import.meta.env.VITE_SUPABASE_ANON_KEY,
}

/** The query parameters the page reads its project from when it was built without one. */
const QUERY_PARAMS = ['url', 'key'] as const

function clean(value: string | null | undefined): string {
  return (value ?? '').trim()
}

/** The `role` claim of a JWT's payload (its middle part, base64url JSON), if it is one. */
export function jwtRole(key: string): string | null {
  const parts = key.split('.')
  const payload = parts[1]
  if (parts.length !== 3 || payload === undefined || !/^[A-Za-z0-9_-]+$/.test(payload)) return null
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/')
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
    const json: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))))
    if (typeof json !== 'object' || json === null) return null
    const role = (json as Record<string, unknown>).role
    return typeof role === 'string' ? role : null
  } catch {
    return null
  }
}

/** Why a key must not be used in a web page (a secret key), or null. */
export function secretKeyProblem(key: string): string | null {
  if (key.startsWith('sb_secret_') || jwtRole(key) === 'service_role') {
    return (
      'This is a secret (service_role) key: it bypasses row-level security and must never be' +
      " put in a web page or a link. Use the project's anon (publishable) key instead, and" +
      ' rotate the secret key if it was shared.'
    )
  }
  return null
}

function checked(url: string, key: string, origin: SupabaseConfig['origin']): ConfigResult {
  const builtWithEnv = origin === 'env'
  const secret = secretKeyProblem(key)
  if (secret !== null) return { ok: false, problem: secret, builtWithEnv }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { ok: false, problem: `"${url}" is not a valid URL.`, builtWithEnv }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, problem: `"${url}" is not an http(s) URL.`, builtWithEnv }
  }
  return { ok: true, config: { url: url.replace(/\/+$/, ''), key, origin } }
}

/**
 * Supabase URL and anon key: the build-time env (`VITE_SUPABASE_URL`,
 * `VITE_SUPABASE_ANON_KEY`) when it sets either; only a page built without them
 * reads the query string (`?url=...&key=...`), so a link cannot send a deployed
 * page's passwords elsewhere. A secret (service_role) key is refused.
 */
export function readConfig(search: string = window.location.search, env: EnvSettings = BUILD_ENV): ConfigResult {
  const envUrl = clean(env.url)
  const envKey = clean(env.key)
  if (envUrl !== '' || envKey !== '') {
    if (envUrl === '' || envKey === '') {
      return {
        ok: false,
        problem: 'The page was built with only one of VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY; set both.',
        builtWithEnv: true,
      }
    }
    return checked(envUrl, envKey, 'env')
  }

  const params = new URLSearchParams(search)
  const queryUrl = clean(params.get('url'))
  const queryKey = clean(params.get('key'))
  if (queryUrl === '' && queryKey === '') {
    return { ok: false, problem: 'No Supabase URL and anon key were given.', builtWithEnv: false }
  }
  if (queryUrl === '' || queryKey === '') {
    return {
      ok: false,
      problem: 'The page address has only one of ?url= and &key=; give both.',
      builtWithEnv: false,
    }
  }
  return checked(queryUrl, queryKey, 'query')
}

/**
 * Takes `url` and `key` out of the address bar (`history.replaceState`, no reload), so
 * they are not bookmarked, shared or shown; other parameters and the hash stay.
 */
export function removeConfigFromAddress(): void {
  const address = new URL(window.location.href)
  if (!QUERY_PARAMS.some((name) => address.searchParams.has(name))) return
  for (const name of QUERY_PARAMS) address.searchParams.delete(name)
  window.history.replaceState(window.history.state, '', address.href)
}

/** The host a config's requests (and the sign-in password) go to, e.g. `127.0.0.1:54321`. */
export function apiHost(config: SupabaseConfig): string {
  return new URL(config.url).host
}

/** A client that keeps its session in memory only: every page load starts signed out. */
export function createSupabase(config: SupabaseConfig): SupabaseClient {
  return createClient(config.url, config.key, {
    auth: { persistSession: false, autoRefreshToken: false },
  })
}
