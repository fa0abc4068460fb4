import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, renderHook, screen, waitFor }
    from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import Join, { rideOf, tokenFrom, useWakeLock } from './Join.jsx';

/* a JWT with these claims (unsigned: the page only reads them) */
function jwt(claims) {
    const b64 = o => btoa(JSON.stringify(o)).replace(/\+/g, '-')
        .replace(/\//g, '_').replace(/=+$/, '');
    return b64({ alg: 'HS256', typ: 'JWT' }) + '.' + b64(claims) + '.sig';
}

afterEach(cleanup);

describe('join links', () => {
    const tok = jwt({ aud: 'ride', race: 'r1', sub: 'p7', exp: 2000000000 });

    it('takes the token from a link or alone', () => {
        expect(tokenFrom('https://x.org/join#token=' + tok)).toBe(tok);
        expect(tokenFrom('  ' + tok + '\n')).toBe(tok);
        expect(tokenFrom('https://x.org/races/r1#access=abc')).toBeNull();
        expect(tokenFrom('hello')).toBeNull();
        expect(tokenFrom(null)).toBeNull();
    });

    it('says what a token is for, or why not', () => {
        expect(rideOf(tok, 1e12)).toEqual({ race: 'r1', rider: 'p7',
                                            exp: 2e12, expired: false });
        expect(rideOf(tok, 3e12).expired).toBe(true);
        expect(rideOf(jwt({ aud: 'live', race: 'r1', sub: 'x' })).error)
            .toMatch(/watching/);
        expect(rideOf(jwt({ sub: 'x' })).error).toMatch(/not a rider/);
        expect(rideOf('garbage').error).toMatch(/not a rider/);
    });
});

describe('Join', () => {
    it('without a link: how to join, and a field for one', async () => {
        history.replaceState(null, '', '/join');
        render(<MemoryRouter><Join /></MemoryRouter>);
        expect(await screen.findByRole('heading', { name: 'Ride a race' }))
            .toBeTruthy();
        expect(screen.getByLabelText('Join link')).toBeTruthy();
        expect(screen.getByText(/organizer sends each rider/)).toBeTruthy();
    });

    it('takes a token pasted alone: the form does not refuse it',
       async () => {
        history.replaceState(null, '', '/join');
        render(<MemoryRouter><Join /></MemoryRouter>);
        const field = await screen.findByLabelText('Join link');
        const tok = jwt({ aud: 'ride', race: 'r1', sub: 'p7' });
        fireEvent.change(field, { target: { value: tok } });
        expect(field.value).toBe(tok);
        expect(field.closest('form').checkValidity()).toBe(true);
    });

    it('a damaged link says so, and does not crash', async () => {
        history.replaceState(null, '', '/join#token=%E0');
        render(<MemoryRouter><Join /></MemoryRouter>);
        expect((await screen.findByRole('alert')).textContent)
            .toMatch(/link is\s+damaged/);
        expect(location.hash).toBe('');
        expect(screen.getByLabelText('Join link')).toBeTruthy();
        expect(tokenFrom('https://x.org/join#token=%E0')).toBeNull();
    });
});

describe('wake lock', () => {
    afterEach(() => {
        delete navigator.wakeLock;
    });

    it('a lock the browser let go is asked again on a tap', async () => {
        const locks = [];
        const request = vi.fn(async () => {
            const l = new EventTarget();
            l.released = false;
            l.release = async () => {
                l.released = true;
                l.dispatchEvent(new Event('release'));
            };
            locks.push(l);
            return l;
        });
        Object.defineProperty(navigator, 'wakeLock', {
            value: { request }, configurable: true });
        const { result, unmount } = renderHook(() => useWakeLock(true));
        await waitFor(() => expect(result.current).toBe('on'));
        /* a tap while the lock holds asks nothing */
        fireEvent.pointerDown(document.body);
        expect(request).toHaveBeenCalledTimes(1);
        await locks[0].release();
        await waitFor(() => expect(result.current).toBe('off'));
        fireEvent.pointerDown(document.body);
        await waitFor(() => expect(result.current).toBe('on'));
        expect(request).toHaveBeenCalledTimes(2);
        unmount();
        expect(locks[1].released).toBe(true);
    });
});
