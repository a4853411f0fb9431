interface SetupMessageProps {
  problem: string
}

/** Shown when the page has no Supabase URL and anon key. */
export function SetupMessage({ problem }: SetupMessageProps) {
  const example = `${window.location.origin}${window.location.pathname}?url=http://127.0.0.1:54321&key=<anon key>`
  return (
    <section className="card setup" data-testid="setup" role="alert">
      <h2>Connect to Supabase</h2>
      <p>{problem}</p>
      <p>Either open this page with the project's URL and anon key in the address:</p>
      <pre>{example}</pre>
      <p>
        or build / serve it with <code>VITE_SUPABASE_URL</code> and <code>VITE_SUPABASE_ANON_KEY</code> set (see{' '}
        <code>supabase status</code> after <code>supabase start</code>).
      </p>
    </section>
  )
}
