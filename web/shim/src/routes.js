// Which URLs go to an app over the link: `intrustd+app://<app-id>/path?query`, and same-origin
// paths under a configured prefix (`/hello/` → app `hello`, prefix replaced by `/`).

export const SCHEME = 'intrustd+app:';
export const APP_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * @typedef {{
 *   appId: string,
 *   target: string,                       // origin-form request target, `/path?query`
 *   url: string,                          // the URL as the page sees it (for Response.url)
 *   publicUrl(appTarget: string): string, // map an app target back to a page URL
 * }} Route
 */

function pageLocation() {
  const loc = globalThis.location;
  return loc && loc.href ? loc : null;
}

/** Validate and normalise an `apps` option. */
export function normaliseApps(apps) {
  const out = [];
  for (const [prefix, appId] of Object.entries(apps || {})) {
    if (typeof prefix !== 'string' || !prefix.startsWith('/') || !prefix.endsWith('/')) {
      throw new TypeError(`app prefix ${JSON.stringify(prefix)} must start and end with "/"`);
    }
    if (!APP_ID.test(appId)) throw new TypeError(`invalid app id ${JSON.stringify(appId)}`);
    out.push({ prefix, appId });
  }
  out.sort((a, b) => b.prefix.length - a.prefix.length); // longest prefix wins
  return out;
}

function appUrlRoute(u) {
  const appId = u.hostname.toLowerCase();
  if (!APP_ID.test(appId)) throw new TypeError(`invalid app id in ${u.href}`);
  if (u.port || u.username || u.password) throw new TypeError(`an intrustd+app URL has no port or credentials: ${u.href}`);
  const target = (u.pathname || '/') + u.search;
  const withoutHash = u.href.replace(/#.*$/, '');
  return {
    appId,
    target: target.startsWith('/') ? target : '/' + target,
    url: withoutHash,
    publicUrl: (t) => `intrustd+app://${appId}${t}`,
  };
}

/**
 * Route a URL.
 * @param {string|URL} input absolute or relative (to the page) URL
 * @param {Array<{prefix: string, appId: string}>} apps from normaliseApps
 * @param {'http'|'ws'} kind `ws` also matches same-host `ws:`/`wss:` URLs
 * @returns {Route|null} null: not for the link
 * @throws {TypeError} for an `intrustd+app:` URL that is not valid
 */
export function route(input, apps, kind = 'http') {
  const loc = pageLocation();
  let u;
  try {
    u = new URL(String(input), loc ? loc.href : undefined);
  } catch {
    return null; // let the original implementation report it
  }
  if (u.protocol === SCHEME) return appUrlRoute(u);
  if (!loc || apps.length === 0) return null;
  const pageOrigin = new URL(loc.href);
  let sameOrigin = false;
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    sameOrigin = u.origin === pageOrigin.origin;
  } else if (kind === 'ws' && (u.protocol === 'ws:' || u.protocol === 'wss:')) {
    sameOrigin = u.host === pageOrigin.host && (u.protocol === 'wss:') === (pageOrigin.protocol === 'https:');
  }
  if (!sameOrigin) return null;
  for (const { prefix, appId } of apps) {
    let rest = null;
    if (u.pathname.startsWith(prefix)) rest = u.pathname.slice(prefix.length);
    else if (u.pathname === prefix.slice(0, -1)) rest = '';
    if (rest === null) continue;
    const base = `${u.protocol}//${u.host}`;
    return {
      appId,
      target: '/' + rest + u.search,
      url: base + u.pathname + u.search,
      publicUrl: (t) => base + prefix + t.slice(1),
    };
  }
  return null;
}

/**
 * Resolve a redirect `Location` from an app, in the app's own URL space. Returns the new app
 * target, or null if the location leaves the app. `http(s)://<app-id>/...` counts as the app,
 * since apps see `Host: <app-id>`.
 */
export function resolveRedirect(appId, currentTarget, location) {
  let u;
  try {
    u = new URL(location, `${SCHEME}//${appId}${currentTarget}`);
  } catch {
    return null;
  }
  const sameApp =
    (u.protocol === SCHEME || u.protocol === 'http:' || u.protocol === 'https:') &&
    u.hostname.toLowerCase() === appId && !u.port && !u.username && !u.password;
  if (!sameApp) return null;
  return (u.pathname || '/') + u.search;
}
