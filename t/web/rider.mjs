/*
 * t/web_rider.t's browser: a rider's phone (360x740, location allowed)
 * opens the join link, tracks along the loop, loses its connection,
 * reloads in the dead zone and gets everything through once back.
 * Returns the seqs the page made (all of them, and those made while
 * cut off) for the .t file to find in MongoDB.
 */

import { run, start } from './lib.mjs';

run(async () => {
    const w = await start();
    const { base, token, loop, race, rider, organizer } = w.args;
    let step = 0;
    const at = () => {
        const [lat, lon] = loop[step % loop.length];
        return { latitude: lat, longitude: lon, accuracy: 6 };
    };

    /* no link yet: how to join, and a bad paste says why */
    const desk = await w.page({ width: 1280, height: 800 });
    await desk.goto(base + '/join');
    await desk.getByRole('heading', { name: 'Ride a race' }).waitFor();
    await desk.getByLabel('Join link').fill(base + '/races/x#access=y');
    await desk.getByRole('button', { name: 'Join' }).click();
    w.ok(/not a join link/.test(await desk.getByRole('alert').innerText()),
         'without a link: how to join, and a wrong link is refused');
    await w.shot(desk, 'rider-1280');
    await w.axe(desk, 'the rider page without a link');
    /* the token pasted alone is taken too (the field is not type=url,
     * whose check would refuse it) */
    await desk.getByLabel('Join link').fill(token);
    await desk.getByRole('button', { name: 'Join' }).click();
    w.ok(await desk.getByRole('heading', { name: 'Giro del Telefono' })
         .waitFor({ timeout: 15000 }).then(() => true, () => false),
         'a token pasted alone joins the race');

    /* the service worker keeps only this release's files: a file of an
     * old release goes at the next navigation, the shell stays */
    const shell = () => desk.evaluate(async () => {
        const cache = await caches.open('ngx-race-shell-v1');
        const urls = performance.getEntriesByType('resource')
            .map(e => new URL(e.name).pathname)
            .filter(p => p.startsWith('/assets/'));
        for (const u of ['/index.html', ...urls]) {
            if (!(await cache.match(u))) {
                return false;
            }
        }
        return true;
    });
    w.ok(await w.until(shell, 30), 'the worker keeps the shell');
    const STALE = '/assets/Old-0000dead.js';
    await desk.evaluate(async u => {
        const cache = await caches.open('ngx-race-shell-v1');
        await cache.put(u, new Response('/* an old release */', {
            headers: { 'content-type': 'text/javascript' } }));
    }, STALE);
    await desk.reload();
    await desk.getByRole('heading', { name: 'Giro del Telefono' }).waitFor();
    const staleGone = await w.until(() => desk.evaluate(async u => {
        const cache = await caches.open('ngx-race-shell-v1');
        return !(await cache.match(u));
    }, STALE), 15);
    w.ok(staleGone && await w.until(shell, 15),
         'an old release\'s file is dropped, this release\'s are kept');
    await desk.context().close();

    const page = await w.page({ width: 360, height: 740, mobile: true,
                                permissions: ['geolocation'],
                                geolocation: at() });
    const context = page.context();

    /* the test's own hand on /ride: a proxy to nginx it can cut, which
     * refuses new sockets (closes them before they open) while cut */
    let online = true;
    let sockets = [];
    let opened = 0;
    const closes = [];
    await context.routeWebSocket(/\/ride\b/, ws => {
        if (!online) {
            ws.close({ code: 3000, reason: 'offline' });
            return;
        }
        opened++;
        const server = ws.connectToServer();
        /* the server's close codes, passed on to the page */
        server.onClose((code, reason) => {
            closes.push(code);
            ws.close({ code, reason }).catch(() => {});
        });
        sockets.push({ ws, server });
    });

    const text = async id => (await page.getByTestId(id).innerText()).trim();
    const num = async id => Number(await text(id).catch(() => NaN));

    /* moves the phone, and waits for the page to make that fix */
    const move = async () => {
        const before = await num('fix-seq').catch(() => NaN);
        step++;
        await context.setGeolocation(at());
        const seq = await w.until(async () => {
            const s = await num('fix-seq');
            return Number.isFinite(s) && s !== before ? s : null;
        }, 15, 50);
        return seq;
    };

    await page.goto(base + '/join#token=' + encodeURIComponent(token));
    await page.getByRole('heading', { name: 'Giro del Telefono' }).waitFor()
        .catch(async e => {
            w.diag(await page.locator('body').innerText());
            throw e;
        });
    w.ok(!page.url().includes('token'),
         'the token left the address bar', page.url());
    w.ok(await page.getByText('Rita Rider').isVisible()
         && await page.getByText('7', { exact: true }).isVisible(),
         'the rider and bib from the race');

    /* installable to the home screen: what chromium says of the
     * manifest */
    const cdp = await context.newCDPSession(page);
    const man = await cdp.send('Page.getAppManifest').catch(e => ({
        errors: [{ message: String(e) }] }));
    w.ok(man.url && man.url.endsWith('/manifest.webmanifest')
         && !(man.errors || []).length, 'the manifest has no error',
         man.errors);
    const inst = await cdp.send('Page.getInstallabilityErrors')
        .catch(e => ({ installabilityErrors: [{ errorId: String(e) }] }));
    w.diag('installability: ' + JSON.stringify(inst.installabilityErrors));
    await cdp.detach();

    await page.getByRole('button', { name: 'Start tracking' }).click();
    await page.getByRole('status').filter({ hasText: /^Connected$/ })
        .waitFor();
    w.ok(true, 'tracking: connected');

    const first = await w.until(async () => {
        const s = await num('fix-seq');
        return Number.isFinite(s) ? s : null;
    }, 15, 50);
    w.ok(first, 'the first position is a fix', first);

    let last = first;
    let orderly = true;
    for (let i = 0; i < 6; i++) {
        const s = await move();
        orderly = orderly && s === last + 1;
        last = s;
    }
    w.ok(orderly, 'each position one fix, seqs one by one');

    const acked = await w.until(async () =>
        await num('pending') === 0 && await num('ack-seq') === last, 20);
    w.ok(acked, 'every fix acked: nothing waits, the last ack is the last '
         + 'fix', { pending: await text('pending').catch(() => '?'),
                    last });
    await w.shot(page, 'rider-360');
    await w.axe(page, 'the rider page, tracking');

    /* the shell is kept by the service worker before the dead zone */
    const kept = await w.until(() => page.evaluate(async () => {
        if (!navigator.serviceWorker.controller) {
            return false;
        }
        const cache = await caches.open('ngx-race-shell-v1');
        const urls = performance.getEntriesByType('resource')
            .map(e => new URL(e.name).pathname)
            .filter(p => p.startsWith('/assets/'));
        for (const u of ['/index.html', ...urls]) {
            if (!(await cache.match(u))) {
                return false;
            }
        }
        return true;
    }), 30);
    w.ok(kept, 'the service worker controls the page and keeps its shell');

    /* the dead zone: the socket cut on both sides, no network */
    online = false;
    await context.setOffline(true);
    for (const { ws, server } of sockets) {
        await ws.close({ code: 3001, reason: 'cut by the test' })
            .catch(() => {});
        await server.close().catch(() => {});
    }
    sockets = [];
    await page.getByRole('status').filter({ hasText: 'No connection' })
        .waitFor();
    w.ok(true, 'the page says the connection is gone');

    const cut = last;
    for (let i = 0; i < 5; i++) {
        last = await move();
    }
    /* the page shows a fix before it counts the buffer again */
    const pending = await w.until(async () => {
        const n = await num('pending');
        return n === last - cut ? n : null;
    }, 15, 50);
    w.ok(pending >= 5, 'the fixes wait in the buffer (' + pending + ')');
    await w.shot(page, 'rider-offline-360');
    await w.axe(page, 'the rider page in a dead zone');

    /* a reload in the dead zone: the service worker has the page, the
     * buffer still has the fixes */
    const res = await page.reload();
    w.ok(res && res.fromServiceWorker(),
         'the page reloads from the service worker while offline');
    await page.getByRole('heading', { name: 'Giro del Telefono' }).waitFor();
    const after = await w.until(async () => {
        const n = await num('pending');
        return n === pending ? n : null;
    }, 15);
    w.is(after, pending, 'the fixes survived the reload');
    await w.sees(page.getByText(/positions from before were not sent/),
                 'the page offers to send them');

    await page.getByRole('button', { name: 'Start tracking' }).click();
    /* tracking again makes a fix of where the phone is */
    last = await w.until(async () => {
        const s = await num('fix-seq').catch(() => NaN);
        return Number.isFinite(s) ? s : null;
    }, 15, 50);
    w.ok(last > cut, 'tracking again after the reload', last);
    for (let i = 0; i < 3; i++) {
        last = await move();
    }
    w.ok(await w.until(async () => await num('pending') === last - cut,
                       15, 50) && last - cut >= pending + 3,
         'more fixes wait while the dead zone lasts',
         await text('pending').catch(() => '?'));
    const offlineSeqs = [];
    for (let s = cut + 1; s <= last; s++) {
        offlineSeqs.push(s);
    }

    /* the network is back: the 'online' event reconnects at once and
     * the backlog goes */
    online = true;
    const was = opened;
    await context.setOffline(false);
    const flushed = await w.until(async () =>
        await num('pending') === 0 && await num('ack-seq') === last, 30);
    w.ok(flushed, 'back online: the backlog is acked, nothing waits',
         { pending: await text('pending').catch(() => '?'), last });
    w.ok(opened > was, 'over a new socket');
    w.ok(closes.includes(1009),
         'the backlog was over the server\'s message limit (1009), and '
         + 'went in smaller batches', closes);

    /* live again */
    last = await move();
    w.ok(await w.until(async () => await num('ack-seq') === last, 20),
         'a new position is acked live');

    /* every seq the page gave: the counter in IndexedDB */
    const top = await page.evaluate(() => new Promise((resolve, reject) => {
        const r = indexedDB.open('ngx-race-ride');
        r.onsuccess = () => {
            const tx = r.result.transaction('meta', 'readonly');
            const keys = tx.objectStore('meta').getAllKeys();
            const vals = tx.objectStore('meta').getAll();
            tx.oncomplete = () => {
                const i = keys.result.findIndex(k => String(k)
                                                     .startsWith('seq:'));
                resolve(i < 0 ? null : vals.result[i]);
            };
        };
        r.onerror = () => reject(r.error);
    }));
    w.is(top, last, 'the last seq in IndexedDB is the last fix shown');

    await page.getByRole('button', { name: 'Stop tracking' }).click();
    await page.getByRole('status').filter({ hasText: 'Not connected' })
        .waitFor();
    w.ok(true, 'stopped: the socket closes once nothing waits');

    /* tracking again; then the organizer takes the rider off the race:
     * the server closes the ride (1008) and the page says why, keeps
     * what it could not send, and does not hammer the server */
    await page.getByRole('button', { name: 'Start tracking' }).click();
    await page.getByRole('status').filter({ hasText: /^Connected$/ })
        .waitFor();
    last = await w.until(async () => {
        const s = await num('fix-seq');
        return s > top ? s : null;
    }, 15, 50);
    w.ok(await w.until(async () => await num('ack-seq') === last, 20),
         'tracking again: acked');
    const stored = last;

    const del = await fetch(base + '/api/races/' + encodeURIComponent(race)
                            + '/riders/' + encodeURIComponent(rider), {
        method: 'DELETE', headers: { Authorization: 'Bearer ' + organizer },
    });
    w.is(del.status, 204, 'the organizer takes the rider off the race');
    const refused = page.getByRole('status')
        .filter({ hasText: 'Refused by the server' });
    await refused.waitFor();
    w.ok(/revoked/.test(await refused.innerText()),
         'the page says the link was revoked', await refused.innerText());
    const tries = opened;
    last = await move();
    w.ok(await w.until(async () => await num('pending') === 1, 15, 50),
         'a position after that is kept',
         await text('pending').catch(() => '?'));
    await w.shot(page, 'rider-refused-360');
    w.is(opened, tries, 'and no new socket is tried at once');

    const seqs = [];
    for (let s = first; s <= stored; s++) {
        seqs.push(s);
    }
    await w.end({ seqs, offline_seqs: offlineSeqs });
});
