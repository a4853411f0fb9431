import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// Root is this folder (`vite build example` / `vite example`); `base: './'`
// makes the built page work from any path (file server, sub-folder, CI artifact).
export default defineConfig({
  base: './',
  plugins: [react()],
})
