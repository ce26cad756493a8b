// Where the person is: the path under /admin and, for the list, its filters, sort and page in
// the query string, so a link reproduces the view and back/forward move between views.
import { useEffect, useState } from 'preact/hooks';
import type { Grade, StudentSort } from '../../clients/typescript/src/index.js';

export const BASE = '/admin';

export type Route =
  | { page: 'list'; list: ListState }
  | { page: 'new' }
  | { page: 'edit'; id: number }
  | { page: 'history'; id: number }
  | { page: 'import' }
  | { page: 'webhooks' }
  | { page: 'webhook'; id: number }
  | { page: 'not-found' };

export interface ListState {
  q: string;
  grades: Grade[];
  hasEmail: '' | 'true' | 'false';
  /** yyyy-mm-dd, as the date inputs hold it: from the start of that day (UTC). */
  createdFrom: string;
  /** yyyy-mm-dd: up to the end of that day (UTC). */
  createdTo: string;
  sort: StudentSort;
  limit: number;
  cursor: string;
}

/** Newest first, as Django admin's default (`-pk`): what was just added is on top. */
export const DEFAULT_SORT: StudentSort = '-id';
export const PAGE_SIZES = [10, 20, 50, 100];

export function parseRoute(location: Location): Route {
  const path = location.pathname.replace(/\/+$/, '');
  if (path === BASE) return { page: 'list', list: parseList(new URLSearchParams(location.search)) };
  if (path === `${BASE}/students/new`) return { page: 'new' };
  if (path === `${BASE}/import`) return { page: 'import' };
  if (path === `${BASE}/webhooks`) return { page: 'webhooks' };
  const hook = /^\/admin\/webhooks\/([1-9][0-9]{0,17})$/.exec(path);
  if (hook) return { page: 'webhook', id: Number(hook[1]) };
  const match = /^\/admin\/students\/([1-9][0-9]{0,17})(\/history)?$/.exec(path);
  if (match) return { page: match[2] ? 'history' : 'edit', id: Number(match[1]) };
  return { page: 'not-found' };
}

function parseList(query: URLSearchParams): ListState {
  const limit = Number(query.get('limit'));
  const hasEmail = query.get('has_email');
  return {
    q: query.get('q') ?? '',
    grades: query.getAll('grade') as Grade[],
    hasEmail: hasEmail === 'true' || hasEmail === 'false' ? hasEmail : '',
    createdFrom: query.get('created_from') ?? '',
    createdTo: query.get('created_to') ?? '',
    sort: (query.get('sort') as StudentSort | null) ?? DEFAULT_SORT,
    limit: PAGE_SIZES.includes(limit) ? limit : 20,
    cursor: query.get('cursor') ?? '',
  };
}

export function listUrl(list: Partial<ListState>): string {
  const query = new URLSearchParams();
  if (list.q) query.set('q', list.q);
  for (const grade of list.grades ?? []) query.append('grade', grade);
  if (list.hasEmail) query.set('has_email', list.hasEmail);
  if (list.createdFrom) query.set('created_from', list.createdFrom);
  if (list.createdTo) query.set('created_to', list.createdTo);
  if (list.sort && list.sort !== DEFAULT_SORT) query.set('sort', list.sort);
  if (list.limit && list.limit !== 20) query.set('limit', String(list.limit));
  if (list.cursor) query.set('cursor', list.cursor);
  const search = query.toString();
  return search ? `${BASE}?${search}` : BASE;
}

/** The list's filter as listStudents and exportStudents take it. */
export function filterQuery(list: ListState) {
  return {
    q: list.q.trim() || undefined,
    grade: list.grades.length ? list.grades : undefined,
    has_email: list.hasEmail === '' ? undefined : list.hasEmail === 'true',
    created_after: list.createdFrom ? `${list.createdFrom}T00:00:00Z` : undefined,
    created_before: list.createdTo ? `${nextDay(list.createdTo)}T00:00:00Z` : undefined,
  };
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

const listeners = new Set<() => void>();

export function navigate(url: string, options: { replace?: boolean; state?: unknown } = {}) {
  if (options.replace) history.replaceState(options.state ?? null, '', url);
  else history.pushState(options.state ?? null, '', url);
  for (const listener of listeners) listener();
}

/** The current route, re-read on every navigation and on back/forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location));
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** Links inside the console move without reloading the page. */
export function onLinkClick(event: MouseEvent) {
  const link = (event.target as Element | null)?.closest?.('a');
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (link.target || link.hasAttribute('download') || link.origin !== location.origin) return;
  if (!link.pathname.startsWith(BASE)) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
}
