import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

// A router the size of this console: a few pages, paths under the site's base (/console/),
// history.pushState for moves, and the server's SPA fallback for deep links and reloads.

const BASE = import.meta.env.BASE_URL.replace(/\/+$/, "");
const CHANGE = "signoff:navigate";

/** The current location inside the console: "/runs/abc?status=failed" (no base prefix). */
export interface ConsoleLocation {
  path: string;
  search: URLSearchParams;
}

function currentHref(): string {
  const { pathname, search } = window.location;
  const inside = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  return `${inside || "/"}${search}`;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

export function useLocation(): ConsoleLocation {
  const href = useSyncExternalStore(subscribe, currentHref);
  const [path, query = ""] = href.split("?", 2);
  return { path, search: new URLSearchParams(query) };
}

export function hrefFor(to: string): string {
  return `${BASE}${to.startsWith("/") ? to : `/${to}`}`;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = hrefFor(to);
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new Event(CHANGE));
  window.scrollTo?.(0, 0);
}

/** The parameters of `path` when it fits `pattern` ("/runs/:runId"), else null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const wanted = pattern.split("/").filter(Boolean);
  const parts = path.split("/").filter(Boolean);
  if (wanted.length !== parts.length) return null;
  const parameters: Record<string, string> = {};
  for (let index = 0; index < wanted.length; index += 1) {
    const segment = wanted[index];
    if (segment.startsWith(":")) parameters[segment.slice(1)] = decodeURIComponent(parts[index]);
    else if (segment !== parts[index]) return null;
  }
  return parameters;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & { to: string };

/** A real link (middle-click and copy work) that moves inside the page on a plain click. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={hrefFor(to)} onClick={handle} {...rest} />;
}
