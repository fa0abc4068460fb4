/*
 * The rider page's service worker (registered by /join only, scope
 * /join): the app shell is kept so the page reloads in a dead zone.
 *
 * - navigations: the network first (a new release shows at once), the
 *   kept index.html when the network fails or is too slow;
 * - /assets/: their names carry a hash of their content, so the cache
 *   first, and whatever is fetched is kept until pruned;
 * - /api/, /ride and anything else: never touched (the fixes wait in
 *   IndexedDB, not here; WebSockets do not pass through a worker).
 */

const CACHE = 'ngx-race-shell-v1';
const SHELL = '/index.html';
/* not a real file: the lazy chunks the page reported, as JSON */
const LAZY = '/sw-lazy.json';
/* a navigation that takes longer is served from the cache */
const NAV_TIMEOUT = 4000;

/*
 * Every change of the cache runs after the one before: a prune that read
 * the lists before a page's report or a fetched chunk was put would
 * delete what was just kept.
 */
let chain = Promise.resolve();

function serial(fn) {
    const p = chain.then(fn, fn);
    chain = p.catch(() => {});
    return p;
}

/* the /assets/ an index.html names */
function assetsOf(html) {
    return [...new Set([...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)]
        .map(m => m[1]))];
}

async function lazyList(cache) {
    const r = await cache.match(LAZY);
    const l = r ? await r.json().catch(() => []) : [];
    return Array.isArray(l) ? l : [];
}

function putLazy(cache, list) {
    return cache.put(LAZY, new Response(JSON.stringify(list), {
        headers: { 'content-type': 'application/json' } }));
}

/*
 * Keeps an index.html fetched from the server.  A different one is a
 * new release: the lazy chunks the page reported were those of the old
 * one, so the list starts again (the page of the new release reports
 * its own once loaded).
 */
async function putShell(cache, res) {
    const html = await res.clone().text();
    const old = await cache.match(SHELL);
    if (!old || await old.text() !== html) {
        await putLazy(cache, []);
    }
    await cache.put(SHELL, res);
    return html;
}

/*
 * The cache name never changes and sw.js itself rarely does, so old
 * releases' hashed files would be kept forever.  What the kept
 * index.html names and the lazy chunks the page reported since that
 * index.html was kept are the shell of this release; every other
 * /assets/ file goes.  Run at activation and after each navigation the
 * network answered, BEFORE the page gets the answer: so the files the
 * new page then fetches are never pruned under it.
 */
async function prune(cache) {
    const kept = await cache.match(SHELL);
    if (!kept) {
        return;
    }
    const keep = new Set([...assetsOf(await kept.text()),
                          ...await lazyList(cache)]);
    for (const req of await cache.keys()) {
        const path = new URL(req.url).pathname;
        if (path.startsWith('/assets/') && !keep.has(path)) {
            await cache.delete(req);
        }
    }
}

async function keepShell() {
    const cache = await caches.open(CACHE);
    const res = await fetch(SHELL, { cache: 'no-store' });
    if (!res.ok) {
        return;
    }
    const html = await putShell(cache, res);
    /* what index.html loads: the app can start offline */
    await cache.addAll([...assetsOf(html), '/icon.svg',
                        '/manifest.webmanifest']);
}

self.addEventListener('install', e => {
    e.waitUntil(serial(keepShell).catch(() => {})
        .then(() => self.skipWaiting()));
});

self.addEventListener('activate', e => {
    e.waitUntil((async () => {
        for (const k of await caches.keys()) {
            if (k !== CACHE) {
                await caches.delete(k);
            }
        }
        await serial(async () => prune(await caches.open(CACHE)))
            .catch(() => {});
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
    e.waitUntil(serial(async () => {
        const cache = await caches.open(CACHE);
        const lazy = new Set(await lazyList(cache));
        for (const u of urls) {
            lazy.add(u);
            if (!(await cache.match(u))) {
                await cache.add(u).catch(() => {});
            }
        }
        await putLazy(cache, [...lazy]);
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
            const copy = res.clone();
            await serial(async () => {
                await putShell(cache, copy);
                await prune(cache);
            }).catch(() => {});
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
        /* a chunk this release's page loaded: kept with the shell */
        const copy = res.clone();
        const path = new URL(req.url).pathname;
        await serial(async () => {
            await cache.put(req, copy);
            if (path.startsWith('/assets/')) {
                const lazy = await lazyList(cache);
                if (!lazy.includes(path)) {
                    await putLazy(cache, [...lazy, path]);
                }
            }
        }).catch(() => {});
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
