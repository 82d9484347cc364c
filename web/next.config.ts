import type { NextConfig } from 'next';

// The web app is served by the Searchlight API server (server/app/web.ts) on the API's port, so it
// needs no rewrites or proxies: /graphql, /files, /upload and /healthz are answered before a
// request reaches Next. The repository's package-lock.json marks the workspace root.
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default config;
