import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { MatchingClient } from './api'
import { App, type Connection } from './App'
import { createSupabase, readConfig, removeConfigFromAddress } from './config'
import './styles.css'

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root element')

// One Supabase client per page load (sessions live in memory only).
const config = readConfig()
// read once: the anon key and the API address need not stay in the address bar
removeConfigFromAddress()
let connection: Connection | null = null
if (config.ok) {
  try {
    const supabase = createSupabase(config.config)
    connection = { supabase, client: new MatchingClient(supabase) }
  } catch {
    connection = null
  }
}

createRoot(root).render(
  <StrictMode>
    <App config={config} connection={connection} />
  </StrictMode>,
)
