import { createClient, type SupabaseClient } from '@supabase/supabase-js'

export interface SupabaseConfig {
  url: string
  key: string
  /** where the settings came from */
  origin: 'query' | 'env'
}

export type ConfigResult =
  | { ok: true; config: SupabaseConfig }
  | { ok: false; problem: string }

function clean(value: string | null | undefined): string {
  return (value ?? '').trim()
}

/**
 * Supabase URL and anon key: the page's query string (`?url=...&key=...`)
 * first, else the build-time env (`VITE_SUPABASE_URL`, `VITE_SUPABASE_ANON_KEY`).
 */
export function readConfig(search: string = window.location.search): ConfigResult {
  const params = new URLSearchParams(search)
  const queryUrl = clean(params.get('url'))
  const queryKey = clean(params.get('key'))
  const envUrl = clean(import.meta.env.VITE_SUPABASE_URL)
  const envKey = clean(import.meta.env.VITE_SUPABASE_ANON_KEY)

  let url: string
  let key: string
  let origin: SupabaseConfig['origin']
  if (queryUrl !== '' || queryKey !== '') {
    if (queryUrl === '' || queryKey === '') {
      return { ok: false, problem: 'The page address has only one of ?url= and &key=; give both.' }
    }
    url = queryUrl
    key = queryKey
    origin = 'query'
  } else if (envUrl !== '' && envKey !== '') {
    url = envUrl
    key = envKey
    origin = 'env'
  } else {
    return { ok: false, problem: 'No Supabase URL and anon key were given.' }
  }

  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { ok: false, problem: `"${url}" is not a valid URL.` }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, problem: `"${url}" is not an http(s) URL.` }
  }
  return { ok: true, config: { url: url.replace(/\/+$/, ''), key, origin } }
}

/** A client that keeps its session in memory only: every page load starts signed out. */
export function createSupabase(config: SupabaseConfig): SupabaseClient {
  return createClient(config.url, config.key, {
    auth: { persistSession: false, autoRefreshToken: false },
  })
}
