/*
 * t/web_organizer.t's browser, in phases (args.phase):
 *   create  log in, make a race from the GPX file with its preview, a
 *           checkpoint, three riders and their join links, start it;
 *           result {race, tokens}
 *   watch   the race's page while race-sim rides it
 *   finish  a private race's spectator link made and revoked, the race
 *           finished; result {share}
 */

import { run, start } from './lib.mjs';

async function login(w, page, who, next) {
    await page.goto(w.base + '/login?next=' + encodeURIComponent(next));
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**' + next);
}

/* what the confirm() of start, finish, revoke answers */
function acceptDialogs(page) {
    page.on('dialog', d => d.accept());
}

/* the rider token of a join link: /join#token=... */
function tokenOf(url) {
    const m = /#token=([^&]+)/.exec(url || '');
    return m ? decodeURIComponent(m[1]) : null;
}

async function overflows(page) {
    return page.evaluate(() => document.documentElement.scrollWidth
                               > window.innerWidth);
}

async function create(w) {
    const { organizer, gpx } = w.args;
    const page = await w.page({ width: 1280, height: 900 });
    acceptDialogs(page);

    /* a visitor is sent to log in, and comes back */
    await page.goto(w.base + '/organize');
    const link = page.getByRole('link', { name: 'Log in' }).last();
    await link.waitFor();
    w.is(await link.getAttribute('href'), '/login?next=%2Forganize',
         'a visitor is asked to log in, coming back to /organize');

    await login(w, page, organizer, '/organize');
    await page.getByRole('heading', { name: 'Your races' }).waitFor();
    w.ok(await w.until(() => page.getByText('No race yet').isVisible(),
                       15), 'a new organizer has no race yet');
    await page.getByRole('link', { name: 'New race' }).click();
    await page.waitForURL('**/organize/new');

    /* a file that is not a course says why */
    const file = page.getByLabel('Course file');
    await file.setInputFiles({ name: 'notes.gpx', mimeType: 'text/plain',
                               buffer: Buffer.from('hello') });
    const bad = page.getByRole('alert');
    await bad.waitFor();
    w.ok(/not XML/.test(await bad.innerText()),
         'a file that is not GPX says why');

    await page.getByLabel('Name', { exact: true }).fill('Coppa del Parco');
    const startAt = new Date(Date.now() + 2 * 3600 * 1000);
    const pad = n => String(n).padStart(2, '0');
    await page.getByLabel('Start', { exact: true }).fill(
        startAt.getFullYear() + '-' + pad(startAt.getMonth() + 1) + '-'
        + pad(startAt.getDate()) + 'T' + pad(startAt.getHours()) + ':00');
    await file.setInputFiles(gpx);
    const length = page.getByTestId('course-length');
    await length.waitFor();
    const lap = parseFloat(await length.innerText());
    w.ok(lap > 1.1 && lap < 1.3, 'the preview: the loop is about 1.2 km',
         await length.innerText());
    w.ok(await page.getByRole('img', { name: /^The course/ }).isVisible()
         && await page.getByRole('img', { name: /Elevation profile/ })
             .isVisible(), 'the preview draws the course and its profile');
    w.ok(await page.getByText('a loop', { exact: true }).isVisible(), 'it is a loop');

    await page.getByLabel('Laps').fill('3');
    await w.until(async () => /×\s*3 laps/.test(await length.innerText()),
                  10);
    const total = parseFloat(await length.innerText());
    w.ok(Math.abs(total - 3 * lap) < 0.02, 'three laps: the length is '
         + 'three times the loop', await length.innerText());

    await page.getByRole('button', { name: 'Add checkpoint' }).click();
    await page.getByLabel('Name of checkpoint 1').fill('Lap 1');
    await page.getByLabel('Distance of checkpoint 1 (km)').fill(
        lap.toFixed(1));
    await w.shot(page, 'organize-new-1280', { fullPage: true });
    await w.axe(page, 'a new race with its preview');

    await page.getByRole('button', { name: 'Create race' }).click();
    await page.waitForURL(/\/organize\/(?!new)[^/]+$/);
    const race = decodeURIComponent(page.url().split('/').pop());
    await page.getByRole('heading', { name: 'Coppa del Parco' }).waitFor();
    w.ok(await page.getByText('Lap 1').isVisible(),
         'the race page lists the checkpoint');
    w.ok(/3 laps/.test(await page.locator('.org-summary').innerText()),
         'and the laps');

    /* three riders; a taken bib is refused with the server's reason */
    async function add(name, bib) {
        await page.getByLabel('Rider name').fill(name);
        await page.getByLabel('Bib', { exact: true }).fill(bib);
        await page.getByRole('button', { name: 'Add rider' }).click();
    }
    const links = page.getByLabel(/^Join link for/);
    await add('Ann Rider', '1');
    await w.until(async () => (await links.count()) === 1, 15);
    await add('Ben Rider', '2');
    await w.until(async () => (await links.count()) === 2, 15);
    await add('Cid Rider', '2');
    const taken = page.locator('.org-add [role=alert]');
    await taken.waitFor();
    w.ok(/bib_taken/.test(await taken.innerText()),
         'a taken bib is refused: ' + await taken.innerText());
    await page.getByLabel('Bib', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Add rider' }).click();
    await w.until(async () => (await links.count()) === 3, 15);
    w.is(await links.count(), 3, 'three join links are shown');
    w.ok(await page.getByText('only here, until you leave this page')
         .isVisible(), 'saying they are shown only once');

    const tokens = [];
    for (let i = 0; i < 3; i++) {
        const url = await links.nth(i).inputValue();
        w.ok(url.startsWith(w.base + '/join#token='),
             'a join link is a page of this site: /join#token=');
        tokens.push(tokenOf(url));
    }
    const qr = await w.drawn(page, 'canvas.org-qr >> nth=0');
    w.ok(qr.share > 0.2 && qr.colours >= 2, 'a QR code is drawn', qr);
    w.is(await page.locator('canvas.org-qr').count(), 3,
         'one QR code a rider');
    w.is(await page.locator('table.org-riders tbody tr').count(), 3,
         'three riders in the table');

    /* a rider renamed and marked, then back */
    await page.getByRole('button', { name: 'Edit Cid Rider (3)' }).click();
    await page.getByLabel('Name of Cid Rider').fill('Cid Rider');
    await page.getByLabel('Bib of Cid Rider').fill('1');
    await page.getByRole('button', { name: 'Save' }).last().click();
    const rowErr = page.locator('section[aria-labelledby=org-riders-h] '
                                + '> [role=alert]');
    await rowErr.waitFor();
    w.ok(/^Cid Rider \(3\): .*\S/.test(await rowErr.innerText()),
         'renumbering onto a taken bib says so: '
         + await rowErr.innerText());
    await page.getByLabel('Bib of Cid Rider').fill('3');
    await page.getByRole('button', { name: 'Save' }).last().click();
    await page.getByRole('button', { name: 'Mark Cid Rider (3) DNF' })
        .click();
    await page.getByRole('button', { name: 'Reinstate Cid Rider (3)' })
        .click();
    await page.getByRole('button', { name: 'Mark Cid Rider (3) DNF' })
        .waitFor();
    w.ok(!(await rowErr.count()), 'a rider is marked DNF and reinstated');

    await w.shot(page, 'manage-1280', { fullPage: true });
    await w.axe(page, 'a race managed at 1280 px');
    await page.setViewportSize({ width: 360, height: 740 });
    w.ok(!(await overflows(page)), 'nothing overflows at 360 px');
    await w.shot(page, 'manage-360', { fullPage: true });
    await w.axe(page, 'a race managed at 360 px');
    await page.setViewportSize({ width: 1280, height: 900 });

    /* start */
    await page.getByRole('button', { name: 'Start race' }).click();
    await page.getByTestId('race-status').getByText('Live').waitFor();
    w.ok(await page.getByRole('button', { name: 'Finish race' })
         .isVisible() && !(await page.getByRole('button',
                                               { name: 'Start race' })
                           .count()),
         'started: Finish replaces Start');
    w.ok(await links.count() === 3, 'the join links stay listed');

    /* the list of the organizer's races */
    await page.getByRole('link', { name: '← Your races' }).click();
    const row = page.getByRole('row', { name: /Coppa del Parco/ });
    await row.waitFor();
    const text = await row.innerText();
    w.ok(/Live/.test(text) && /\b3\b/.test(text),
         'the list: the race, live, 3 riders', text);
    w.ok(await row.getByRole('link', { name: 'Watch' }).count() === 1,
         'with a link to watch it');

    await w.end({ race, tokens });
}

async function watch(w) {
    const { race, names } = w.args;
    const page = await w.page({ width: 1280, height: 800 });
    await page.goto(w.base + '/races/' + encodeURIComponent(race));
    await page.locator('main').first().waitFor();
    w.ok(true, 'the race page loads');

    /* the riders race-sim rides with the links the page gave: on the
     * map and in the standings */
    const table = page.getByRole('table').first();
    w.ok(await w.until(async () => (await table.count()) > 0, 30),
         'the live page has its standings');
    const markers = page.locator('.rider-marker');
    w.ok(await w.until(async () => (await markers.count()) >= 3, 30),
         'a marker per rider on the map', await markers.count());
    const drawn = await w.until(async () => {
        const d = await w.drawn(page, '.race-map canvas');
        return d.share > 0.01 ? d : null;
    }, 30);
    w.ok(drawn, 'the map drew the course');
    const seen = await w.until(async () => {
        const t = await table.innerText();
        return names.every(n => t.includes(n));
    }, 30);
    w.ok(seen, 'the three riders are in the leaderboard');
    const dist = async () => page.evaluate(() => {
        const m = [...document.querySelectorAll('table td')]
            .map(td => /([\d.]+)\s*km/.exec(td.textContent))
            .filter(Boolean).map(x => parseFloat(x[1]));
        return m.length ? Math.max(...m) : 0;
    });
    const d0 = await dist();
    w.ok(await w.until(async () => (await dist()) > d0, 20),
         'their distance grows');
    await w.end();
}

async function finish(w) {
    const { organizer, spectator, race, private: priv } = w.args;

    /* a spectator is told what the page needs */
    const fan = await w.page({ width: 360, height: 740, mobile: true });
    await login(w, fan, spectator, '/organize');
    const need = fan.getByRole('alert');
    await need.waitFor();
    w.ok(/need the organizer role/.test(await need.innerText()),
         'a spectator is told the organizer role is needed');

    const page = await w.page({ width: 1280, height: 900 });
    acceptDialogs(page);
    await login(w, page, organizer, '/organize/' + priv);
    await page.getByRole('heading', { name: 'Riservata' }).waitFor();

    await page.getByRole('button', { name: 'Create spectator link' })
        .click();
    const share = page.getByLabel(/^Spectator link 1/);
    await share.waitFor();
    const url = await share.inputValue();
    w.ok(url.startsWith(w.base + '/races/' + priv + '#access='),
         'the spectator link is the race page with #access=');
    w.ok((await w.drawn(page, 'canvas.org-qr >> nth=0')).share > 0.2,
         'with its QR code');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await w.until(async () => !(await share.count()), 15);
    w.ok(!(await share.count()), 'the revoked link leaves the list');

    /* a public race has no spectator links; the live one is finished */
    await page.goto(w.base + '/organize/' + race);
    await page.getByRole('heading', { name: 'Coppa del Parco' }).waitFor();
    w.ok(!(await page.getByRole('button',
                                { name: 'Create spectator link' }).count()),
         'a public race has no spectator links');
    await page.getByRole('button', { name: 'Finish race' }).click();
    await page.getByTestId('race-status').getByText('Finished').waitFor();
    w.ok(!(await page.getByRole('button', { name: /Start race|Finish race/ })
           .count()), 'finished: neither start nor finish is offered');
    w.ok(!(await page.getByRole('button', { name: 'Add rider' }).count()),
         'nor entering riders');

    await w.end({ share: url });
}

run(async () => {
    const w = await start();
    const phase = { create, watch, finish }[w.args.phase];
    if (!phase) {
        throw new Error('no phase ' + w.args.phase);
    }
    await phase(w);
});
