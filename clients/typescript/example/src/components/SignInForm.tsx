import { useState, type FormEvent } from 'react'
import type { SupabaseClient } from '@supabase/supabase-js'

interface SignInFormProps {
  supabase: SupabaseClient
  /** where the password goes: the API's host */
  host: string
  /** the project came from the page address (a link), not from the build */
  fromLink: boolean
  onSignedIn: (email: string) => void
}

/** Email + password sign-in (`supabase.auth.signInWithPassword`). */
export function SignInForm({ supabase, host, fromLink, onSignedIn }: SignInFormProps) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const { data, error: authError } = await supabase.auth.signInWithPassword({ email: email.trim(), password })
      if (authError !== null) {
        setError(authError.message !== '' ? authError.message : 'Sign-in failed.')
      } else {
        onSignedIn(data.user?.email ?? email.trim())
        return
      }
    } catch (err: unknown) {
      setError(err instanceof Error && err.message !== '' ? err.message : 'Could not reach the server.')
    }
    setBusy(false)
  }

  return (
    <form className="signin card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in</h2>
      <p className="muted">Use a talent or company account of this Supabase project.</p>
      <p className="signin-host">
        <span data-testid="signin-host">
          Signing in to <strong>{host}</strong>
        </span>
        {fromLink ? (
          <span className="muted small">
            {' '}
            — set by the link that opened this page; sign in only if you know this server.
          </span>
        ) : null}
      </p>
      <label className="field">
        <span className="field-label">Email</span>
        <input
          type="email"
          name="email"
          autoComplete="username"
          required
          data-testid="signin-email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </label>
      <label className="field">
        <span className="field-label">Password</span>
        <input
          type="password"
          name="password"
          autoComplete="current-password"
          required
          data-testid="signin-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error !== null ? (
        <p className="form-error" role="alert" data-testid="signin-error">
          {error}
        </p>
      ) : null}
      <button type="submit" className="btn btn-primary btn-wide" data-testid="signin-submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  )
}
