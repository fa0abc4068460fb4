import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveClient } from './live.js';

/* a WebSocket that the test drives */
class FakeSocket {
    static all = [];
    constructor(url) {
        this.url = url;
        FakeSocket.all.push(this);
    }
    close() {}
    open() { this.onopen && this.onopen(); }
    send(m) { this.onmessage({ data: JSON.stringify(m) }); }
    drop(code) { this.onclose({ code }); }
}

describe('LiveClient', () => {
    beforeEach(() => {
        FakeSocket.all = [];
        vi.useFakeTimers();
    });
    afterEach(() => vi.useRealTimers());

    it('merges the snapshot and ticks by rider', () => {
        const seen = [];
        const c = new LiveClient('r1', { WebSocketImpl: FakeSocket,
                                         onChange: s => seen.push(s) });
        c.start();
        const ws = FakeSocket.all[0];
        expect(ws.url).toMatch(/\/live\/r1$/);
        ws.open();
        ws.send({ type: 'snapshot', t: 1, riders: [
            { rider: 'a', bib: '1', dist_m: 10, rank: 1 },
            { rider: 'b', bib: '2', dist_m: 5, rank: 2 }] });
        ws.send({ type: 'tick', t: 2, riders: [
            { rider: 'b', dist_m: 20, rank: 1 },
            { rider: 'a', rank: 2 }] });
        const last = seen.at(-1);
        expect(last.state).toBe('live');
        expect(last.riders.get('b')).toMatchObject({ bib: '2', dist_m: 20,
                                                     rank: 1 });
        expect(last.riders.get('a')).toMatchObject({ dist_m: 10, rank: 2 });
    });

    it('reconnects after a drop and starts again from the snapshot', () => {
        const seen = [];
        const c = new LiveClient('r1', { WebSocketImpl: FakeSocket,
                                         onChange: s => seen.push(s) });
        c.start();
        FakeSocket.all[0].open();
        FakeSocket.all[0].send({ type: 'snapshot', t: 1,
                                 riders: [{ rider: 'a' }] });
        FakeSocket.all[0].drop(1006);
        expect(seen.at(-1).state).toBe('reconnecting');
        vi.advanceTimersByTime(1000);
        expect(FakeSocket.all).toHaveLength(2);
        FakeSocket.all[1].open();
        FakeSocket.all[1].send({ type: 'snapshot', t: 2,
                                 riders: [{ rider: 'b' }] });
        expect([...seen.at(-1).riders.keys()]).toEqual(['b']);
        c.stop();
        expect(seen.at(-1).state).toBe('closed');
    });

    it('ignores what is not JSON or has no rider', () => {
        const c = new LiveClient('r1', { WebSocketImpl: FakeSocket });
        c.start();
        const ws = FakeSocket.all[0];
        ws.onmessage({ data: 'not json' });
        ws.send({ type: 'snapshot', t: 1, riders: [null, { rider: 5 },
                                                   { rider: 'x' }] });
        expect([...c.riders.keys()]).toEqual(['x']);
    });

    /* a fetch that answers the plain GET of /live with a JSON error */
    function answering(status, code) {
        const calls = [];
        const f = (url) => {
            calls.push(url);
            return Promise.resolve({
                status,
                json: () => Promise.resolve(code ? { error: { code,
                    message: code } } : {}),
            });
        };
        return { f, calls };
    }

    it('keeps a revoked link\'s error over refused retries, and asks why',
       async () => {
        const seen = [];
        const { f, calls } = answering(401, 'token_revoked');
        const c = new LiveClient('r1', { token: 'tk', WebSocketImpl:
                                         FakeSocket, fetchImpl: f,
                                         onChange: s => seen.push(s) });
        c.start();
        FakeSocket.all[0].open();
        FakeSocket.all[0].send({ type: 'snapshot', t: 1, riders: [] });
        FakeSocket.all[0].drop(1008);
        expect(seen.at(-1).error).toMatch(/no longer lets you watch/);
        /* the retry is refused before the upgrade: a close before open */
        vi.advanceTimersByTime(1000);
        FakeSocket.all[1].drop(1006);
        expect(seen.at(-1).error).toMatch(/no longer lets you watch/);
        expect(calls).toHaveLength(0);
        vi.advanceTimersByTime(2000);
        FakeSocket.all[2].drop(1006);
        await vi.advanceTimersByTimeAsync(0);
        expect(calls).toEqual(['/live/r1?access_token=tk']);
        expect(seen.at(-1).error).toMatch(/revoked/);
        expect(seen.at(-1).state).toBe('reconnecting');
        /* and retried only slowly: nothing within 50 s */
        await vi.advanceTimersByTimeAsync(50000);
        expect(FakeSocket.all).toHaveLength(3);
        await vi.advanceTimersByTimeAsync(10000);
        expect(FakeSocket.all).toHaveLength(4);
        c.stop();
    });

    it('says a private race needs a link after two refused upgrades',
       async () => {
        const seen = [];
        const { f, calls } = answering(401, 'missing_token');
        const c = new LiveClient('r1', { WebSocketImpl: FakeSocket,
                                         fetchImpl: f,
                                         onChange: s => seen.push(s) });
        c.start();
        FakeSocket.all[0].drop(1006);
        expect(seen.at(-1).error).toBe(null);
        vi.advanceTimersByTime(1000);
        FakeSocket.all[1].drop(1006);
        await vi.advanceTimersByTimeAsync(0);
        expect(calls).toEqual(['/live/r1']);
        expect(seen.at(-1).error).toMatch(/spectator link/);
        /* the error goes only when a snapshot arrives */
        await vi.advanceTimersByTimeAsync(60000);
        FakeSocket.all[2].open();
        expect(seen.at(-1).error).toMatch(/spectator link/);
        FakeSocket.all[2].send({ type: 'snapshot', t: 1, riders: [] });
        expect(seen.at(-1)).toMatchObject({ state: 'live', error: null });
        c.stop();
    });

    it('says a busy server and retries it as usual', async () => {
        const seen = [];
        const { f } = answering(503, 'unavailable');
        const c = new LiveClient('r1', { WebSocketImpl: FakeSocket,
                                         fetchImpl: f,
                                         onChange: s => seen.push(s) });
        c.start();
        FakeSocket.all[0].drop(1006);
        vi.advanceTimersByTime(1000);
        FakeSocket.all[1].drop(1006);
        await vi.advanceTimersByTimeAsync(0);
        expect(seen.at(-1).error).toMatch(/busy/);
        await vi.advanceTimersByTimeAsync(4000);
        expect(FakeSocket.all).toHaveLength(3);
        c.stop();
    });
});
