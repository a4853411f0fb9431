interface SetupMessageProps {
  problem: string
  /** the page was built with VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY: the address cannot override them */
  builtWithEnv: boolean
}

/** Shown when the page has no usable Supabase URL and anon key. */
export function SetupMessage({ problem, builtWithEnv }: SetupMessageProps) {
  const example = `${window.location.origin}${window.location.pathname}?url=http://127.0.0.1:54321&key=<anon key>`
  const env = (
    <>
      <code>VITE_SUPABASE_URL</code> and <code>VITE_SUPABASE_ANON_KEY</code>
    </>
  )
  return (
    <section className="card setup" data-testid="setup" role="alert">
      <h2>Connect to Supabase</h2>
      <p>{problem}</p>
      {builtWithEnv ? (
        <p>
          This page was built with {env}; fix them and build it again (see <code>supabase status</code> for the API URL
          and the anon key).
        </p>
      ) : (
        <>
          <p>
            Either build / serve this page with {env} set (see <code>supabase status</code> after{' '}
            <code>supabase start</code>), or, for a local trial, open it with the project's URL and anon key in
            the address:
          </p>
          <pre>{example}</pre>
        </>
      )}
    </section>
  )
}
