import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { AuthProvider } from '../lib/auth.jsx';
import MyRaces from './MyRaces.jsx';

function serve(routes) {
    globalThis.fetch = vi.fn(async (url) => {
        const [status, body] = routes[url] || [404, { error: {
            code: 'not_found', message: 'no' } }];
        return new Response(JSON.stringify(body), { status,
            headers: { 'Content-Type': 'application/json' } });
    });
}

function show() {
    render(<MemoryRouter><AuthProvider><MyRaces /></AuthProvider>
           </MemoryRouter>);
}

afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
});

describe('MyRaces', () => {
    it('logged out: a link to log in and come back', async () => {
        serve({ '/api/me': [401, { error: { code: 'unauthorized',
                                            message: 'log in' } }] });
        show();
        const link = await screen.findByRole('link', { name: 'Log in' });
        expect(link.getAttribute('href')).toBe('/login?next=/me/races');
    });

    it('lists the races with the caller\'s result, or none yet', async () => {
        serve({
            '/api/me': [200, { user: { id: 'u1', name: 'Rita' } }],
            '/api/me/results': [200, { races: [
                { race: { id: 'r2', name: 'Giro', status: 'scheduled',
                          start_at: 1767261600000 },
                  rider: { id: 'x', bib: '4', name: 'Rita' }, result: null },
                { race: { id: 'r1', name: 'Coppa', status: 'finished',
                          started_at: 1767261600000 },
                  rider: { id: 'y', bib: '1', name: 'Rita' },
                  result: { rank: 2, finish_s: 3725, dist_m: 30000,
                            avg_mps: 8.05 } },
                { race: null },
            ] }],
        });
        show();
        const coppa = await screen.findByRole('link', { name: 'Coppa' });
        expect(coppa.getAttribute('href')).toBe('/races/r1');
        const item = coppa.closest('li');
        expect(item.textContent).toMatch(/Rank2/);
        expect(item.textContent).toMatch(/1:02:05/);
        expect(item.textContent).toMatch(/29\.0 km\/h/);
        expect(screen.getByRole('link', { name: 'Giro' }).closest('li')
            .textContent).toMatch(/Not started/);
    });
});
