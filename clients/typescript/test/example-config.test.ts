// The example page's choice of project: the build's env before the address,
// secret keys refused, the address cleaned after reading it.
import { afterEach, describe, expect, it } from 'vitest'
import { jwtRole, readConfig, removeConfigFromAddress, secretKeyProblem } from '../example/src/config.js'

function base64url(text: string): string {
  const binary = String.fromCharCode(...new TextEncoder().encode(text))
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** An (unsigned) JWT with the given payload; the page only reads the payload. */
function jwt(payload: object): string {
  return `${base64url('{"alg":"HS256","typ":"JWT"}')}.${base64url(JSON.stringify(payload))}.c2lnbmF0dXJl`
}

const ANON = jwt({ iss: 'supabase-demo', role: 'anon', exp: 1983812996 })
// '?>' and '~~~' encode to base64url's '-' and '_', and the length needs padding
const SERVICE = jwt({ note: '?>?>~~~ü', role: 'service_role' })
const ENV = { url: 'https://project.example.supabase.co/', key: ANON }
const LINK = '?url=https%3A%2F%2Fevil.example&key=' + ANON

describe('readConfig', () => {
  it('takes the build-time env first and ignores the address then', () => {
    expect(readConfig(LINK, ENV)).toEqual({
      ok: true,
      config: { url: 'https://project.example.supabase.co', key: ANON, origin: 'env' },
    })
  })

  it('reads the address only when the page was built without a project', () => {
    expect(readConfig(LINK, {})).toEqual({
      ok: true,
      config: { url: 'https://evil.example', key: ANON, origin: 'query' },
    })
    expect(readConfig(LINK, { url: ' ', key: '' })).toMatchObject({ ok: true })
  })

  it('does not fall back to the address when the env is half set', () => {
    const result = readConfig(LINK, { url: ENV.url })
    expect(result).toMatchObject({ ok: false, builtWithEnv: true })
    expect(result.ok ? '' : result.problem).toMatch(/only one of VITE_SUPABASE_URL/)
  })

  it('asks for both parameters of the address', () => {
    expect(readConfig('', {})).toMatchObject({ ok: false, builtWithEnv: false })
    expect(readConfig('?url=https://x.example', {})).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/only one of \?url= and &key=/) as unknown,
    })
    expect(readConfig(`?url=ftp://x.example&key=${ANON}`, {})).toMatchObject({ ok: false })
  })

  it('refuses secret keys from the env and from the address', () => {
    for (const key of [SERVICE, 'sb_secret_abc123']) {
      for (const result of [
        readConfig('', { url: ENV.url, key }),
        readConfig(`?url=https://x.example&key=${encodeURIComponent(key)}`, {}),
      ]) {
        expect(result.ok, key).toBe(false)
        expect(result.ok ? '' : result.problem).toMatch(/secret \(service_role\) key/)
      }
    }
    expect(readConfig('', { url: ENV.url, key: 'sb_publishable_abc123' })).toMatchObject({ ok: true })
  })
})

describe('keys', () => {
  it('reads the role of a JWT payload (base64url, unpadded)', () => {
    expect(jwtRole(ANON)).toBe('anon')
    expect(jwtRole(SERVICE)).toBe('service_role')
    expect(SERVICE.split('.')[1]).toMatch(/[-_]/)
    expect(jwtRole('sb_publishable_abc')).toBeNull()
    expect(jwtRole('a.!!!.c')).toBeNull()
    expect(jwtRole(`a.${base64url('not json')}.c`)).toBeNull()
    expect(jwtRole(`a.${base64url('{"role": 1}')}.c`)).toBeNull()
  })

  it('says why a secret key is refused, and nothing for an anon key', () => {
    expect(secretKeyProblem(ANON)).toBeNull()
    expect(secretKeyProblem(SERVICE)).toMatch(/anon \(publishable\) key/)
  })
})

describe('removeConfigFromAddress', () => {
  const original = (globalThis as { window?: unknown }).window

  afterEach(() => {
    ;(globalThis as { window?: unknown }).window = original
  })

  function fakeWindow(href: string) {
    const calls: string[] = []
    ;(globalThis as { window?: unknown }).window = {
      location: { href },
      history: { state: null, replaceState: (_s: unknown, _t: string, url: string) => calls.push(url) },
    }
    return calls
  }

  it('takes url and key out of the address bar, keeping the rest', () => {
    const calls = fakeWindow(`https://page.example/app/?tab=x&url=https%3A%2F%2Fa.example&key=${ANON}#top`)
    removeConfigFromAddress()
    expect(calls).toEqual(['https://page.example/app/?tab=x#top'])
  })

  it('leaves an address without them alone', () => {
    const calls = fakeWindow('https://page.example/app/?tab=x')
    removeConfigFromAddress()
    expect(calls).toEqual([])
  })
})
