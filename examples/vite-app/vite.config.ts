import { defineConfig } from 'vite'

export default defineConfig({
  // Bundled at start-up, so the first page load does not reload itself halfway.
  optimizeDeps: { include: ['@fal-ai/client'] },
  server: { strictPort: true }
})
