import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Header } from '../components/Header';
import { SessionProvider } from '../components/Session';
import 'katex/dist/katex.min.css';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Searchlight', template: '%s · Searchlight' },
  description: 'Find and retarget search inside transformers that solve mazes.',
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SessionProvider>
          <Header />
          <main>
            <Suspense fallback={<p className="empty">Loading…</p>}>{children}</Suspense>
          </main>
        </SessionProvider>
      </body>
    </html>
  );
}
