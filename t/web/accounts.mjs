/* t/web_accounts.t's browser: sign up, log out, log in, the race list. */

import { run, start } from './lib.mjs';

run(async () => {
    const w = await start();
    const { base, organizer, races } = w.args;

    /* a visitor signs up */
    const page = await w.page({ width: 360, height: 740, mobile: true });
    await page.goto(base + '/');
    await page.getByRole('heading', { name: 'Races' }).waitFor();
    /* the heading comes before the list's answer: wait for the race */
    await w.sees(page.getByText('Notturna'),
                 'the live race is in the list of live races');
    await w.shot(page, 'races-360');
    await w.axe(page, 'the race list at 360 px');

    await page.getByRole('link', { name: 'Sign up' }).click();
    await page.getByLabel('Name').waitFor();
    await w.axe(page, 'sign up');
    await page.getByLabel('Name').fill('Sam Spectator');
    await page.getByLabel('Email').fill('sam@example.org');
    await page.getByLabel('Password').fill('password');
    await page.getByRole('button', { name: 'Create account' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    w.ok(/common|password/i.test(await alert.innerText()),
         'a common password is refused with the reason');

    await page.getByLabel('Password').fill('a long pass phrase of Sam');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Sam Spectator').waitFor();
    w.ok(await page.getByText('spectator', { exact: true }).isVisible(),
         'signed up: the name and the role show');
    w.ok(!(await page.getByRole('link', { name: 'Organize' }).count()),
         'a spectator has no Organize');

    /* the session survives a reload (the cookie), and logs out */
    await page.reload();
    await page.getByText('Sam Spectator').waitFor();
    w.ok(true, 'still logged in after a reload');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).waitFor();
    w.ok(true, 'logged out');

    /* tabs and search */
    const upcoming = page.getByRole('button', { name: 'Upcoming' });
    await upcoming.click();
    w.is(await upcoming.getAttribute('aria-pressed'), 'true',
         'the list says which races it shows');
    await page.getByText('Coppa Collina').waitFor();
    w.ok(await page.getByText('Giro del Parco').isVisible(),
         'both upcoming races are listed');
    await page.getByRole('searchbox', { name: 'Search races' })
        .fill('giro');
    await w.until(async () =>
        !(await page.getByText('Coppa Collina').count()), 10);
    w.ok(await page.getByText('Giro del Parco').isVisible()
         && !(await page.getByText('Coppa Collina').count()),
         'the search keeps the matching race only');

    /* the organizer logs in and may organize */
    const desk = await w.page({ width: 1280, height: 800 });
    await desk.goto(base + '/login');
    await desk.getByLabel('Email').fill(organizer.email);
    await desk.getByLabel('Password').fill('wrong password here');
    await desk.getByRole('button', { name: 'Log in' }).click();
    await desk.getByRole('alert').waitFor();
    w.ok(true, 'a wrong password says so');
    await desk.getByLabel('Password').fill(organizer.password);
    await desk.getByRole('button', { name: 'Log in' }).click();
    await desk.getByRole('link', { name: 'Organize' }).waitFor();
    w.ok(await desk.getByText('organizer', { exact: true }).isVisible(),
         'the organizer sees Organize and the role');
    await w.shot(desk, 'races-1280');
    await w.axe(desk, 'the race list at 1280 px, logged in');

    /* an old link, /?race=ID, opens that race */
    await desk.goto(base + '/?race=' + races.Notturna);
    await desk.waitForURL('**/races/' + races.Notturna);
    w.ok(true, '/?race= opens the race page');

    await w.end();
});
