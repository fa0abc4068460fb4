import { wsUrl } from './api.js';

/*
 * A spectator's socket on /live/{race} (PROTOCOL.md): the snapshot,
 * then ticks of the riders that changed, merged into one Map by rider
 * id.  The socket comes back by itself after a drop (1 s, doubling to
 * 15 s, with jitter); each new socket starts with a new snapshot, so
 * nothing is replayed.  A close that will not get better by retrying
 * (a bad or revoked token: 1008, or 401/403 before the upgrade, which a
 * browser sees as a close before open) is retried slowly and said.
 *
 *   const live = new LiveClient(race, { token, onChange });
 *   live.start(); ... live.stop();
 *
 * onChange({ riders, state, t, error }) gets the whole picture each
 * time; state is "connecting", "live", "reconnecting" or "closed".
 */

export class LiveClient {
    constructor(race, { token, onChange, WebSocketImpl } = {}) {
        this.race = race;
        this.token = token;
        this.onChange = onChange || (() => {});
        this.WS = WebSocketImpl || globalThis.WebSocket;
        this.riders = new Map();
        this.state = 'connecting';
        this.t = null;
        this.error = null;
        this.tries = 0;
        this.ws = null;
        this.timer = null;
        this.stopped = false;
        this.opened = false;
    }

    start() {
        this.stopped = false;
        this.connect();
    }

    stop() {
        this.stopped = true;
        clearTimeout(this.timer);
        if (this.ws) {
            this.ws.onclose = null;
            this.ws.close(1000);
            this.ws = null;
        }
        this.set('closed');
    }

    connect() {
        const ws = new this.WS(wsUrl('/live/' + encodeURIComponent(this.race),
                                     this.token));
        this.ws = ws;
        this.opened = false;

        ws.onopen = () => {
            this.opened = true;
        };

        ws.onmessage = (ev) => {
            let m;
            try {
                m = JSON.parse(ev.data);
            } catch {
                return;
            }
            this.message(m);
        };

        ws.onclose = (ev) => {
            this.ws = null;
            if (this.stopped) {
                return;
            }
            if (ev.code === 1008 || !this.opened) {
                this.error = ev.code === 1008
                    ? 'This link no longer lets you watch the race.'
                    : null;
            }
            this.retry();
        };
    }

    message(m) {
        if (m.type === 'snapshot') {
            /* a new socket: the snapshot is the whole truth */
            this.riders = new Map();
            this.tries = 0;
            this.error = null;
            this.merge(m.riders || []);
            this.t = m.t;
            this.set('live');

        } else if (m.type === 'tick') {
            this.merge(m.riders || []);
            this.t = m.t;
            this.emit();
        }
    }

    merge(states) {
        for (const s of states) {
            if (!s || typeof s.rider !== 'string') {
                continue;
            }
            const old = this.riders.get(s.rider);
            this.riders.set(s.rider, old ? { ...old, ...s } : s);
        }
    }

    retry() {
        this.tries++;
        const base = Math.min(15000, 1000 * 2 ** Math.min(this.tries - 1, 4));
        const wait = base / 2 + Math.random() * base / 2;
        this.set('reconnecting');
        this.timer = setTimeout(() => this.connect(), wait);
    }

    set(state) {
        this.state = state;
        this.emit();
    }

    emit() {
        this.onChange({ riders: this.riders, state: this.state, t: this.t,
                        error: this.error });
    }
}
