/*
 * A finished race in the browser (t/web_results.t): the results in rank
 * order with their times, the selected rider's speed and elevation
 * charts, the race flow with a line per rider, the replay moving the
 * riders, the CSV and a GPX downloaded; then the rider logs in and
 * finds the race and its rank in My races.
 */

import { readFileSync } from 'node:fs';
import { run, start } from './lib.mjs';

run(async () => {
    const w = await start();
    const { base, race, order, names, rider, rank } = w.args;
    const url = base + '/races/' + race;

    /* a desktop */
    const page = await w.page({ width: 1280, height: 900 });
    await page.goto(url);
    const rows = page.locator('table.past-results tbody tr');
    await w.until(async () => (await rows.count()) === 3, 30);
    const ids = await rows.evaluateAll(
        trs => trs.map(tr => tr.dataset.rider));
    w.is(JSON.stringify(ids), JSON.stringify(order),
         'the results table has the 3 riders in rank order');
    const times = await rows.locator('td:nth-child(5)').allTextContents();
    w.ok(times.length === 3 && times.every(s => /^\d+:\d\d$/.test(s)),
         'each with a finish time', times);
    const first = await rows.nth(0).locator('td.name button').textContent();
    w.is(first, names[order[0]], 'the winner by name first');

    /* sorting by bib, then back by rank */
    await page.getByRole('button', { name: 'Bib', exact: true }).click();
    const bibs = await rows.locator('td:nth-child(2)').allTextContents();
    w.is(bibs.join(','), '1,2,3', 'sorted by bib');
    await page.getByRole('button', { name: 'Rank', exact: true }).click();

    /* the winner's statistics, splits and charts */
    await page.locator('.past-rider h2').filter({ hasText: names[order[0]] })
        .waitFor();
    const split = await page.locator('table.past-splits tbody tr').first()
        .textContent();
    w.ok(/Top/.test(split) && /\d+:\d\d/.test(split),
         'the splits at the checkpoint', split);
    for (const chart of ['speed', 'elevation']) {
        const sel = `.past-chart[data-chart=${chart}] canvas`;
        await page.locator(sel).first().waitFor();
        const d = await w.drawn(page, sel);
        w.ok(d.share > 0.01, `the ${chart} chart drew`, d);
    }

    /* another rider: its own statistics and deltas */
    await rows.nth(2).locator('td.name button').click();
    await page.locator('.past-rider h2').filter({ hasText: names[order[2]] })
        .waitFor();
    const behind = await page.locator('table.past-splits tbody tr').first()
        .locator('td').nth(3).textContent();
    w.ok(/^\+\d+:\d\d$|^best$/.test(behind),
         'the third rider: its delta to the best at the checkpoint', behind);
    await page.locator('.past-chart[data-chart=speed] canvas').first()
        .waitFor();

    /* the race flow: all tracks, a series per rider */
    await page.locator('summary', { hasText: 'Race flow' }).click();
    const flowSel = '.past-chart[data-chart=flow]';
    await page.locator(flowSel + ' canvas').first().waitFor();
    w.is(await page.locator(flowSel).getAttribute('data-series'), '3',
         'the flow chart has a series per rider');
    const fd = await w.drawn(page, flowSel + ' canvas');
    w.ok(fd.share > 0.01, 'the flow chart drew', fd);
    w.ok(/3 tracks loaded/.test(await page.locator('.past-progress').first()
                                        .textContent()),
         'the tracks loaded, with their progress said');

    /* the replay: the slider moves the riders */
    await page.locator('summary', { hasText: 'Replay' }).click();
    const slider = page.getByLabel('Replay time');
    await slider.waitFor();
    const board = page.locator('.past-board');
    const at0 = await board.textContent();
    const max = Number(await slider.getAttribute('max'));
    w.ok(max > 10000, 'the replay spans the race', max);
    await slider.fill(String(Math.round(max / 2 / 1000) * 1000));
    await w.until(async () => (await board.textContent()) !== at0, 10);
    const mid = await board.textContent();
    w.ok(mid !== at0, 'the leaderboard changes with the slider', at0, mid);
    const dists = await page.locator('.past-board .dist').allTextContents();
    w.ok(dists.length === 3 && dists.every(s => parseFloat(s) > 0.05),
         'three riders on the way at half time', dists);
    const markers = page.locator('.past-replay .rider-marker');
    await w.until(async () => (await markers.count()) === 3, 30);
    w.is(await markers.count(), 3, 'the riders on the replay\'s map');
    const where = () => markers.evaluateAll(
        els => els.map(e => e.style.transform).join());
    /* from the start at x10: the race's 50 s take 5 s to play */
    await slider.fill('0');
    await page.getByLabel('Replay speed').selectOption('10');
    const dots0 = await where();
    await page.getByRole('button', { name: 'Play' }).click();
    const moved = await w.until(async () => (await where()) !== dots0, 10);
    w.ok(moved, 'playing moves the riders on the map');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Play' }).waitFor();
    const clock = page.locator('.past-replay-time');
    const paused = await clock.textContent();
    await page.waitForTimeout(300);
    w.is(await clock.textContent(), paused, 'pause stops the replay');
    w.ok(await w.drawn(page, '.past-replay .race-map canvas')
             .then(d => d.share > 0.01), 'the replay\'s map drew');
    await slider.fill(String(Math.round(max / 2 / 1000) * 1000));
    await w.shot(page, 'results-1280', { fullPage: true });
    await w.axe(page, 'a finished race at 1280 px');

    /* the downloads */
    let [dl] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download the results as CSV' })
            .click(),
    ]);
    const csv = readFileSync(await dl.path(), 'utf8').trim().split(/\r?\n/);
    w.ok(/^rank,rider,bib,name,status,finish_s/.test(csv[0]),
         'the CSV has its header', csv[0]);
    w.is(csv.length, 4, 'and a line per rider');
    w.is(dl.suggestedFilename(), race + '-results.csv', 'named for the race');
    [dl] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'GPX track of ' + names[order[0]] })
            .click(),
    ]);
    const gpx = readFileSync(await dl.path(), 'utf8');
    w.ok(/<gpx[\s\S]*<trkpt /.test(gpx), 'a GPX track downloads');

    /* a private race with a spectator link: every request carries its
     * token, so the files are fetched and saved from the page */
    const priv = await w.page({ width: 1280, height: 900 });
    await priv.goto(base + '/races/' + w.args.private.race + '#access='
                    + encodeURIComponent(w.args.private.token));
    const prow = priv.locator('table.past-results tbody tr');
    await w.until(async () => (await prow.count()) === 2, 30);
    w.is(await prow.count(), 2, 'a private race\'s results with its link');
    await priv.locator('.past-chart[data-chart=speed] canvas').first()
        .waitFor();
    w.ok((await w.drawn(priv, '.past-chart[data-chart=speed] canvas'))
         .share > 0.01, 'its rider\'s track read with the token');
    [dl] = await Promise.all([
        priv.waitForEvent('download'),
        priv.getByRole('button', { name: 'Download the results as CSV' })
            .click(),
    ]);
    const pcsv = readFileSync(await dl.path(), 'utf8').trim().split(/\r?\n/);
    w.ok(pcsv.length === 3 && /^rank,/.test(pcsv[0]),
         'its CSV downloads with the token', pcsv);
    w.is(dl.suggestedFilename(), w.args.private.race + '-results.csv',
         'named for the race');
    [dl] = await Promise.all([
        priv.waitForEvent('download'),
        priv.getByRole('button', { name: /^GPX track of / }).first().click(),
    ]);
    w.ok(/<trkpt /.test(readFileSync(await dl.path(), 'utf8')),
         'and a GPX track');

    /* a phone */
    const phone = await w.page({ width: 360, height: 740, mobile: true });
    await phone.goto(url);
    await phone.locator('table.past-results tbody tr').nth(2).waitFor();
    await phone.locator('.past-chart[data-chart=speed] canvas').first()
        .waitFor();
    await phone.locator('summary', { hasText: 'Replay' }).click();
    const ps = phone.getByLabel('Replay time');
    await ps.waitFor();
    await ps.fill(String(Math.round(Number(await ps.getAttribute('max'))
                                    / 2000) * 1000));
    const wide = await phone.evaluate(
        () => document.documentElement.scrollWidth);
    w.ok(wide <= 360, 'nothing overflows at 360 px', wide);
    await w.shot(phone, 'results-360', { fullPage: true });
    await w.axe(phone, 'a finished race at 360 px');

    /* My races: logged out, a link to log in and back */
    const me = await w.page({ width: 360, height: 740, mobile: true });
    await me.goto(base + '/me/races');
    const login = me.locator('main').getByRole('link', { name: 'Log in' });
    w.ok(/next=\/me\/races/.test(await login.getAttribute('href')),
         'logged out: a link to log in, back here');
    await login.click();
    await me.getByLabel('Email').fill(rider.email);
    await me.getByLabel('Password').fill(rider.password);
    await me.getByRole('button', { name: 'Log in' }).click();
    const item = me.locator(`li[data-race="${race}"]`);
    await item.waitFor();
    const text = await item.textContent();
    w.ok(/Piazza Criterium/.test(text) && /Finished/.test(text),
         'My races lists the race, finished', text);
    w.is(await item.locator('.my-result dd').first().textContent(),
         String(rank), 'with the rider\'s rank');
    w.ok(/\d+:\d\d/.test(text) && /km\/h/.test(text),
         'its time and average speed', text);
    await item.getByRole('link', { name: 'Piazza Criterium' }).waitFor();
    await w.shot(me, 'myraces-360');
    await w.axe(me, 'My races');

    await w.end({ ok: true });
});
