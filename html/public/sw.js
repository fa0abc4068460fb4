/*
 * The rider page's service worker (registered by /join only, scope
 * /join): the app shell is kept so the page reloads in a dead zone.
 *
 * - navigations: the network first (a new release shows at once), the
 *   kept index.html when the network fails or is too slow;
 * - /assets/: their names carry a hash of their content, so the cache
 *   first, and whatever is fetched is kept;
 * - /api/, /ride and anything else: never touched (the fixes wait in
 *   IndexedDB, not here; WebSockets do not pass through a worker).
 */

const CACHE = 'ngx-race-shell-v1';
const SHELL = '/index.html';
/* a navigation that takes longer is served from the cache */
const NAV_TIMEOUT = 4000;

async function keepShell() {
    const cache = await caches.open(CACHE);
    const res = await fetch(SHELL, { cache: 'no-store' });
    if (!res.ok) {
        return;
    }
    const html = await res.clone().text();
    await cache.put(SHELL, res);
    /* what index.html loads: the app can start offline */
    const urls = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)]
        .map(m => m[1]);
    await cache.addAll([...new Set(urls), '/icon.svg',
                        '/manifest.webmanifest']);
}

self.addEventListener('install', e => {
    e.waitUntil(keepShell().catch(() => {}).then(() => self.skipWaiting()));
});

self.addEventListener('activate', e => {
    e.waitUntil((async () => {
        for (const k of await caches.keys()) {
            if (k !== CACHE) {
                await caches.delete(k);
            }
        }
        await self.clients.claim();
    })());
});

/* the page names what it loaded before this worker ran (its lazy
 * chunks): kept as well */
self.addEventListener('message', e => {
    const d = e.data;
    if (!d || d.type !== 'cache' || !Array.isArray(d.urls)) {
        return;
    }
    const urls = d.urls.filter(u => typeof u === 'string'
                                    && u.startsWith('/assets/'));
    e.waitUntil(caches.open(CACHE).then(async cache => {
        for (const u of urls) {
            if (!(await cache.match(u))) {
                await cache.add(u).catch(() => {});
            }
        }
    }));
});

async function navigation(req) {
    const cache = await caches.open(CACHE);
    try {
        const res = await Promise.race([
            fetch(req),
            new Promise((_, reject) =>
                setTimeout(() => reject(new Error('slow')), NAV_TIMEOUT)),
        ]);
        if (res.ok && (res.headers.get('content-type') || '')
                          .includes('text/html')) {
            await cache.put(SHELL, res.clone());
        }
        return res;
    } catch (err) {
        const kept = await cache.match(SHELL);
        if (kept) {
            return kept;
        }
        throw err;
    }
}

async function asset(req) {
    const cache = await caches.open(CACHE);
    const kept = await cache.match(req);
    if (kept) {
        return kept;
    }
    const res = await fetch(req);
    if (res.ok) {
        await cache.put(req, res.clone());
    }
    return res;
}

self.addEventListener('fetch', e => {
    const req = e.request;
    if (req.method !== 'GET') {
        return;
    }
    const url = new URL(req.url);
    if (url.origin !== self.location.origin) {
        return;
    }
    if (req.mode === 'navigate') {
        e.respondWith(navigation(req));
    } else if (url.pathname.startsWith('/assets/')
               || url.pathname === '/icon.svg'
               || url.pathname === '/manifest.webmanifest') {
        e.respondWith(asset(req));
    }
});
