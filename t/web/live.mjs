/*
 * t/web_live.t's browser: the live race page while race-sim rides.  The
 * map draws (course and markers), the riders move, the fast rider
 * (bib args.fast) climbs the standings, a rider is followed, a
 * favourite survives a reload, the connection is said and comes back
 * after the socket is cut; at 360 px nothing overflows.
 */

import { run, start } from './lib.mjs';

/* the main standings' bibs, ranks and distances, top to bottom */
async function board(page) {
    return page.locator('section.live-board > .leaderboard tbody tr')
        .evaluateAll(rows => rows.map(r => ({
            bib: r.dataset.bib,
            rank: r.querySelector('.rank').textContent,
            dist: r.querySelector('.dist').textContent,
        })));
}

function centre(box) {
    return box && { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

run(async () => {
    const w = await start();
    const { base, race, upcoming, fast, behind } = w.args;
    const url = base + '/races/' + race;

    /* 1280: map and standings side by side */
    const page = await w.page({ width: 1280, height: 800 });
    await page.goto(url);
    await page.getByRole('heading', { name: /Giro del Parco/ }).waitFor();
    const conn = page.locator('.connection');
    await conn.getByText('Live', { exact: true }).waitFor();
    w.ok(true, 'the connection says "Live"');
    w.ok(/updated \d/.test(await conn.innerText()),
         'with the time of the last update');
    w.is(await conn.locator('[aria-live=polite]').innerText(), 'Live',
         'only the state is a live region, not the time of each update');

    const markers = page.locator('.rider-marker');
    const five = await w.until(async () => await markers.count() >= 5, 60);
    w.ok(five, 'a marker per rider on the map', await markers.count());
    await page.locator('.race-map canvas').waitFor();
    const drawn = await w.until(async () => {
        const d = await w.drawn(page, '.race-map canvas');
        return d.share > 0.01 && d;
    }, 20);
    w.ok(drawn, 'the map drew the course', drawn);
    await w.sees(page.getByRole('button', { name: /^Bib 1, Ann/ }),
                 'a marker is a button named by bib and rider');

    const mapBox = await page.locator('.race-map').boundingBox();
    const boardBox = await page.locator('section.live-board').boundingBox();
    w.ok(mapBox && boardBox && boardBox.x >= mapBox.x + mapBox.width - 1,
         'the standings are beside the map', mapBox, boardBox);

    /* riders move: on the map and in the distances */
    const m2 = page.getByRole('button', { name: /^Bib 2, / });
    const before = centre(await m2.boundingBox());
    const first = await board(page);
    const moved = await w.until(async () => {
        const now = centre(await m2.boundingBox());
        return now && before
            && Math.hypot(now.x - before.x, now.y - before.y) > 3;
    }, 20);
    w.ok(moved, 'a marker moves');
    const grew = await w.until(async () => {
        const b = await board(page);
        const a = first.find(x => x.bib === '1');
        const n = b.find(x => x.bib === '1');
        return a && n && parseFloat(n.dist) > parseFloat(a.dist);
    }, 20);
    w.ok(grew, 'a distance in the standings grows');

    /*
     * The fast rider passes the pack: she started behind all four (the
     * test read their order on /live before she set off, behind being
     * the last of them), so being in the top 3 and ahead of that one
     * is the standings reordered, however late this page looked.
     */
    const at = (b, bib) => b.findIndex(x => x.bib === bib);
    w.diag('first order: ' + first.map(x => x.bib).join(' '));
    const passed = await w.until(async () => {
        const b = await board(page);
        const f = at(b, fast);
        return f >= 0 && f < 3 && f < at(b, behind) && b;
    }, 90);
    w.ok(passed, 'the fast rider climbs the standings past bib ' + behind,
         first.map(x => x.bib), passed && passed.map(x => x.bib));
    const now = await board(page);
    const ranks = now.map(x => parseInt(x.rank, 10))
        .filter(x => Number.isFinite(x));
    w.ok(ranks.length >= 4 && ranks.every((r, i) => !i || r > ranks[i - 1]),
         'the ranks come in order', ranks);

    /* follow a rider: its row, its marker, and the map keeps it centred */
    const name = page.locator('section.live-board > .leaderboard')
        .getByRole('button', { name: 'Cy', exact: true });
    await name.click();
    w.is(await name.getAttribute('aria-pressed'), 'true',
         'the followed rider is pressed in the standings');
    await page.getByText(/^Following Cy/).waitFor();
    const m3 = page.getByRole('button', { name: /^Bib 3, Cy/ });
    w.ok(/highlight/.test(await m3.getAttribute('class')),
         'and highlighted on the map');
    const mb = await page.locator('.race-map').boundingBox();
    const centred = await w.until(async () => {
        const c = centre(await m3.boundingBox());
        return c && Math.hypot(c.x - (mb.x + mb.width / 2),
                               c.y - (mb.y + mb.height / 2)) < 40;
    }, 15);
    w.ok(centred, 'the map follows the rider');
    await page.getByText(/^Top/).first().waitFor();

    await w.shot(page, 'live-1280');
    await w.axe(page, 'a live race at 1280 px');

    await name.click();
    w.is(await name.getAttribute('aria-pressed'), 'false',
         'a second click stops following');

    /* a marker by keyboard follows too */
    await m3.focus();
    await page.keyboard.press('Enter');
    await page.getByText(/^Following Cy/).waitFor();
    w.ok(true, 'Enter on a marker follows its rider');

    /* a favourite, kept over a reload */
    await page.locator('section.live-board > .leaderboard')
        .getByRole('button', { name: 'Favourite: Dee, bib 4' }).click();
    await page.getByRole('heading', { name: 'Your riders' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Your riders' }).waitFor();
    w.is(await page.locator('section.live-board > .leaderboard')
             .getByRole('button', { name: 'Favourite: Dee, bib 4' })
             .getAttribute('aria-pressed'), 'true',
         'the favourite is still starred after a reload');

    /* 360: the map on top, the standings scroll inside their box */
    const phone = await w.page({ width: 360, height: 740, mobile: true });
    let cut = false;
    const sockets = [];
    await phone.routeWebSocket(/\/live\//, ws => {
        if (cut) {
            ws.close({ code: 1011, reason: 'cut by the test' });
            return;
        }
        ws.connectToServer();
        sockets.push(ws);
    });
    await phone.goto(url);
    const pconn = phone.locator('.connection');
    await pconn.getByText('Live', { exact: true }).waitFor();
    await w.until(async () =>
        await phone.locator('.rider-marker').count() >= 5, 30);
    const pdrawn = await w.until(async () => {
        const d = await w.drawn(phone, '.race-map canvas');
        return d.share > 0.01 && d;
    }, 20);
    w.ok(pdrawn, 'the map drew at 360 px', pdrawn);
    const over = await phone.evaluate(() =>
        document.documentElement.scrollWidth - window.innerWidth);
    w.ok(over <= 0, 'nothing overflows the page at 360 px', over);
    const pm = await phone.locator('.race-map').boundingBox();
    const pb = await phone.locator('section.live-board').boundingBox();
    w.ok(pm && pb && pb.y >= pm.y + pm.height - 1
         && pm.height > 740 * 0.35 && pm.height < 740 * 0.55,
         'the map on top, about half the screen high', pm, pb);
    w.ok(await phone.locator('section.live-board > .leaderboard')
             .evaluate(e => e.scrollWidth > e.clientWidth
                            && getComputedStyle(e).overflowX === 'auto'),
         'the standings scroll sideways inside their box');
    await w.shot(phone, 'live-360');
    await w.axe(phone, 'a live race at 360 px');

    /* the socket cut: said, retried, back */
    cut = true;
    for (const s of sockets.splice(0)) {
        await s.close({ code: 1001, reason: "cut by the test" });
    }
    await pconn.getByText(/Reconnecting|Connection lost/).waitFor();
    w.ok(true, 'a cut socket is said: ' + await pconn.innerText());
    cut = false;
    await pconn.getByText('Live', { exact: true }).waitFor({ timeout: 40000 });
    w.ok(true, 'and the page comes back live by itself');

    /* an upcoming race counts down, connected */
    await page.goto(base + '/races/' + upcoming);
    await page.getByText(/^Starts at /).waitFor();
    w.ok(/in \d+:\d\d:\d\d/.test(await page.locator('.countdown')
                                            .innerText()),
         'an upcoming race counts down to its start');
    await conn.getByText('Live', { exact: true }).waitFor();
    w.ok(true, 'and is watched live already');

    /* a race the API does not know is still tried live */
    await page.goto(base + '/races/adhoc1');
    await page.getByRole('heading', { name: 'adhoc1' }).waitFor();
    await w.sees(page.getByText(/no race adhoc1 in the race list/),
                 'an unknown race says so and is watched live');

    /*
     * A private race: its organizer's session opens the race but not
     * /live, so the page says why it is not live and how to fix it;
     * with a spectator link it is live.
     */
    const priv = w.args.private;
    const org = await w.page({ width: 1280, height: 800 });
    await org.goto(base + '/login?next=' + encodeURIComponent('/organize'));
    await org.getByLabel('Email').fill(w.args.organizer.email);
    await org.getByLabel('Password').fill(w.args.organizer.password);
    await org.getByRole('button', { name: 'Log in' }).click();
    await org.waitForURL('**/organize');
    await org.goto(base + '/races/' + priv.race);
    await org.getByRole('heading', { name: /Cortile Privato/ }).waitFor();
    await org.getByRole('alert').filter({ hasText: /spectator link/ })
        .waitFor({ timeout: 30000 });
    w.ok(true, 'a private race without a link says why it is not live');
    w.is(await org.getByRole('link', { name: 'Make a spectator link' })
             .getAttribute('href'), '/organize/' + priv.race,
         'and its organizer is shown where to make a link');
    const oconn = org.locator('.connection');
    w.ok(!/^Live$/.test(await oconn.innerText()), 'and not "Live"',
         await oconn.innerText());
    /* a fresh page: a change of the fragment alone loads nothing */
    const fan = await w.page({ width: 1280, height: 800 });
    await fan.goto(base + '/races/' + priv.race + '#access='
                   + encodeURIComponent(priv.token));
    await fan.getByRole('heading', { name: /Cortile Privato/ }).waitFor();
    await fan.locator('.connection')
        .getByText('Live', { exact: true }).waitFor();
    w.ok(true, 'with a spectator link the private race is live');
    w.is(await fan.getByText(/spectator link/).count(), 0,
         'and no refusal or hint is said');

    await w.end({});
});
