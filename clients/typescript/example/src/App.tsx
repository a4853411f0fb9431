import { useState } from 'react'
import type { SupabaseClient } from '@supabase/supabase-js'
import type { JobContextRow, MatchingClient, TalentContextRow } from './api'
import { CompanyView } from './CompanyView'
import { JobPicker } from './components/JobPicker'
import { SetupMessage } from './components/SetupMessage'
import { SignInForm } from './components/SignInForm'
import { StatusLine } from './components/StatusLine'
import { apiHost, type ConfigResult } from './config'
import { errorText } from './format'
import { TalentView } from './TalentView'
import { useRows } from './useRows'

export interface Connection {
  supabase: SupabaseClient
  client: MatchingClient
}

interface AppProps {
  config: ConfigResult
  /** null exactly when the config is not usable */
  connection: Connection | null
}

export function App({ config, connection }: AppProps) {
  const [email, setEmail] = useState<string | null>(null)
  const [signingOut, setSigningOut] = useState(false)

  async function signOut() {
    if (connection === null) return
    setSigningOut(true)
    try {
      // 'local': end this page's session only, not the user's other sessions
      await connection.supabase.auth.signOut({ scope: 'local' })
    } catch {
      // the session is dropped from memory either way
    }
    setSigningOut(false)
    setEmail(null)
  }

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>
          <span>Talent matching</span>
          <span className="brand-sub">example dashboards</span>
        </div>
        {email !== null ? (
          <div className="account">
            <span className="muted" data-testid="signed-in-as">
              {email}
            </span>
            <button
              type="button"
              className="btn btn-neutral"
              data-testid="signout"
              disabled={signingOut}
              onClick={() => void signOut()}
            >
              Sign out
            </button>
          </div>
        ) : null}
      </header>

      <main className="main">
        {!config.ok || connection === null ? (
          <SetupMessage
            problem={config.ok ? 'The Supabase client could not be created.' : config.problem}
            builtWithEnv={config.ok ? config.config.origin === 'env' : config.builtWithEnv}
          />
        ) : email === null ? (
          <SignInForm
            supabase={connection.supabase}
            host={apiHost(config.config)}
            fromLink={config.config.origin === 'query'}
            onSignedIn={setEmail}
          />
        ) : (
          <Dashboard key={email} client={connection.client} />
        )}
      </main>
    </div>
  )
}

type Tab = 'talent' | 'company'

/** What the signed-in user can see: their talent profile and their companies' jobs. */
function Dashboard({ client }: { client: MatchingClient }) {
  const [context, reload] = useRows('context', () => client.getMyContext())
  const [tab, setTab] = useState<Tab | null>(null)
  const [jobId, setJobId] = useState<string | null>(null)

  if (context.loading && context.rows === null) {
    return <StatusLine state="loading" text="Loading your profile and jobs…" />
  }
  if (context.error !== null) {
    return <StatusLine state="error" text={errorText(context.error)} onRetry={reload} />
  }
  const rows = context.rows ?? []
  // talents.user_id is unique: a user owns at most one talent profile
  const talent = rows.find((r): r is TalentContextRow => r.kind === 'talent')
  const jobs = rows.filter((r): r is JobContextRow => r.kind === 'job')
  if (talent === undefined && jobs.length === 0) {
    return (
      <StatusLine
        state="empty"
        text="This account has no talent profile and is not a member of a company with jobs, so there is nothing to match yet."
      />
    )
  }

  const active: Tab = tab ?? (talent !== undefined ? 'talent' : 'company')
  const job = jobs.find((j) => j.id === jobId) ?? jobs[0]

  return (
    <div className="dashboard">
      {talent !== undefined && jobs.length > 0 ? (
        <nav className="tabs" role="tablist" aria-label="Dashboards">
          <button
            type="button"
            role="tab"
            className="tab"
            data-testid="tab-talent"
            aria-selected={active === 'talent'}
            onClick={() => setTab('talent')}
          >
            My job matches
          </button>
          <button
            type="button"
            role="tab"
            className="tab"
            data-testid="tab-company"
            aria-selected={active === 'company'}
            onClick={() => setTab('company')}
          >
            Company candidates
          </button>
        </nav>
      ) : null}

      {active === 'talent' && talent !== undefined ? (
        <TalentView key={talent.id} client={client} talentId={talent.id} headline={talent.label} />
      ) : null}

      {active === 'company' && job !== undefined ? (
        <>
          <div className="picker-bar">
            <JobPicker jobs={jobs} value={job.id} onChange={setJobId} />
          </div>
          <CompanyView
            key={job.id}
            client={client}
            jobId={job.id}
            title={job.label}
            companyName={job.company_name}
            status={job.status}
          />
        </>
      ) : null}
    </div>
  )
}
