/* What the pages print: one way to write a distance, a time, a speed. */

export function km(m, digits = 1) {
    if (m == null || !isFinite(m)) {
        return '–';
    }
    return (m / 1000).toFixed(digits) + ' km';
}

export function kmh(mps) {
    if (mps == null || !isFinite(mps)) {
        return '–';
    }
    return (mps * 3.6).toFixed(1) + ' km/h';
}

/* 1:02:03 or 2:03 */
export function duration(s) {
    if (s == null || !isFinite(s)) {
        return '–';
    }
    const neg = s < 0;
    let v = Math.round(Math.abs(s));
    const h = Math.floor(v / 3600);
    v -= h * 3600;
    const m = Math.floor(v / 60);
    const sec = v - m * 60;
    const mm = h ? String(m).padStart(2, '0') : String(m);
    return (neg ? '-' : '') + (h ? h + ':' : '') + mm + ':'
           + String(sec).padStart(2, '0');
}

/* a gap: "+1:05", the leader's "–" */
export function gap(s) {
    if (s == null || !isFinite(s)) {
        return '–';
    }
    if (s === 0) {
        return '0:00';
    }
    return (s > 0 ? '+' : '') + duration(s);
}

/* how old a fix is, for people: "4 s", "3 min", "2 h" */
export function age(ms) {
    if (ms == null || !isFinite(ms)) {
        return '–';
    }
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) {
        return s + ' s';
    }
    if (s < 5400) {
        return Math.round(s / 60) + ' min';
    }
    return Math.round(s / 3600) + ' h';
}

export function clock(t) {
    if (t == null) {
        return '–';
    }
    return new Date(t).toLocaleTimeString([], { hour: '2-digit',
                                                 minute: '2-digit' });
}

export function dateTime(t) {
    if (t == null) {
        return '–';
    }
    return new Date(t).toLocaleString([], { dateStyle: 'medium',
                                            timeStyle: 'short' });
}
