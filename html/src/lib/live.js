import { wsUrl } from './api.js';

/*
 * A spectator's socket on /live/{race} (PROTOCOL.md): the snapshot,
 * then ticks of the riders that changed, merged into one Map by rider
 * id.  The socket comes back by itself after a drop (1 s, doubling to
 * 15 s, with jitter); each new socket starts with a new snapshot, so
 * nothing is replayed.  A browser hides why an upgrade was refused (it
 * sees a close before open), so after two such closes in a row the same
 * URL is asked over plain HTTP, where the refusal is a JSON error: a
 * private race without a good link (401, 403) is said and retried only
 * every minute; a busy server (503) is said and retried as usual.  The
 * error stays until a snapshot arrives.
 *
 *   const live = new LiveClient(race, { token, onChange });
 *   live.start(); ... live.stop();
 *
 * onChange({ riders, state, t, error }) gets the whole picture each
 * time; state is "connecting", "live", "reconnecting" or "closed".
 */

export class LiveClient {
    constructor(race, { token, onChange, WebSocketImpl, fetchImpl } = {}) {
        this.race = race;
        this.token = token;
        this.onChange = onChange || (() => {});
        this.WS = WebSocketImpl || globalThis.WebSocket;
        this.fetch = fetchImpl || ((...a) => globalThis.fetch(...a));
        this.riders = new Map();
        this.state = 'connecting';
        this.t = null;
        this.error = null;
        this.tries = 0;
        this.ws = null;
        this.timer = null;
        this.stopped = false;
        this.opened = false;
        /* upgrades refused in a row, and whether to retry only slowly */
        this.refused = 0;
        this.slow = false;
        this.asking = null;
    }

    start() {
        this.stopped = false;
        this.connect();
    }

    stop() {
        this.stopped = true;
        clearTimeout(this.timer);
        if (this.asking) {
            this.asking.abort();
            this.asking = null;
        }
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
            this.refused = 0;
            this.slow = false;
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
            if (ev.code === 1008) {
                this.error = 'This link no longer lets you watch the race.';
            }
            if (this.opened) {
                this.retry();
                return;
            }
            /* the error said before stays: the retry failed for it */
            this.refused++;
            if (this.refused >= 2) {
                this.ask();
            } else {
                this.retry();
            }
        };
    }

    /* why the upgrade is refused: the same URL without the upgrade */
    ask() {
        const ac = new AbortController();
        let url = '/live/' + encodeURIComponent(this.race);
        if (this.token) {
            url += '?access_token=' + encodeURIComponent(this.token);
        }
        this.asking = ac;
        this.set('reconnecting');
        this.fetch(url, { headers: { Accept: 'application/json' },
                          credentials: 'same-origin', signal: ac.signal })
            .then(async (res) => {
                let body = null;
                try {
                    body = await res.json();
                } catch {
                    body = null;
                }
                return { status: res.status,
                         code: body && body.error && body.error.code };
            }, () => ({ status: 0, code: null }))
            .then(({ status, code }) => {
                if (ac.signal.aborted || this.stopped) {
                    return;
                }
                this.asking = null;
                this.refusal(status, code);
                this.retry();
            });
    }

    refusal(status, code) {
        this.slow = false;
        if (code === 'token_revoked') {
            this.error = 'This link was revoked: it no longer lets you '
                + 'watch the race. Ask its organizer for a new one.';
            this.slow = true;
        } else if (status === 401 || status === 403) {
            this.error = 'This private race is watched with a spectator '
                + 'link (its organizer makes one).';
            this.slow = true;
        } else if (status === 404) {
            this.error = 'There is no such race to watch.';
            this.slow = true;
        } else if (status === 503) {
            this.error = 'The server is busy; retrying.';
        }
        /* anything else (426: the door is open; 0: no answer) says
         * nothing new: the connection state says it is lost */
    }

    message(m) {
        if (m.type === 'snapshot') {
            /* a new socket: the snapshot is the whole truth */
            this.riders = new Map();
            this.tries = 0;
            this.refused = 0;
            this.slow = false;
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
        const base = this.slow ? 60000
            : Math.min(15000, 1000 * 2 ** Math.min(this.tries - 1, 4));
        const wait = this.slow ? base * (0.9 + Math.random() * 0.1)
            : base / 2 + Math.random() * base / 2;
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
