// Hash routing (#/jobs/ID): the API owns every path at the root (/jobs, /datasets …), so the page's
// own locations live after the #, and a reload of any of them loads index.html from `/`.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { readonly page: 'sign-in'; readonly next: string | undefined; readonly register: boolean }
  | { readonly page: 'datasets' }
  | { readonly page: 'submit' }
  | { readonly page: 'jobs' }
  | { readonly page: 'job'; readonly id: string }
  | { readonly page: 'attempt-log'; readonly id: string; readonly attempt: string }
  | { readonly page: 'users' }
  | { readonly page: 'cluster' }
  | { readonly page: 'not-found'; readonly path: string };

/** The path after `#`, e.g. `/jobs/job-1`; `/` when there is none. */
export function currentPath(): string {
  return location.hash.replace(/^#/, '') || '/';
}

export function navigate(path: string): void {
  if (currentPath() !== path) location.hash = path;
}

export function parseRoute(path: string): Route {
  const [p = '/', query = ''] = path.split('?', 2);
  const params = new URLSearchParams(query);
  const parts = p.split('/').filter((s) => s !== '').map(decodeURIComponent);
  const [first, second, third, fourth] = parts;
  if (parts.length === 0) return { page: 'jobs' };
  if (first === 'sign-in' || first === 'register') return { page: 'sign-in', next: params.get('next') ?? undefined, register: first === 'register' };
  if (first === 'jobs' && second !== undefined && parts.length === 2) return { page: 'job', id: second };
  if (first === 'jobs' && second !== undefined && third === 'logs' && fourth !== undefined && parts.length === 4) return { page: 'attempt-log', id: second, attempt: fourth };
  if (parts.length === 1 && (first === 'datasets' || first === 'submit' || first === 'jobs' || first === 'users' || first === 'cluster')) return { page: first };
  return { page: 'not-found', path };
}

/** Where an attempt's log is shown: `#/jobs/ID/logs/map-00003-a0`. */
export function attemptLogPath(id: string, attempt: string): string {
  return `/jobs/${encodeURIComponent(id)}/logs/${encodeURIComponent(attempt)}`;
}

/** The current route, re-rendering on every hash change. Read from the location at each render, so that it is never behind a navigate() whose hashchange has not fired yet. */
export function useRoute(): Route {
  const [, setPath] = useState(currentPath);
  useEffect(() => {
    const on = (): void => setPath(currentPath());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseRoute(currentPath());
}
